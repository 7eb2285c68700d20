"""Guests are seen only through the venues in their scope; consent changes and profile reads are recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from maitre.db import session_scope
from maitre.models import ConsentEvent, Reservation, StaffRead, Venue
from tests.conftest import LiveService, live_service
from tests.factories import SeededGuest, seed_guest, seed_venue

CAFE_BAND = "band:00000000000ca5e1"


async def bistro_guest(live: LiveService) -> tuple[int, SeededGuest]:
    """Seed the bistro with a guest with an allergy, and the cafe as the attacker's venue."""
    async with live.client(venue="bistro") as bistro, live.client(venue="cafe") as cafe:
        venue_id = await seed_venue(bistro, "bistro")
        await seed_venue(cafe, "cafe")
        return venue_id, await seed_guest(bistro, venue_id, "Sarah", allergies=("peanut",))


def reads_of(engine: Engine, guest_id: int) -> list[tuple[str, str]]:
    with session_scope(engine) as session:
        rows = session.exec(select(StaffRead).where(StaffRead.guest_id == guest_id)).all()
        return [(r.venue, r.what) for r in rows]


async def test_another_venues_manager_cannot_read_or_change_a_guest(engine: Engine) -> None:
    async with live_service(engine, None) as live:
        _, sarah = await bistro_guest(live)
        gid = sarah.guest_id
        body = {"first_name": "Sarah", "last_name": "Test", "consent_greeting": True}
        async with live.client(venue="cafe") as cafe:
            refused = [
                await cafe.get(f"/api/guests/{gid}"),
                await cafe.get(f"/api/guests/{gid}/preferences"),
                await cafe.put(f"/api/guests/{gid}", json=body),
                await cafe.put(f"/api/guests/{gid}/preferences", json={"allergies": []}),
                await cafe.get("/api/bands", params={"guest_id": gid}),
                await cafe.post("/api/bands", json={"advertiser_id": CAFE_BAND, "guest_id": gid}),
                await cafe.post("/api/venues/cafe/reservations", json=booking(gid)),
                await cafe.get(f"/api/venues/cafe/guests/{gid}/profile"),
                await cafe.post(f"/api/venues/cafe/guests/{gid}/erase"),
            ]
            # Exactly what a guest that does not exist answers: nothing says the guest is real.
            ghost = await cafe.get("/api/guests/999999")
            listed = (await cafe.get("/api/bands")).json()
        assert [r.status_code for r in refused] == [404] * len(refused)
        assert ghost.status_code == 404
        assert sarah.advertiser_id not in {b["advertiser_id"] for b in listed}
        async with live.client(venue="bistro") as bistro:
            bands = (await bistro.get("/api/bands", params={"guest_id": gid})).json()
            prefs = (await bistro.get(f"/api/guests/{gid}/preferences")).json()
        # Nothing the cafe tried changed anything, and the bistro still works with its guest.
        assert [b["advertiser_id"] for b in bands] == [sarah.advertiser_id]
        assert prefs["allergies"] == ["peanut"]


