"""Matching: a presence event becomes exactly the right alerts, or none, on both databases."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from maitre.db import session_scope
from maitre.hospitality.arrivals import Arrivals, ArrivalWindow
from maitre.models import (
    Alert,
    Band,
    Guest,
    Preference,
    PreOrderItem,
    Reservation,
    ReservationStatus,
    Venue,
)
from maitre.presence import PresenceEvent

BAND = "band:0011223344556677"
WINDOW = ArrivalWindow(early=timedelta(minutes=60), late=timedelta(minutes=90))


def seed(
    engine: Engine,
    consent: bool = True,
    reservation_in: timedelta = timedelta(0),
    items: bool = True,
    status: ReservationStatus = ReservationStatus.EXPECTED,
) -> int:
    with session_scope(engine) as s:
        venue = Venue(slug="bistro", name="Bistro")
        guest = Guest(
            first_name="Sarah",
            last_name="Chen",
            consent_greeting=consent,
            consent_kitchen=consent,
            consent_allergies=consent,
        )
        s.add_all([venue, guest])
        s.flush()
        s.add(Preference(guest_id=guest.id, preferred_name="Sadie", allergies=["peanuts"]))
        s.add(Band(advertiser_id=BAND, guest_id=guest.id))
        r = Reservation(
            venue_id=venue.id,
            guest_id=guest.id,
            party_size=2,
            at=datetime.now(UTC) + reservation_in,
            status=status,
        )
        s.add(r)
        s.flush()
        if items:
            s.add(PreOrderItem(reservation_id=r.id, name="Duck confit", quantity=2, prep_minutes=18))
        assert r.id is not None
        return r.id


def arrived(at: float | None = None, band: str = BAND) -> PresenceEvent:
    at = datetime.now(UTC).timestamp() if at is None else at
    return PresenceEvent("bistro", band, "arrived", at, "door", 1.2, 0.9)


def test_arrival_greets_by_preferred_name_and_starts_the_kitchen(engine: Engine) -> None:
    reservation_id = seed(engine)
    alerts = Arrivals(engine, WINDOW).handle(arrived())
    assert [(a.role, a.kind) for a in alerts] == [("host", "greet"), ("kitchen", "kitchen_start")]
    greet, ticket = alerts
    assert greet.payload["name"] == "Sadie" and greet.payload["allergies"] == ["peanuts"]
    assert [
        {k: v for k, v in i.items() if k != "id"} for i in ticket.payload["items"]  # type: ignore[attr-defined]
    ] == [{"name": "Duck confit", "quantity": 2, "prep_minutes": 18, "modifiers": [], "course": None}]
    assert [a.seq for a in alerts] == [1, 2]
    with session_scope(engine) as s:
        r = s.get(Reservation, reservation_id)
        assert r is not None and r.status == ReservationStatus.ARRIVED and r.arrived_at is not None


def test_repeated_arrivals_alert_once(engine: Engine) -> None:
    seed(engine)
    arrivals = Arrivals(engine, WINDOW)
    assert len(arrivals.handle(arrived())) == 2
    for _ in range(3):
        assert arrivals.handle(arrived()) == []


def test_concurrent_arrivals_alert_once(engine: Engine) -> None:
    seed(engine)
    arrivals = Arrivals(engine, WINDOW)
    results: list[int] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        try:
            results.append(len(arrivals.handle(arrived())))
        except Exception:  # a writer that lost the race may fail; it must not double-alert
            results.append(0)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with session_scope(engine) as s:
        kinds = sorted(a.kind for a in s.exec(select(Alert)))
    assert kinds == ["greet", "kitchen_start"]


def test_guest_without_consent_is_not_greeted(engine: Engine) -> None:
    seed(engine, consent=False)
    assert Arrivals(engine, WINDOW).handle(arrived()) == []


def test_unknown_band_is_not_greeted(engine: Engine) -> None:
    seed(engine)
    assert Arrivals(engine, WINDOW).handle(arrived(band="band:ffffffffffffffff")) == []


@pytest.mark.parametrize("offset", [timedelta(hours=3), timedelta(hours=-3)])
def test_guest_with_no_reservation_near_now_is_not_greeted(engine: Engine, offset: timedelta) -> None:
    seed(engine, reservation_in=offset)
    assert Arrivals(engine, WINDOW).handle(arrived()) == []


def test_seated_party_is_not_greeted_again(engine: Engine) -> None:
    seed(engine, status=ReservationStatus.SEATED)
    assert Arrivals(engine, WINDOW).handle(arrived()) == []


def test_no_preorder_means_no_kitchen_ticket(engine: Engine) -> None:
    seed(engine, items=False)
    assert [a.kind for a in Arrivals(engine, WINDOW).handle(arrived())] == ["greet"]


def test_approaching_then_arrived_keeps_one_sequence(engine: Engine) -> None:
    reservation_id = seed(engine)
    arrivals = Arrivals(engine, WINDOW)
    now = datetime.now(UTC).timestamp()
    first = arrivals.handle(PresenceEvent("bistro", BAND, "approaching", now, "street", 8.0, 0.7))
    assert [a.kind for a in first] == ["approaching"]
    with session_scope(engine) as s:
        r = s.get(Reservation, reservation_id)
        assert r is not None and r.status == ReservationStatus.APPROACHING
    later = arrivals.handle(arrived(now + 5))
    assert [a.seq for a in first + later] == [1, 2, 3]
