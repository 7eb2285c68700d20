"""A shift at the host stand in a real Chromium: the book, the door and what every screen agrees on."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.engine import Engine

from tests.conftest import free_port, live_service
from tests.factories import guest_session, seed_booking, seed_guest, seed_venue
from tests.factories import presence as arrival
from tests.test_browser_screens import GREET_VISIBLE_MS, VIEWPORT, open_page
from tests.test_consent import checked_in


async def test_erasing_an_arrived_guest_leaves_open_and_new_screens_agreeing(
    db: Engine, browser: Any
) -> None:
    async with live_service(db, None) as live, live.client() as staff:
        await seed_venue(staff)
        ngozi = await checked_in(live, staff, "Ngozi", greeting=True, allergies=True)
        before = await open_page(browser, live, "host")
        await expect(before.locator("#conn")).to_have_text("live", timeout=5000)
        live.service.submit(arrival(ngozi.advertiser_id))
        rid = ngozi.reservation_id
        await expect(before.locator(f'.card.greet[data-reservation="{rid}"]')).to_be_visible(
            timeout=GREET_VISIBLE_MS
        )
        async with await guest_session(live.base, ngozi) as phone:
            (await phone.delete("/api/guest/me")).raise_for_status()
        await expect(before.locator(f'.card.greet[data-reservation="{rid}"]')).to_have_count(0, timeout=2000)

        after = await open_page(browser, live, "host")
        await expect(after.locator("#conn")).to_have_text("live", timeout=5000)
        rows = [p.locator(f'.book-row[data-reservation="{rid}"]') for p in (before, after)]
        for row in rows:
            # The party is standing in the room: erasing the data does not cancel it, and no name stays.
            await expect(row.locator(".status")).to_have_text("here")
            await expect(row.locator(".who")).to_have_text("Guest")
            await expect(row.get_by_role("button", name="Seat")).to_be_visible()
        assert await rows[0].inner_text() == await rows[1].inner_text()


async def test_a_restart_with_a_new_key_signs_the_screen_out_with_words_for_the_host(
    db: Engine, browser: Any
) -> None:
    port = free_port()
    async with live_service(db, None, port=port, secret_key=secrets.token_hex(16)) as live:
        async with live.client() as staff:
            await seed_venue(staff)
        page = await open_page(browser, live, "host")
        await expect(page.locator("#conn")).to_have_text("live", timeout=5000)
    async with live_service(db, None, port=port, secret_key=secrets.token_hex(16)):
        banner = page.locator("#offline")
        await expect(banner).to_contain_text("Signed out: this screen's link no longer works", timeout=10_000)
        await expect(banner).to_contain_text("Ask the manager for a new screen link")
        await expect(banner).not_to_contain_text("maitre token")  # no developer talk
        await expect(page.locator("#conn")).to_have_text("signed out")


async def _door(
    browser: Any,
    live: Any,
    names: tuple[str, ...],
    viewport: dict[str, int] | None = None,
    notes: str | None = None,
) -> Any:
    """A host stand with these guests greeted at the door (in order); returns (page, guests)."""
    async with live.client() as staff:
        venue_id = await seed_venue(staff)
        guests = [await seed_guest(staff, venue_id, n, allergies=("peanuts",)) for n in names]
        if notes is not None:  # every guest tells the venue a lot
            for n, g in zip(names, guests, strict=True):
                prefs = {
                    "preferred_name": n,
                    "allergies": ["peanuts"],
                    "occasion": "Birthday",
                    "notes": notes,
                }
                (await staff.put(f"/api/guests/{g.guest_id}/preferences", json=prefs)).raise_for_status()
    page = await browser.new_page(viewport=viewport or VIEWPORT)
    await page.goto(f"{live.base}/screens/host.html#token={live.token('host')}")
    await expect(page.locator("#conn")).to_have_text("live", timeout=5000)
    for g in guests:
        live.service.submit(arrival(g.advertiser_id))
    await expect(page.locator(".card.greet")).to_have_count(len(names), timeout=10_000)
    return page, guests


# In the viewport: the whole card, and its buttons not covered by anything.
FULLY_SHOWN = """() => [...document.querySelectorAll('.card.greet')].filter(c => {
  const r = c.getBoundingClientRect();
  if (r.top < 0 || r.bottom > window.innerHeight) return false;
  return [...c.querySelectorAll('button')].every(b => {
    const br = b.getBoundingClientRect();
    return document.elementFromPoint(br.x + br.width / 2, br.y + br.height / 2) === b;
  });
}).length"""


async def test_four_greeting_cards_fit_at_the_door_and_say_how_long_the_party_has_waited(
    db: Engine, browser: Any
) -> None:
    async with live_service(db, None) as live:
        names = ("Siobhán", "Maximiliano-Alessandro", "Ngozi", "Aiko", "Tomás", "Priya")
        note = "Prefers the quiet corner away from the kitchen door; bringing a cake at nine. " * 4
        page, _ = await _door(browser, live, names, notes=note)
        shown = await page.evaluate(FULLY_SHOWN)
        print(f"\ngreeting cards fully shown at the door, 1280×800: {shown} of {len(names)}")
        assert shown >= 4
        for since in await page.locator(".card.greet .since").all_inner_texts():
            assert since.startswith("waiting ")


@pytest.mark.parametrize("width,height", [(1280, 800), (1024, 768)])
async def test_names_in_tonights_book_are_never_cut_off(
    db: Engine, browser: Any, width: int, height: int
) -> None:
    async with live_service(db, None) as live:
        names = ("Siobhán", "Maximiliano", "Bartholomew", "Anastasiya")
        page, _ = await _door(browser, live, names, {"width": width, "height": height})
        cut = await page.evaluate(
            """() => [...document.querySelectorAll('.book-row .who')].filter(w =>
                 w.scrollWidth > w.clientWidth + 1 || getComputedStyle(w).textOverflow === 'ellipsis'
               ).map(w => w.textContent)"""
        )
        assert cut == []
        texts = await page.locator(".book-row .who").all_inner_texts()
        assert sorted(texts) == sorted(f"{n} T." for n in names)


async def test_an_approaching_party_is_described_in_plain_words(db: Engine, browser: Any) -> None:
    async with live_service(db, None) as live:
        async with live.client() as staff:
            venue_id = await seed_venue(staff)
            noor = await seed_guest(staff, venue_id, "Noor")
        page = await open_page(browser, live, "host")
        await expect(page.locator("#conn")).to_have_text("live", timeout=5000)
        live.service.submit(arrival(noor.advertiser_id, kind="approaching"))
        conf = page.locator(f'.approach-row[data-reservation="{noor.reservation_id}"] .conf')
        await expect(conf).to_have_text("almost certainly them", timeout=GREET_VISIBLE_MS)  # 0.9
        assert "%" not in await page.locator("#approaching").inner_text()


async def test_the_undo_offer_covers_no_button_and_goes_once_stale(db: Engine, browser: Any) -> None:
    async with live_service(db, None) as live:
        page, _ = await _door(browser, live, ("Sarah", "Paul", "Ana", "Noor"))
        other = await open_page(browser, live, "host")
        await expect(other.locator("#conn")).to_have_text("live", timeout=5000)
        first = page.locator(".card.greet").first
        rid = int(await first.get_attribute("data-reservation") or 0)
        await first.get_by_role("button", name="Greeted ✓").click()
        toast = page.locator("#toast")
        await expect(toast).to_contain_text("Greeted")
        assert await page.evaluate(FULLY_SHOWN) >= 4  # nothing covers the next card's Seat button
        # Another host seats that party: the offer to undo the greeting is stale, and goes.
        card = other.locator(f'.card.greet[data-reservation="{rid}"]')
        await card.get_by_role("button", name="Seat…").click()
        await other.locator("#seat-tables").get_by_role("button", name="4", exact=True).click()
        await expect(toast).to_be_hidden(timeout=3000)


@pytest.mark.parametrize("screen", ["host", "kitchen"])  # the arrival chime; the late-ticket alarm
async def test_a_blocked_chime_asks_for_a_tap_and_the_tap_turns_it_on(
    db: Engine, browser: Any, screen: str
) -> None:
    async with live_service(db, None) as live:
        async with live.client() as staff:
            await seed_venue(staff)
        page = await browser.new_page(viewport=VIEWPORT)
        # Headless Chromium plays sound without a tap; a tablet's browser does not. This puts the
        # tablet's rule back, keyed on Chromium's own record of whether anyone has tapped the page.
        await page.add_init_script(AUTOPLAY_NEEDS_A_TAP)
        await page.goto(f"{live.base}/screens/{screen}.html#token={live.token(screen)}")
        hint = page.get_by_role("button", name="Tap to enable sound")
        await expect(hint).to_be_visible(timeout=5000)
        await hint.click()
        await expect(hint).to_be_hidden(timeout=3000)
        assert await page.evaluate("window.Maitre !== undefined")


AUTOPLAY_NEEDS_A_TAP = """(() => {
  const Real = window.AudioContext;
  window.AudioContext = class extends Real {
    constructor() { super(); if (!navigator.userActivation.hasBeenActive) this.suspend(); }
    resume() { return navigator.userActivation.hasBeenActive ? super.resume() : Promise.resolve(); }
  };
})()"""


async def test_the_booking_lifecycle_at_the_stand_with_search(db: Engine, browser: Any) -> None:
    async with live_service(db, None) as live:
        async with live.client() as staff:
            venue_id = await seed_venue(staff)
            ivo = await seed_booking(staff, venue_id, "Ivo", "Horvat")  # no band, no consent
            ana = await seed_booking(staff, venue_id, "Ana", "Costa")
            noor = await seed_booking(staff, venue_id, "Noor", "Haddad")
        page = await open_page(browser, live, "host")
        other = await open_page(browser, live, "host")
        for p in (page, other):
            await expect(p.locator("#conn")).to_have_text("live", timeout=5000)

        def row(p: Any, rid: int) -> Any:
            return p.locator(f'.book-row[data-reservation="{rid}"]')

        async def do(rid: int, button: str) -> None:
            await page.get_by_role(
                "button", name=f"More for {await row(page, rid).locator('.who').inner_text()}"
            ).click()
            await page.locator("#booking-dialog").get_by_role("button", name=button).click()

        await do(ivo.reservation_id, "Arrived (no band)")
        for p in (page, other):  # every host screen agrees
            await expect(row(p, ivo.reservation_id).locator(".status")).to_have_text("here", timeout=2000)
        await do(ana.reservation_id, "Running late")
        await expect(row(other, ana.reservation_id).locator(".status")).to_have_text("running late")
        await page.get_by_role("button", name="More for Ana C.").click()
        await page.get_by_role("button", name="One more").click()
        await page.get_by_role("button", name="One more").click()
        await page.get_by_role("button", name="Save size").click()
        await expect(row(other, ana.reservation_id).locator(".size")).to_have_text("4", timeout=2000)
        await do(noor.reservation_id, "No-show")
        await expect(row(other, noor.reservation_id).locator(".status")).to_have_text("no-show")
        await page.locator("#toast").get_by_role("button", name="Undo").click()  # a slip of the finger
        await expect(row(other, noor.reservation_id).locator(".status")).to_have_text("expected")
        await do(noor.reservation_id, "Cancel booking")
        await expect(row(other, noor.reservation_id).locator(".status")).to_have_text("cancelled")

        await page.locator("#search").fill("ana")
        await expect(page.locator(".book-row")).to_have_count(1)
        await page.locator("#search").fill("zzz")
        await expect(page.locator("#no-match")).to_be_visible()
        await page.locator("#search").fill("")
        await expect(page.locator(".book-row")).to_have_count(3)


async def test_a_walk_in_waits_and_their_phone_hears_the_table_is_ready(db: Engine, browser: Any) -> None:
    async with live_service(db, None) as live:
        async with live.client() as staff:
            await seed_venue(staff)
        page = await open_page(browser, live, "host")
        await expect(page.locator("#conn")).to_have_text("live", timeout=5000)
        await page.get_by_role("button", name="+ Walk-in").click()
        dialog = page.locator("#walkin-dialog")
        await dialog.get_by_role("button", name="Add walk-in").click()
        await expect(page.locator("#walkin-error")).to_have_text("Give the walk-in a name to call them by.")
        await page.locator("#walkin-name").fill("Rosa Costa")
        await dialog.get_by_role("button", name="One more").click()
        await dialog.get_by_role("button", name="20 min").click()
        await dialog.get_by_role("button", name="Add walk-in").click()
        toast = page.locator("#toast")
        await expect(toast).to_contain_text("Rosa Costa is on the waitlist (20 min)")
        code = (await toast.inner_text()).split("code ")[1].split(",")[0]
        rosa = page.locator(".book-row", has_text="Rosa C.")
        await expect(rosa.locator(".status")).to_contain_text("waiting")
        await expect(rosa.locator(".size")).to_have_text("3")

        phone: Page = await browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        await phone.goto(f"{live.base}/checkin#code={code}")
        await phone.locator("#last-name").fill("Costa")
        await phone.get_by_role("button", name="Find my reservation").click()
        status = phone.locator("#status-line")
        await expect(status).to_contain_text(
            "You're on the waitlist. The wait is about 20 minutes.", timeout=5000
        )

        await page.get_by_role("button", name="More for Rosa C.").click()
        await page.locator("#booking-dialog").get_by_role("button", name="Table ready").click()
        await expect(rosa.locator(".status")).to_have_text("table ready")
        # The phone page checks every 10 s: the guest learns it without touching anything.
        await expect(status).to_have_text(
            "Your table is ready! Please come to the host stand.", timeout=15_000
        )


async def test_seating_at_a_taken_table_asks_first(db: Engine, browser: Any) -> None:
    async with live_service(db, None) as live:
        async with live.client() as staff:
            venue_id = await seed_venue(staff)
            ana = await seed_booking(staff, venue_id, "Ana", "Costa")
            ivo = await seed_booking(staff, venue_id, "Ivo", "Horvat")
        page = await open_page(browser, live, "host")
        await expect(page.locator("#conn")).to_have_text("live", timeout=5000)
        tables = page.locator("#seat-tables")
        await (
            page.locator(f'.book-row[data-reservation="{ana.reservation_id}"]')
            .get_by_role("button", name="Seat")
            .click()
        )
        await tables.get_by_role("button", name="4", exact=True).click()
        await expect(
            page.locator(f'.book-row[data-reservation="{ana.reservation_id}"] .status')
        ).to_have_text("seated · 4")
        ivo_row = page.locator(f'.book-row[data-reservation="{ivo.reservation_id}"]')
        await ivo_row.get_by_role("button", name="Seat").click()
        await tables.get_by_role("button", name="4", exact=True).click()
        await expect(page.locator("#seat-warning")).to_have_text(
            "Table 4 is taken by Ana C. — tap it again to seat here anyway, or choose another."
        )
        await expect(ivo_row.locator(".status")).to_have_text("expected")  # nothing done yet
        await tables.get_by_role("button", name="5", exact=True).click()
        await expect(ivo_row.locator(".status")).to_have_text("seated · 5")


async def test_seating_by_hand_sends_the_pre_order_to_the_kitchen_screen(db: Engine, browser: Any) -> None:
    async with live_service(db, None) as live:
        async with live.client() as staff:
            await seed_venue(staff)
            lars = await checked_in(live, staff, "Lars")  # pre-ordered; no band consent at all
        host = await open_page(browser, live, "host")
        kitchen = await open_page(browser, live, "kitchen")
        for p in (host, kitchen):
            await expect(p.locator("#conn")).to_have_text("live", timeout=5000)
        await (
            host.locator(f'.book-row[data-reservation="{lars.reservation_id}"]')
            .get_by_role("button", name="Seat")
            .click()
        )
        await host.locator("#seat-tables").get_by_role("button", name="7", exact=True).click()
        ticket = kitchen.locator(f'.ticket[data-reservation="{lars.reservation_id}"]')
        await expect(ticket).to_be_visible(timeout=3000)
        await expect(ticket).to_contain_text("Burrata")


async def test_a_walk_in_seated_now_goes_straight_to_a_table(db: Engine, browser: Any) -> None:
    async with live_service(db, None) as live:
        async with live.client() as staff:
            await seed_venue(staff)
        page = await open_page(browser, live, "host")
        await expect(page.locator("#conn")).to_have_text("live", timeout=5000)
        await page.get_by_role("button", name="+ Walk-in").click()
        await page.locator("#walkin-name").fill("Kofi")
        await page.locator("#walkin-dialog").get_by_role("button", name="Add walk-in").click()
        await expect(page.locator("#seat-title")).to_have_text("Seat Kofi · party of 2")
        await page.locator("#seat-tables").get_by_role("button", name="3", exact=True).click()
        row = page.locator(".book-row", has_text="Kofi K.")
        await expect(row.locator(".status")).to_have_text("seated · 3", timeout=3000)
