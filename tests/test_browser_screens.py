"""The staff screens in a real browser (Debian's Chromium, driven by Playwright) against the real service.

Timing checks use Playwright's expect with generous timeouts, so a loaded 2-core machine does not
flake them; the measured figures are printed (run with -s to see them).
"""

from __future__ import annotations

import json
import re
import secrets
import statistics
import time
from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.engine import Engine

from maitre.hospitality.arrivals import Arrivals, ArrivalWindow
from tests.conftest import LiveService, free_port, live_service
from tests.factories import presence as arrival
from tests.factories import seed_guest, seed_venue

VIEWPORT = {"width": 1280, "height": 800}
# The issue asks for a greet card "within a second" of the arrival; we allow 3 s so a loaded
# CI machine does not flake, and print the measured figure.
GREET_VISIBLE_MS = 3000


async def open_page(browser: Any, live: LiveService, role: str, token: str | None = None) -> Page:
    page: Page = await browser.new_page(viewport=VIEWPORT)
    fragment = "" if token == "" else f"#token={token or live.token(role)}"
    await page.goto(f"{live.base}/screens/{role}.html{fragment}")
    return page


async def test_arrival_shows_the_greet_card_within_a_second(db: Engine, browser: Any) -> None:
    async with live_service(db, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        guests = [
            await seed_guest(client, venue_id, name, allergies=("peanuts",))
            for name in ("Sarah", "Paul", "Ana", "Noor", "Ivo", "<b>Bold</b>")
        ]
        page = await open_page(browser, live, "host")
        await expect(page.locator("#conn")).to_have_text("live", timeout=5000)
        assert "token" not in page.url  # wiped from the address bar once read
        await page.evaluate(
            """() => { window.seen = {};
              new MutationObserver(() => document.querySelectorAll('.card.greet').forEach(c => {
                if (!(c.dataset.reservation in window.seen)) window.seen[c.dataset.reservation] = Date.now();
              })).observe(document.getElementById('greets'), {childList: true, subtree: true}); }"""
        )
        latencies = []
        for g in guests:
            submitted = time.time()
            live.service.submit(arrival(g.advertiser_id))  # the decisive presence event
            card = page.locator(f'.card.greet[data-reservation="{g.reservation_id}"]')
            await expect(card).to_be_visible(timeout=GREET_VISIBLE_MS)
            seen = await page.evaluate(f"window.seen['{g.reservation_id}']")
            latencies.append(seen / 1000 - submitted)
        print(
            f"\narrival → greet card visible: median {statistics.median(latencies) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms over {len(latencies)}"
        )

        sarah = page.locator(f'.card.greet[data-reservation="{guests[0].reservation_id}"]')
        await expect(sarah.locator(".name")).to_have_text("Sarah")
        await expect(sarah.locator(".party")).to_have_text("Party of 2 · 1 here")
        await expect(sarah.locator(".allergy")).to_have_text("⚠ peanuts")
        await expect(sarah.locator(".occasion")).to_have_text("Birthday")
        # Guest text is shown as text, never as markup.
        bold = page.locator(f'.card.greet[data-reservation="{guests[-1].reservation_id}"] .name')
        await expect(bold).to_have_text("<b>Bold</b>")
        assert await bold.locator("b").count() == 0
        # Each arrival chimed and flashed once.
        assert await page.evaluate("document.body.dataset.announced") == str(len(guests))
        book = page.locator(f'.book-row[data-reservation="{guests[0].reservation_id}"] .status')
        await expect(book).to_have_text("here")


async def test_acknowledging_on_one_host_screen_updates_another(db: Engine, browser: Any) -> None:
    async with live_service(db, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah")
        a = await open_page(browser, live, "host")
        b = await open_page(browser, live, "host")
        for page in (a, b):
            await expect(page.locator("#conn")).to_have_text("live", timeout=5000)
        live.service.submit(arrival(sarah.advertiser_id))
        card_a, card_b = (
            p.locator(f'.card.greet[data-reservation="{sarah.reservation_id}"]') for p in (a, b)
        )
        await expect(card_a).to_be_visible(timeout=GREET_VISIBLE_MS)

        await card_a.get_by_role("button", name="Greeted ✓").click()
        await expect(card_b).to_have_class(re.compile(r"\backed\b"), timeout=2000)  # the other screen follows

        await card_b.get_by_role("button", name="Seat…").click()
        await b.locator("#seat-tables").get_by_role("button", name="4", exact=True).click()
        row_a = a.locator(f'.book-row[data-reservation="{sarah.reservation_id}"]')
        await expect(row_a.locator(".status")).to_have_text("seated · 4", timeout=2000)
        await expect(card_a).to_have_count(0)  # seated parties leave the door
        await expect(b.locator("#toast")).to_contain_text("Seated Sarah at 4")

        await row_a.get_by_role("button", name="Undo").click()
        await expect(card_b).to_be_visible(timeout=2000)
        await expect(b.locator(f'.book-row[data-reservation="{sarah.reservation_id}"] .status')).to_have_text(
            "here"
        )


async def test_kitchen_ticket_ages_changes_colour_is_bumped_and_recalled(db: Engine, browser: Any) -> None:
    # Thresholds of 2.4 s and 4.8 s stand in for the defaults of 5 and 8 minutes.
    async with (
        live_service(db, None, kitchen_warn_minutes=0.04, kitchen_late_minutes=0.08) as live,
        live.client() as client,
    ):
        venue_id = await seed_venue(client)
        sarah = await seed_guest(
            client, venue_id, "Sarah", allergies=("peanuts",), items=("Burrata", "Burrata")
        )
        page = await open_page(browser, live, "kitchen")
        await expect(page.locator("#conn")).to_have_text("live", timeout=5000)
        live.service.submit(arrival(sarah.advertiser_id))
        ticket = page.locator(f'.ticket[data-reservation="{sarah.reservation_id}"]')
        await expect(ticket).to_be_visible(timeout=GREET_VISIBLE_MS)
        timer = ticket.locator(".timer")
        await expect(timer).to_have_class("timer ok")
        await expect(timer).to_have_class("timer warn", timeout=5000)
        await expect(timer).to_have_class("timer late", timeout=6000)
        await expect(page.locator('#allday .count[data-item="Burrata"]')).to_have_text("2×Burrata")

        bump = ticket.get_by_role("button", name="Bump")
        await expect(bump).to_be_disabled()  # the allergy must be acknowledged first
        await page.locator("#cook").fill("Ana")  # by a named cook
        await ticket.get_by_role("button", name="Acknowledge allergy").click()
        await expect(bump).to_be_enabled(timeout=2000)
        await bump.click()
        await expect(ticket).to_have_count(0, timeout=2000)
        await expect(page.locator("#allday .count")).to_have_count(0)
        recall = page.locator(f'#bumped [data-reservation="{sarah.reservation_id}"] button')
        await expect(recall).to_contain_text("Sarah T.")
        await recall.click()
        await expect(ticket).to_be_visible(timeout=2000)
        await expect(ticket.locator(".timer")).to_have_class("timer late")  # it kept its age


async def test_dropped_connection_resumes_with_exactly_the_missed_alerts(db: Engine, browser: Any) -> None:
    port, secret = free_port(), secrets.token_hex(16)
    async with live_service(db, None, port=port, secret_key=secret) as live:
        async with live.client() as client:
            venue_id = await seed_venue(client)
            sarah, paul, ana = [await seed_guest(client, venue_id, n) for n in ("Sarah", "Paul", "Ana")]
        page = await open_page(browser, live, "host")
        frames: list[dict[str, Any]] = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(json.loads(f))))
        await page.reload()  # (the token is kept across reloads) now with the frame recorder on
        await expect(page.locator("#conn")).to_have_text("live", timeout=5000)
        live.service.submit(arrival(sarah.advertiser_id))
        await expect(page.locator(".card.greet")).to_have_count(1, timeout=GREET_VISIBLE_MS)

    # The service is gone: the screen says so, and keeps what it had.
    await expect(page.locator("#offline")).to_be_visible(timeout=5000)
    await expect(page.locator("#conn")).to_have_text("offline")
    window = ArrivalWindow(early=timedelta(hours=1), late=timedelta(hours=1))
    for guest in (paul, ana):  # written while this screen could not hear
        assert Arrivals(db, window).handle(arrival(guest.advertiser_id))
    frames.clear()

    async with live_service(db, None, port=port, secret_key=secret):
        await expect(page.locator("#conn")).to_have_text("live", timeout=10_000)
        await expect(page.locator(".card.greet")).to_have_count(3, timeout=GREET_VISIBLE_MS)
        for guest in (sarah, paul, ana):
            await expect(
                page.locator(f'.card.greet[data-reservation="{guest.reservation_id}"]')
            ).to_have_count(1)
        opening = [f for f in frames if f["type"] in ("snapshot", "resume")]
        assert [f["type"] for f in opening] == ["resume"]
        assert [(f["kind"], f["reservation_id"]) for f in frames if f["type"] == "alert"] == [
            ("greet", paul.reservation_id),
            ("greet", ana.reservation_id),
        ]
        assert await page.evaluate("document.body.dataset.announced") == "3"  # Sarah once, then the two
        await expect(page.locator("#offline")).to_be_hidden()


