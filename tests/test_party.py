"""Parties: several bands, one reservation; greeted once, counted as they come, consent per guest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from maitre.db import session_scope
from maitre.hospitality.arrivals import AlertRules, Arrivals, ArrivalWindow
from maitre.models import (
    Band,
    Guest,
    PartyMember,
    Preference,
    PreOrderItem,
    Reservation,
    ReservationStatus,
    Venue,
    row_id,
)
from maitre.presence import PresenceEvent
from tests.conftest import live_service
from tests.factories import seed_guest, seed_venue

WINDOW = ArrivalWindow(early=timedelta(minutes=60), late=timedelta(minutes=90))


def band(name: str) -> str:
    return f"band:{sum(map(ord, name)):016x}"


def seed_party(
    engine: Engine,
    members: tuple[tuple[str, bool, bool], ...] = (("Sarah", True, True), ("Tom", True, True)),
    items: tuple[tuple[str, int], ...] = (),
    party_size: int = 4,
) -> int:
    """A reservation booked by the first member; (name, greeting consent, kitchen consent) each."""
    with session_scope(engine) as s:
        venue = Venue(slug="bistro", name="Bistro")
        s.add(venue)
        s.flush()
        guests = []
        for name, greeting, kitchen in members:
            g = Guest(
                first_name=name,
                last_name="Doe",
                consent_greeting=greeting,
                consent_kitchen=kitchen,
                consent_allergies=True,
            )
            s.add(g)
            s.flush()
            s.add(Preference(guest_id=g.id, allergies=[f"{name.lower()}-allergy"]))
            s.add(Band(advertiser_id=band(name), guest_id=g.id))
            guests.append(g)
        r = Reservation(
            venue_id=row_id(venue), guest_id=row_id(guests[0]), party_size=party_size, at=datetime.now(UTC)
        )
        s.add(r)
        s.flush()
        for g in guests[1:]:
            s.add(PartyMember(reservation_id=row_id(r), guest_id=row_id(g)))
        for name, prep in items:
            s.add(PreOrderItem(reservation_id=row_id(r), name=name, prep_minutes=prep))
        return row_id(r)


def event(name: str, kind: str = "arrived", distance: float = 1.2) -> PresenceEvent:
    return PresenceEvent("bistro", band(name), kind, datetime.now(UTC).timestamp(), "door", distance, 0.9)  # type: ignore[arg-type]


def status(engine: Engine, reservation_id: int) -> ReservationStatus:
    with session_scope(engine) as s:
        r = s.get(Reservation, reservation_id)
        assert r is not None
        return r.status


def test_first_member_greets_the_party_and_later_ones_update_it(engine: Engine) -> None:
    rid = seed_party(engine, (("Sarah", True, True), ("Tom", True, True), ("Ana", True, True)))
    arrivals = Arrivals(engine, WINDOW)

    first = arrivals.handle(event("Tom"))
    assert [a.kind for a in first] == ["greet"]
    greet = first[0].payload
    assert greet["name"] == "Tom" and greet["arrived"] == 1 and greet["status"] == "partially_arrived"
    assert greet["members"] == [
        {"name": "Sarah", "arrived": False},
        {"name": "Tom", "arrived": True},
        {"name": "Ana", "arrived": False},
    ]
    assert status(engine, rid) == ReservationStatus.PARTIALLY_ARRIVED

    second = arrivals.handle(event("Sarah"))
    assert [(a.kind, a.payload["name"], a.payload["arrived"]) for a in second] == [
        ("party_update", "Sarah", 2)
    ]
    assert arrivals.handle(event("Sarah")) == []  # heard at the door again: nothing new
    assert status(engine, rid) == ReservationStatus.PARTIALLY_ARRIVED

    last = arrivals.handle(event("Ana"))
    assert [(a.kind, a.payload["status"], a.payload["arrived"]) for a in last] == [
        ("party_update", "arrived", 3)
    ]
    assert status(engine, rid) == ReservationStatus.ARRIVED
    assert [a.seq for a in first + second + last] == [1, 2, 3]


def test_member_without_greeting_consent_is_counted_but_never_named(engine: Engine) -> None:
    seed_party(engine, (("Sarah", True, True), ("Lars", False, True)))
    arrivals = Arrivals(engine, WINDOW)
    # Lars reaches the door first: he is counted, but no one is greeted and he is not named.
    first = arrivals.handle(event("Lars"))
    assert [a.kind for a in first] == ["party_update"]
    assert first[0].payload["name"] is None
    assert first[0].payload["members"] == [
        {"name": "Sarah", "arrived": False},
        {"name": None, "arrived": True},
    ]
    greet = arrivals.handle(event("Sarah"))
    assert [a.kind for a in greet] == ["greet"]
    assert greet[0].payload["name"] == "Sarah"
    assert "Lars" not in str(greet[0].payload)
    # Allergies on the greet card come only from members who consented to greeting.
    assert greet[0].payload["allergies"] == ["sarah-allergy"]


def test_expected_bands_are_the_open_reservations_bookers_and_party_members(engine: Engine) -> None:
    rid = seed_party(engine, (("Sarah", True, True), ("Tom", True, True)))
    with session_scope(engine) as s:
        s.add(Band(advertiser_id=band("Nobody")))  # a band no guest wears
    arrivals = Arrivals(engine, WINDOW)
    now = datetime.now(UTC).timestamp()
    assert arrivals.expected_bands("bistro", now, now) == {band("Sarah"), band("Tom")}
    assert arrivals.expected_bands("elsewhere", now, now) == set()
    far = now + 3 * 3600  # past the window for a reservation booked for now
    assert arrivals.expected_bands("bistro", far, far) == set()
    with session_scope(engine) as s:
        r = s.get(Reservation, rid)
        assert r is not None
        r.status = ReservationStatus.NO_SHOW
    assert arrivals.expected_bands("bistro", now, now) == set()


def test_party_member_arriving_starts_the_kitchen_once(engine: Engine) -> None:
    seed_party(engine, items=(("Burrata", 5),))
    arrivals = Arrivals(engine, WINDOW)
    kinds = [a.kind for a in arrivals.handle(event("Tom")) + arrivals.handle(event("Sarah"))]
    assert kinds == ["greet", "kitchen_start", "party_update"]


def test_approaching_carries_an_eta_at_walking_pace(engine: Engine) -> None:
    seed_party(engine)
    alerts = Arrivals(engine, WINDOW).handle(event("Sarah", "approaching", distance=13.0))
    assert [a.kind for a in alerts] == ["approaching"]
    assert alerts[0].payload["distance_m"] == 13.0
    assert alerts[0].payload["eta_s"] == 10.0  # 13 m at 1.3 m/s


def test_slow_dishes_start_on_approach_and_the_rest_fire_on_arrival(engine: Engine) -> None:
    seed_party(engine, items=(("Beef Wellington", 40), ("Burrata", 5)))
    arrivals = Arrivals(engine, WINDOW, AlertRules(kitchen_on_approach_minutes=25))
    approach = arrivals.handle(event("Sarah", "approaching", distance=30.0))
    assert [a.kind for a in approach] == ["approaching", "kitchen_start"]
    ticket = approach[1].payload
    assert ticket["started_on"] == "approach"
    assert [i["name"] for i in ticket["items"]] == ["Beef Wellington"]
    assert [i["name"] for i in ticket["held"]] == ["Burrata"]
    arrived = arrivals.handle(event("Sarah"))
    assert [a.kind for a in arrived] == ["greet", "kitchen_fire"]
    assert [i["name"] for i in arrived[1].payload["items"]] == ["Burrata"]
    # Tom arriving later fires nothing more.
    assert [a.kind for a in arrivals.handle(event("Tom"))] == ["party_update"]


def test_nothing_slow_enough_means_the_kitchen_waits_for_arrival(engine: Engine) -> None:
    seed_party(engine, items=(("Duck confit", 18),))
    arrivals = Arrivals(engine, WINDOW, AlertRules(kitchen_on_approach_minutes=25))
    assert [a.kind for a in arrivals.handle(event("Sarah", "approaching", 20.0))] == ["approaching"]
    arrived = arrivals.handle(event("Sarah"))
    assert [a.kind for a in arrived] == ["greet", "kitchen_start"]
    assert arrived[1].payload["started_on"] == "arrival" and arrived[1].payload["held"] == []


@pytest.mark.parametrize(("earlier", "vip"), [(0, False), (2, False), (3, True)])
def test_visit_count_and_vip_tag(engine: Engine, earlier: int, vip: bool) -> None:
    rid = seed_party(engine, (("Sarah", True, True),))
    with session_scope(engine) as s:
        r = s.get(Reservation, rid)
        assert r is not None
        for weeks in range(1, earlier + 1):
            s.add(
                Reservation(
                    venue_id=r.venue_id,
                    guest_id=r.guest_id,
                    party_size=2,
                    at=r.at - timedelta(weeks=weeks),
                    status=ReservationStatus.COMPLETED,
                )
            )
        # A no-show is not a visit.
        s.add(
            Reservation(
                venue_id=r.venue_id,
                guest_id=r.guest_id,
                party_size=2,
                at=r.at - timedelta(days=1),
                status=ReservationStatus.NO_SHOW,
            )
        )
    greet = Arrivals(engine, WINDOW, AlertRules(vip_visits=3)).handle(event("Sarah"))[0].payload
    assert (greet["visits"], greet["vip"]) == (earlier, vip)


async def test_party_members_are_added_through_the_api(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah")
        tom = await seed_guest(client, venue_id, "Tom", reservation_in=None)
        path = f"/api/reservations/{sarah.reservation_id}/party"
        r = await client.post(path, json={"guest_id": tom.guest_id})
        assert r.status_code == 201
        assert (await client.post(path, json={"guest_id": tom.guest_id})).status_code == 409
        assert (await client.post(path, json={"guest_id": sarah.guest_id})).status_code == 409
        assert (await client.post(path, json={"guest_id": 999})).status_code == 404
        listed = (await client.get(path)).json()
        assert listed == [{"reservation_id": sarah.reservation_id, "guest_id": tom.guest_id}]
