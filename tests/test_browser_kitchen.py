"""The kitchen display in a real browser (Debian's Chromium, driven by Playwright) through a busy shift.

Geometry is measured in the page: every ticket of twelve must be reachable, in full and with its
Bump button on screen and not covered, at both tablet sizes (run with -s to see the figures).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy.engine import Engine

from tests.conftest import LiveService, live_service
from tests.factories import SeededGuest, seed_guest, seed_venue, staff_action
from tests.factories import presence as arrival

TABLET = {"width": 1280, "height": 800}
SMALL_TABLET = {"width": 1024, "height": 768}
SHOWN_MS = 3000  # a ticket on screen after its arrival; generous for a loaded 2-core machine


async def kitchen_page(browser: Any, live: LiveService, viewport: dict[str, int] = TABLET) -> Page:
    page: Page = await browser.new_page(viewport=viewport)
    await page.goto(f"{live.base}/screens/kitchen.html#token={live.token('kitchen')}")
    await expect(page.locator("#conn")).to_have_text("live", timeout=5000)
    return page


async def guest_with(
    client: httpx.AsyncClient,
    venue_id: int,
    name: str,
    dishes: tuple[tuple[str, str | None], ...],
    allergies: tuple[str, ...] = (),
) -> SeededGuest:
    guest = await seed_guest(client, venue_id, name, items=(), allergies=allergies)
    for dish, course in dishes:
        r = await client.post(
            f"/api/reservations/{guest.reservation_id}/items",
            json={"name": dish, "course": course, "quantity": 2, "modifiers": ["no salt"]},
        )
        r.raise_for_status()
    return guest


def ticket(page: Page, guest: SeededGuest) -> Any:
    return page.locator(f'.ticket[data-reservation="{guest.reservation_id}"]')


async def fully_on_screen(page: Page, selector: str) -> dict[str, float]:
    """The element's box; asserts it lies inside the viewport and that its centre is not covered."""
    box: dict[str, float] = await page.evaluate(
        """(sel) => { const e = document.querySelector(sel); const r = e.getBoundingClientRect();
             const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
             return {x: r.x, y: r.y, right: r.right, bottom: r.bottom, w: innerWidth, h: innerHeight,
                     covered: !(hit === e || e.contains(hit))}; }""",
        selector,
    )
    assert box["x"] >= 0 and box["y"] >= 0, (selector, box)
    assert box["right"] <= box["w"] and box["bottom"] <= box["h"], (selector, box)
    assert not box["covered"], (selector, box)
    return box


