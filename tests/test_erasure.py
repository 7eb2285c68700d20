"""Erasure, retention and the staff-read log: what is left of a guest who asked to be forgotten."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from maitre.alerts.store import append_alert
from maitre.models import Alert, AlertKind, GuestArrival, Preference, ScreenRole, Venue, utcnow
from tests.conftest import live_service, wait_until
from tests.factories import guest_session, next_alerts, open_screen, seed_venue
from tests.factories import presence as arrival
from tests.test_consent import checked_in


async def test_erasure_scrubs_alerts_unlinks_bands_and_drops_the_cards(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        await seed_venue(staff)
        ngozi = await checked_in(live, staff, "Ngozi", greeting=True, kitchen=True, allergies=True)
        live.service.submit(arrival(ngozi.advertiser_id))
        await wait_until(lambda: live.service.alert_latencies, what="arrival handled")
        (await staff.get(f"/api/venues/bistro/guests/{ngozi.guest_id}/profile")).raise_for_status()
        host, opening = await open_screen(live.ws, live.token("host"), "host")
        assert [c["name"] for c in opening["greets"]] == ["Ngozi"]
        phone = await guest_session(live.base, ngozi)
        async with host, phone:
            r = await phone.delete("/api/guest/me")
            assert r.status_code == 200
            (frame,) = await next_alerts(host, 1)
            assert frame["kind"] == "erased" and frame["reservation_id"] == ngozi.reservation_id
            assert (await phone.get("/api/guest/me")).status_code == 401  # the session ends with the data

        alerts = (await staff.get("/api/venues/bistro/alerts")).json()
        text = json.dumps(alerts)
        assert "Ngozi" not in text and "Okafor" not in text and "sesame" not in text
        assert {a["kind"] for a in alerts} >= {"greet", "kitchen_start", "erased"}
        _, reopened = await open_screen(live.ws, live.token("host"), "host")
        assert reopened["greets"] == []
        _, kitchen = await open_screen(live.ws, live.token("kitchen"), "kitchen")
        assert kitchen["tickets"] == []
        assert ngozi.advertiser_id not in live.service.directory.tracked_bands
        assert (await staff.get("/api/bands", params={"guest_id": ngozi.guest_id})).json() == []
        assert (await staff.get(f"/api/venues/bistro/guests/{ngozi.guest_id}/profile")).status_code == 404
        async with httpx.AsyncClient(base_url=live.base) as anon:
            again = {"code": ngozi.code, "last_name": ngozi.last_name}
            assert (await anon.post("/api/guest/session", json=again)).status_code == 404
        with Session(engine) as s:
            assert s.get(Preference, ngozi.guest_id) is None
            assert s.exec(select(GuestArrival).where(GuestArrival.guest_id == ngozi.guest_id)).all() == []
        # What was granted when stays on record, with the withdrawal the erasure made.
        record = (await staff.get(f"/api/venues/bistro/guests/{ngozi.guest_id}/consents")).json()
        assert [(e["purpose"], e["granted"], e["source"]) for e in record][-3:] == [
            ("greeting", False, "erasure"),
            ("kitchen", False, "erasure"),
            ("allergies", False, "erasure"),
        ]


async def test_erasure_before_the_visit_cancels_the_booking(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        await seed_venue(staff)
        aiko = await checked_in(live, staff, "Aiko", greeting=True)
        async with await guest_session(live.base, aiko) as phone:
            assert (await phone.delete("/api/guest/me")).status_code == 200
        reservation = (await staff.get(f"/api/reservations/{aiko.reservation_id}")).json()
        assert reservation["status"] == "cancelled"
        noor = await checked_in(live, staff, "Noor", greeting=True)
        live.service.submit(arrival(aiko.advertiser_id))  # the band walks in anyway, then Noor's
        live.service.submit(arrival(noor.advertiser_id))
        await wait_until(lambda: live.service.alert_latencies, what="Noor's arrival handled")
        alerts = (await staff.get("/api/venues/bistro/alerts")).json()
        assert {a["reservation_id"] for a in alerts} == {noor.reservation_id}


async def test_staff_reads_of_a_profile_are_logged(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        await seed_venue(staff)
        ivo = await checked_in(live, staff, "Ivo", greeting=True)
        async with live.client("host") as host:
            assert (await host.get(f"/api/venues/bistro/guests/{ivo.guest_id}/profile")).status_code == 200
        async with live.client("kitchen") as kitchen:
            assert (await kitchen.get(f"/api/venues/bistro/guests/{ivo.guest_id}/profile")).status_code == 403
        async with live.client("manager", venue="cafe") as elsewhere:
            r = await elsewhere.get(f"/api/venues/bistro/guests/{ivo.guest_id}/profile")
            assert r.status_code == 403
        reads = (await staff.get("/api/venues/bistro/staff-reads")).json()
        assert [(r["guest_id"], r["role"], r["venue"], r["what"]) for r in reads] == [
            (ivo.guest_id, "host", "bistro", "profile")
        ]
        assert reads[0]["at"]


async def test_retention_purges_location_records_older_than_the_setting(engine: Engine) -> None:
    async with live_service(engine, None, sighting_retention_hours=1) as live, live.client() as staff:
        await seed_venue(staff)
        old = await checked_in(live, staff, "Old", greeting=True)
        new = await checked_in(live, staff, "New", greeting=True)
        with Session(engine) as s:
            venue = s.exec(select(Venue)).one()
            for booking, age in ((old, timedelta(hours=2)), (new, timedelta(minutes=5))):
                at = utcnow() - age
                s.add(GuestArrival(reservation_id=booking.reservation_id, guest_id=booking.guest_id, at=at))
                payload: dict[str, object] = {
                    "reservation_id": booking.reservation_id,
                    "distance_m": 7.5,
                    "eta_s": 5.8,
                }
                alert = append_alert(
                    s, venue, ScreenRole.HOST, AlertKind.APPROACHING, booking.reservation_id, payload
                )
                assert alert is not None
                s.execute(  # backdated: append_alert writes it now
                    update(Alert)
                    .where(col(Alert.venue_id) == venue.id, col(Alert.seq) == alert.seq)
                    .values(created_at=at)
                )
            s.commit()
        r = await staff.post("/api/venues/bistro/retention/purge")
        assert r.json() == {"guest_arrivals": 1, "approach_alerts": 1}
        with Session(engine) as s:
            kept = s.exec(select(GuestArrival)).all()
            assert [a.guest_id for a in kept] == [new.guest_id]
            by_rid = {a.reservation_id: a.payload for a in s.exec(select(Alert))}
        assert (
            by_rid[old.reservation_id]["distance_m"] is None and by_rid[old.reservation_id]["eta_s"] is None
        )
        assert by_rid[new.reservation_id]["distance_m"] == 7.5