@pytest.mark.parametrize(
    ("case", "token", "says"),
    [
        ("no token", "", "no token in the link"),
        (
            "forged",
            "mt1.eyJ2ZW51ZSI6ImJpc3RybyIsInJvbGUiOiJob3N0IiwiZXhwIjo5OTk5OTk5OTk5fQ.AAAA",
            "bad signature",
        ),
        ("kitchen token", "kitchen", "does not open this screen"),
    ],
)
async def test_unauthenticated_screen_gets_no_data(
    db: Engine, browser: Any, case: str, token: str, says: str
) -> None:
    async with live_service(db, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sarah = await seed_guest(client, venue_id, "Sarah")
        live.service.submit(arrival(sarah.advertiser_id))
        frames: list[str] = []
        page: Page = await browser.new_page(viewport=VIEWPORT)
        page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(f)))
        fragment = (
            f"#token={live.token('kitchen')}" if token == "kitchen" else (f"#token={token}" if token else "")
        )
        await page.goto(f"{live.base}/screens/host.html{fragment}")
        # Said for the host at the screen; the technical reason rides along for whoever fixes it.
        await expect(page.locator("#offline")).to_contain_text("Ask the manager", timeout=5000)
        await expect(page.locator("#offline")).to_have_attribute("title", re.compile(re.escape(says)))
        await expect(page.locator("#conn")).to_have_text("signed out")
        await page.wait_for_timeout(1000)  # it does not retry its way in either
        assert frames == [], case
        assert "Sarah" not in await page.content()