@pytest.mark.parametrize(("viewport", "per_page"), [(TABLET, 4), (SMALL_TABLET, 3)])
async def test_twelve_tickets_are_each_reachable_and_bumpable_with_a_more_count(
    db: Engine, browser: Any, viewport: dict[str, int], per_page: int
) -> None:
    async with live_service(db, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        guests = [
            await guest_with(client, venue_id, f"Guest{n:02d}", (("Soup", "starter"), ("Bread", None)))
            for n in range(12)
        ]
        # One long ticket, as a big table with an allergy and notes makes: it scrolls inside itself.
        tall = guests[3]
        r = await client.put(
            f"/api/guests/{tall.guest_id}/preferences",
            json={"occasion": "Birthday", "notes": "Candle on the dessert. Mild on the chilli. No garlic."},
        )
        r.raise_for_status()
        for n in range(8):
            dish = {"name": f"Sharing plate {n}", "quantity": 3, "modifiers": ["no salt", "sauce aside"]}
            (
                await client.post(f"/api/reservations/{tall.reservation_id}/items", json=dish)
            ).raise_for_status()
        page = await kitchen_page(browser, live, viewport)
        for g in guests:
            live.service.submit(arrival(g.advertiser_id))
        await expect(page.locator("#pages")).to_have_text(f"1–{per_page} of 12", timeout=SHOWN_MS * 2)
        await expect(page.locator("#rail .ticket")).to_have_count(per_page)
        await expect(page.locator("#next")).to_have_text(f"{12 - per_page} more ▶")
        await fully_on_screen(page, "#next")

        bottoms = []
        for n, g in enumerate(guests):  # oldest first: the arrival order
            while await ticket(page, g).count() == 0:
                await page.locator("#next").click()
            await expect(ticket(page, g).locator(".pos")).to_have_text(str(n % per_page + 1))
            sel = f'.ticket[data-reservation="{g.reservation_id}"]'
            await fully_on_screen(page, sel)
            bottoms.append((await fully_on_screen(page, f"{sel} .bump"))["bottom"])
        print(
            f"\n{viewport['width']}×{viewport['height']}: {per_page} tickets a page, lowest Bump ends at "
            f"{max(bottoms):.0f} px of {viewport['height']}"
        )
        await expect(page.locator("#next")).to_be_disabled()
        while await ticket(page, tall).count() == 0:
            await page.locator("#prev").click()
        await expect(ticket(page, tall).locator(".body")).to_have_class(re.compile(r".*\boverflows\b.*"))
        last_dish = f'.ticket[data-reservation="{tall.reservation_id}"] .item >> nth=-1'
        await page.locator(last_dish).scroll_into_view_if_needed()  # the cook scrolls the ticket
        await expect(page.locator(last_dish)).to_be_in_viewport()
        await fully_on_screen(page, f'.ticket[data-reservation="{tall.reservation_id}"] .bump')
        while not await page.locator("#next").is_disabled():
            await page.locator("#next").click()
        await expect(page.locator("#prev")).to_have_text(f"◀ {per_page * ((12 - 1) // per_page)} earlier")

        # The fifth ticket (the one that used to hide under the Bumped strip) is bumped by a tap.
        fifth = guests[4]
        while await ticket(page, fifth).count() == 0:
            await page.locator("#prev").click()
        await ticket(page, fifth).get_by_role("button", name="Bump").click()
        await expect(ticket(page, fifth)).to_have_count(0, timeout=2000)
        await expect(page.locator(f'#bumped [data-reservation="{fifth.reservation_id}"]')).to_have_count(1)
        await expect(page.locator("#pages")).to_contain_text("of 11")


async def test_most_urgent_first_headers_coloured_by_age_and_a_sound_when_a_ticket_goes_late(
    db: Engine, browser: Any
) -> None:
    # Thresholds of 2.4 s and 4.8 s stand in for the defaults of 5 and 8 minutes.
    async with (
        live_service(db, None, kitchen_warn_minutes=0.04, kitchen_late_minutes=0.08) as live,
        live.client() as client,
    ):
        venue_id = await seed_venue(client)
        old, new = [await guest_with(client, venue_id, n, (("Soup", None),)) for n in ("Olga", "Nina")]
        page = await kitchen_page(browser, live)
        live.service.submit(arrival(old.advertiser_id))
        await expect(ticket(page, old)).to_be_visible(timeout=SHOWN_MS)
        await page.wait_for_timeout(1500)
        live.service.submit(arrival(new.advertiser_id))
        await expect(ticket(page, new)).to_be_visible(timeout=SHOWN_MS)
        names = page.locator("#rail .ticket .party")
        await expect(names).to_have_text(["Olga T.", "Nina T."])  # the older ticket is more urgent

        await expect(ticket(page, old)).to_have_class(re.compile(r".*\bage-warn\b.*"), timeout=5000)
        warn_head = (
            await ticket(page, old).locator(".head").evaluate("e => getComputedStyle(e).backgroundColor")
        )
        assert warn_head == "rgb(250, 204, 21)"  # --warn
        await expect(ticket(page, old)).to_have_class(re.compile(r".*\bage-late\b.*"), timeout=6000)
        late_head = (
            await ticket(page, old).locator(".head").evaluate("e => getComputedStyle(e).backgroundColor")
        )
        assert late_head == "rgb(248, 113, 113)"  # --late
        await expect(page.locator("body")).to_have_attribute("data-alarms", "1")
        await expect(ticket(page, new)).to_have_class(re.compile(r".*\bage-late\b.*"), timeout=6000)
        await expect(page.locator("body")).to_have_attribute("data-alarms", "2")
        await page.wait_for_timeout(1500)
        assert await page.evaluate("document.body.dataset.alarms") == "2"  # once per ticket, not every second

        # Marking the older ticket's only dish done lets the one still cooking come first.
        await ticket(page, old).locator(".item").click()
        await expect(names).to_have_text(["Nina T.", "Olga T."], timeout=2000)


async def test_starters_fire_mains_wait_for_a_tap_and_dishes_bump_one_by_one_by_touch_and_keys(
    db: Engine, browser: Any
) -> None:
    async with live_service(db, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        sam = await guest_with(
            client, venue_id, "Sam", (("Soup", "starter"), ("Steak", "main"), ("Tart", "dessert"))
        )
        page = await kitchen_page(browser, live)
        live.service.submit(arrival(sam.advertiser_id))
        card = ticket(page, sam)
        await expect(card).to_be_visible(timeout=SHOWN_MS)
        await expect(card.locator(".items.fire .dish")).to_have_text(["Soup"])
        await expect(card.locator(".items.held .dish")).to_have_text(["Steak", "Tart"])
        await expect(card.locator(".hold-label")).to_have_text("Held: mains wait for Fire")
        await expect(card.get_by_role("button", name="Bump")).to_be_disabled()
        await expect(card.locator(".why")).to_have_text("Fire the held mains to bump")
        await expect(card.locator(".why")).to_be_visible()

        await card.locator(".items.fire .item").click()  # one dish done by touch
        await expect(card.locator(".items.fire .item")).to_have_class(
            re.compile(r".*\bdone\b.*"), timeout=2000
        )
        await expect(page.locator("#allday .count")).to_have_text(["2×Steak", "2×Tart"])

        await page.keyboard.press("1")  # a bump bar's first key: the first ticket
        await expect(card).to_have_class(re.compile(r".*\bselected\b.*"))
        await page.keyboard.press("f")  # fire the next course: mains only
        await expect(card.locator(".items.fire .dish")).to_have_text(["Soup", "Steak"], timeout=2000)
        await expect(card.locator(".items.held .dish")).to_have_text(["Tart"])
        await page.keyboard.press("ArrowDown")
        await page.keyboard.press(" ")  # Steak done
        await expect(card.locator('.items.fire .item:has-text("Steak")')).to_have_class(
            re.compile(r".*\bdone\b.*"), timeout=2000
        )
        await page.keyboard.press(" ")  # and undone: a second press recalls the dish
        await expect(card.locator('.items.fire .item:has-text("Steak")')).not_to_have_class(
            re.compile(r".*\bdone\b.*"), timeout=2000
        )
        await page.keyboard.press("Enter")  # refused while desserts are held, and says so
        await expect(page.locator("#toast")).to_contain_text("Not bumped: fire the held desserts to bump")
        await card.get_by_role("button", name="Fire desserts").click()
        await expect(card.locator(".items.held")).to_have_count(0, timeout=2000)
        await page.keyboard.press("b")
        await expect(card).to_have_count(0, timeout=2000)
        await page.keyboard.press("r")  # recall the last bumped
        await expect(card).to_be_visible(timeout=2000)


async def test_an_allergy_is_acknowledged_by_a_named_cook_and_stays_red_while_cooking(
    db: Engine, browser: Any
) -> None:
    async with live_service(db, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        r = await client.post(
            "/api/venues/bistro/menu", json={"name": "Peanut satay skewers", "allergens": ["peanuts"]}
        )
        r.raise_for_status()
        mei = await guest_with(client, venue_id, "Mei", (("Peanut satay skewers", "starter"),), ("peanut",))
        page = await kitchen_page(browser, live)
        live.service.submit(arrival(mei.advertiser_id))
        card = ticket(page, mei)
        await expect(card).to_be_visible(timeout=SHOWN_MS)
        await expect(card.locator(".clash")).to_have_text(
            "⚠ Peanut satay skewers clashes with “peanut” (Peanuts)"
        )
        bump = card.get_by_role("button", name="Bump")
        await expect(bump).to_be_disabled()
        why = card.locator(".why")
        await expect(why).to_have_text("Acknowledge the allergy to bump")  # on the ticket, not a tooltip
        await fully_on_screen(page, f'.ticket[data-reservation="{mei.reservation_id}"] .why')

        await page.keyboard.press("1")
        await page.keyboard.press("a")  # the bump bar's acknowledge key, with no cook named yet
        await expect(page.locator("#toast")).to_contain_text("Type your name in the Cook box")
        await expect(page.locator("#cook")).to_be_focused()
        await expect(bump).to_be_disabled()
        await page.locator("#cook").fill("Marco")
        await card.get_by_role("button", name="Acknowledge allergy").click()
        await expect(card.locator(".acked-by")).to_contain_text("read by Marco · ", timeout=2000)
        border = await card.locator(".allergens").evaluate("e => getComputedStyle(e).borderTopColor")
        assert border == "rgb(255, 92, 92)"  # still red (--alert) while the food is cooked
        await expect(bump).to_be_enabled()
        await expect(why).to_have_count(0)

        other = await kitchen_page(browser, live)  # another tablet reads who acknowledged
        await expect(ticket(other, mei).locator(".acked-by")).to_contain_text("read by Marco")
        await page.reload()
        await expect(page.locator("#conn")).to_have_text("live", timeout=5000)
        await expect(page.locator("#cook")).to_have_value("Marco")  # this tablet remembers its cook


async def test_the_ticket_shows_the_table_once_seated_and_the_notes_for_the_kitchen(
    db: Engine, browser: Any
) -> None:
    async with live_service(db, None) as live, live.client() as client:
        venue_id = await seed_venue(client)
        ana = await guest_with(client, venue_id, "Ana", (("Soup", None),))
        r = await client.put(
            f"/api/guests/{ana.guest_id}/preferences",
            json={"occasion": "Birthday", "notes": "Prefers the window. Candle on the dessert please."},
        )
        r.raise_for_status()
        page = await kitchen_page(browser, live)
        live.service.submit(arrival(ana.advertiser_id))
        card = ticket(page, ana)
        await expect(card).to_be_visible(timeout=SHOWN_MS)
        await expect(card.locator(".table")).to_have_text("no table yet")
        await expect(card.locator(".occasion")).to_have_text("Birthday")
        await expect(card.locator(".note")).to_have_text(
            ["✎ Candle on the dessert please."]
        )  # not the window

        r = await staff_action(client, live.token("host"), "seat", ana.reservation_id, table="12")
        assert r.status_code == 201
        await expect(card.locator(".table")).to_have_text("Table 12", timeout=2000)