def booking(guest_id: int) -> dict[str, object]:
    return {"guest_id": guest_id, "party_size": 2, "at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}


async def test_a_guest_booked_at_two_venues_is_seen_by_both_without_the_others_visits(engine: Engine) -> None:
    async with live_service(engine, None) as live:
        _, sarah = await bistro_guest(live)
        gid = sarah.guest_id
        async with live.client(venue="bistro") as bistro:
            seated = await bistro.patch(
                f"/api/reservations/{sarah.reservation_id}", json={"status": "seated"}
            )
            assert seated.status_code == 200
            at_bistro = (await bistro.get(f"/api/venues/bistro/guests/{gid}/profile")).json()
        assert len(at_bistro["visits"]) == 1
        # The guest's own booking at the cafe (stored as the demo seed stores one) shares them.
        with session_scope(engine) as session:
            cafe_id = session.exec(select(Venue.id).where(Venue.slug == "cafe")).one()
            session.add(Reservation(venue_id=cafe_id, guest_id=gid, party_size=2, at=datetime.now(UTC)))
        async with live.client(venue="cafe") as cafe:
            assert (await cafe.get(f"/api/guests/{gid}")).status_code == 200
            profile = (await cafe.get(f"/api/venues/cafe/guests/{gid}/profile")).json()
        assert profile["visits"] == []  # the bistro visit is the bistro's


async def test_consent_changed_by_staff_is_recorded_as_consent_events(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client(venue="bistro") as bistro:
        await seed_venue(bistro, "bistro")
        made = await bistro.post(
            "/api/guests", json={"first_name": "Ana", "last_name": "Test", "consent_greeting": True}
        )
        gid = made.json()["id"]
        changed = await bistro.put(
            f"/api/guests/{gid}",
            json={
                "first_name": "Ana",
                "last_name": "Test",
                "consent_greeting": False,
                "consent_kitchen": True,
            },
        )
        assert changed.status_code == 200
        record = (await bistro.get(f"/api/venues/bistro/guests/{gid}/consents")).json()
    assert [(e["purpose"], e["granted"], e["source"]) for e in record] == [
        ("greeting", True, "staff"),
        ("greeting", False, "staff"),
        ("kitchen", True, "staff"),
    ]
    with session_scope(engine) as session:
        assert len(session.exec(select(ConsentEvent).where(ConsentEvent.guest_id == gid)).all()) == 3


async def test_every_staff_read_of_a_guest_is_logged(engine: Engine) -> None:
    async with live_service(engine, None) as live:
        _, sarah = await bistro_guest(live)
        gid = sarah.guest_id
        async with live.client(venue="bistro") as bistro:
            for path in (f"/api/guests/{gid}", f"/api/guests/{gid}/preferences"):
                assert (await bistro.get(path)).status_code == 200
            assert (await bistro.get(f"/api/venues/bistro/guests/{gid}/profile")).status_code == 200
    assert sorted(reads_of(engine, gid)) == [
        ("bistro", "guest"),
        ("bistro", "preferences"),
        ("bistro", "profile"),
    ]


async def test_preferences_show_allergies_only_with_allergy_consent(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client(venue="bistro") as bistro:
        venue_id = await seed_venue(bistro, "bistro")
        sarah = await seed_guest(bistro, venue_id, "Sarah", consent=False, allergies=("peanut",))
        prefs = (await bistro.get(f"/api/guests/{sarah.guest_id}/preferences")).json()
        assert prefs["allergies"] is None and prefs["dietary"] is None
        assert prefs["preferred_name"] == "Sarah"


async def test_a_manager_still_books_and_bands_their_own_guests(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client(venue="bistro") as bistro:
        venue_id = await seed_venue(bistro, "bistro")
        sarah = await seed_guest(bistro, venue_id, "Sarah")
        made = await bistro.post("/api/venues/bistro/reservations", json=booking(sarah.guest_id))
        banded = await bistro.post(
            "/api/bands", json={"advertiser_id": CAFE_BAND, "guest_id": sarah.guest_id}
        )
        assert made.status_code == 201 and banded.status_code == 201


async def test_an_erased_guest_can_be_read_as_a_tombstone_but_not_written(engine: Engine) -> None:
    async with live_service(engine, None) as live:
        _, sarah = await bistro_guest(live)
        gid = sarah.guest_id
        async with live.client(venue="bistro") as bistro:
            assert (await bistro.post(f"/api/venues/bistro/guests/{gid}/erase")).status_code == 200
            body = {"first_name": "Sarah", "last_name": "Test", "consent_greeting": True}
            rewritten = await bistro.put(f"/api/guests/{gid}", json=body)
            tombstone = (await bistro.get(f"/api/guests/{gid}")).json()
        assert rewritten.status_code == 404
        assert tombstone["first_name"] != "Sarah" and tombstone["consent_greeting"] is False
