"""Personalization from the guest's own history: tags, the usual, offers only with marketing consent."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from maitre.models import PreOrderItem, Reservation, ReservationStatus
from tests.conftest import live_service, wait_until
from tests.factories import Booking, guest_session, seed_venue, staff_action
from tests.factories import presence as arrival
from tests.test_consent import checked_in

RULES = """
[bistro]
[[bistro.offers]]
id = "birthday-dessert"
when = ["celebrating", "regular"]
text = "Dessert on the house for the celebration"
followup = "Happy birthday again: your next dessert is on us"
"""


def past_visits(engine: Engine, booking: Booking, venue_id: int, n: int, dish: str, price_cents: int) -> None:
    with Session(engine) as s:
        for week in range(1, n + 1):
            r = Reservation(
                venue_id=venue_id,
                guest_id=booking.guest_id,
                party_size=2,
                at=datetime.now(UTC) - timedelta(weeks=week),
                status=ReservationStatus.COMPLETED,
            )
            s.add(r)
            s.flush()
            s.add(PreOrderItem(reservation_id=r.id, name=dish, price_cents=price_cents))
        s.commit()


async def test_a_regular_is_greeted_with_their_usual_and_an_offer_only_with_marketing_consent(
    engine: Engine, tmp_path: Path
) -> None:
    rules = tmp_path / "offers.toml"
    rules.write_text(RULES)
    async with live_service(engine, None, offer_rules_file=str(rules)) as live, live.client() as staff:
        venue_id = await seed_venue(staff)
        sarah = await checked_in(live, staff, "Sarah", greeting=True, marketing=True)
        paul = await checked_in(live, staff, "Paul", greeting=True)
        for booking in (sarah, paul):
            past_visits(engine, booking, venue_id, 2, "Duck confit", 60_000)
            async with await guest_session(live.base, booking) as phone:
                await phone.put("/api/guest/me/preferences", json={"occasion": "Birthday"})
            live.service.submit(arrival(booking.advertiser_id))
        await wait_until(lambda: len(live.service.alert_latencies) >= 2, what="both greeted")
        greets = {
            a["reservation_id"]: a["payload"]
            for a in (await staff.get("/api/venues/bistro/alerts")).json()
            if a["kind"] == "greet"
        }
        card = greets[sarah.reservation_id]
        assert card["tags"] == ["regular", "vip", "celebrating"]  # 2 visits; spend 1,200.00 ≥ 1,000.00
        assert card["vip"] is True
        assert card["suggestion"] == "Welcome back — your usual Duck confit?"
        assert card["favourites"] == ["Duck confit"]
        assert card["offer"] == "Dessert on the house for the celebration"
        assert greets[paul.reservation_id]["offer"] is None  # no marketing consent, no offer
        assert greets[paul.reservation_id]["suggestion"] == card["suggestion"]

        # Both visit tonight; the follow-up export lists only the guest who accepted marketing.
        async with live.client("host") as host:
            for booking in (sarah, paul):
                r = await staff_action(host, live.token("host"), "seat", booking.reservation_id, table="4")
                assert r.status_code == 201
        r = await staff.get("/api/venues/bistro/followups.csv")
        assert r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert [(row["first_name"], row["visits"], row["favourite"]) for row in rows] == [
            ("Sarah", "3", "Duck confit")
        ]
        assert rows[0]["offer"] == "Happy birthday again: your next dessert is on us"
        reads = (await staff.get("/api/venues/bistro/staff-reads")).json()
        assert [r["what"] for r in reads].count("followups") == 1  # the export is a read of Sarah's data
        async with live.client("host") as host:
            assert (await host.get("/api/venues/bistro/followups.csv")).status_code == 403


async def test_spreadsheet_formulas_in_names_are_defused_in_the_export(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        await seed_venue(staff)
        eve = await checked_in(live, staff, '=HYPERLINK("http://evil")', greeting=True, marketing=True)
        r = await staff_action(staff, live.token("host"), "seat", eve.reservation_id, table="2")
        assert r.status_code == 201
        rows = list(csv.DictReader(io.StringIO((await staff.get("/api/venues/bistro/followups.csv")).text)))
        assert rows[0]["first_name"] == '\'=HYPERLINK("http://evil")'
