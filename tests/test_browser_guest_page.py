"""The guest's page on a phone, said plainly: what staff see, what the order costs, what happened."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect
from sqlalchemy.engine import Engine

from tests.conftest import live_service
from tests.factories import guest_session, seed_booking, seed_venue

PHONE = {"width": 390, "height": 844}


async def signed_in(browser: Any, base: str, code: str, last_name: str) -> Page:
    page: Page = await browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.on("dialog", lambda d: d.accept())
    await page.goto(f"{base}/checkin#code={code}")
    await page.locator("#last-name").fill(last_name)
    await page.get_by_role("button", name="Find my reservation").click()
    await expect(page.locator("#me")).to_be_visible(timeout=5000)
    return page


async def test_the_status_line_is_honest_about_switches_and_follows_them_at_once(
    db: Engine, browser: Any
) -> None:
    async with live_service(db, None) as live, live.client() as staff:
        venue_id = await seed_venue(staff)
        ana = await seed_booking(staff, venue_id, "Ana", "Costa", link_band=True)
        page = await signed_in(browser, live.base, ana.code, "Costa")
        status = page.locator("#status-line")
        # The switches came off; Ana chose nothing yet.
        await expect(status).to_contain_text("Turn on “Greet me by name”")
        await expect(status).not_to_contain_text("You chose")
        await page.locator('[data-purpose="greeting"]').check()
        await expect(status).to_contain_text("will greet you as Ana", timeout=1000)
        await page.locator('[data-purpose="greeting"]').uncheck()
        await expect(status).to_contain_text("You chose not to be recognised", timeout=1000)


async def test_typed_allergies_say_whether_staff_see_them_and_offer_to_share(
    db: Engine, browser: Any
) -> None:
    async with live_service(db, None) as live, live.client() as staff:
        venue_id = await seed_venue(staff)
        ana = await seed_booking(staff, venue_id, "Ana", "Costa")
        page = await signed_in(browser, live.base, ana.code, "Costa")
        await page.locator("#allergies").fill("peanuts")
        note = page.locator("#allergy-note")
        await expect(note).to_have_text("Not shared yet: the host and the kitchen will not see these.")
        await page.get_by_role("button", name="Share my allergies with the host and kitchen").click()
        await expect(note).to_have_text("The host and the kitchen will see these.")
        await expect(page.locator('[data-purpose="allergies"]')).to_be_checked()
        async with await guest_session(live.base, ana) as phone:
            me = (await phone.get("/api/guest/me")).json()
        assert me["consents"]["allergies"] is True and me["preferences"]["allergies"] == ["peanuts"]


async def test_offers_by_email_need_an_address_first(db: Engine, browser: Any) -> None:
    async with live_service(db, None) as live, live.client() as staff:
        venue_id = await seed_venue(staff)
        ana = await seed_booking(staff, venue_id, "Ana", "Costa")
        page = await signed_in(browser, live.base, ana.code, "Costa")
        offers = page.locator('[data-purpose="marketing"]')
        await expect(offers).to_be_disabled()
        await page.locator("#email").fill("not an address")
        await page.get_by_role("button", name="Use this e-mail").click()
        await expect(offers).to_be_disabled()
        await page.locator("#email").fill("ana@example.com")
        await page.get_by_role("button", name="Use this e-mail").click()
        await expect(offers).to_be_enabled(timeout=3000)
        await offers.check()
        await expect(offers).to_be_checked()


async def test_the_pre_order_shows_quantities_prices_and_a_total_in_plain_words(
    db: Engine, browser: Any
) -> None:
    async with live_service(db, None) as live, live.client() as staff:
        venue_id = await seed_venue(staff)
        for dish in ({"name": "Duck confit", "prep_minutes": 30, "price_cents": 2400},
                     {"name": "Burrata", "prep_minutes": 5, "price_cents": 1250}):  # fmt: skip
            (await staff.post("/api/venues/bistro/menu", json=dish)).raise_for_status()
        ana = await seed_booking(staff, venue_id, "Ana", "Costa")
        page = await signed_in(browser, live.base, ana.code, "Costa")
        menu = page.locator("#menu")
        await expect(menu).to_contain_text("takes a while: ordering ahead saves you the wait")
        await expect(menu).to_contain_text("ready as you sit down")
        assert "min to prepare" not in await menu.inner_text()
        await page.locator("#notes").fill("Window table, please")  # typed, not saved yet
        await page.get_by_role("button", name="One more Duck confit").click()
        await page.get_by_role("button", name="Add Duck confit").click()
        await expect(page.locator("#order")).to_contain_text("2× Duck confit")
        await expect(page.locator("#order")).to_contain_text("€48.00")
        await page.get_by_role("button", name="Add Burrata").click()
        await expect(page.locator("#total")).to_have_text("Total €60.50 · paid at the table")
        await expect(page.locator("#notes")).to_have_value("Window table, please")  # not wiped by the order
        # A quantity of zero or ten thousand: a plain answer, and the order as it was.
        async with await guest_session(live.base, ana) as phone:
            dish_id = (await phone.get("/api/guest/menu")).json()[0]["id"]
            for quantity in (0, 10_000):
                r = await phone.post(
                    "/api/guest/me/items", json={"menu_item_id": dish_id, "quantity": quantity}
                )
                assert r.status_code == 422 and r.json()["detail"] == "Choose from 1 to 20 of a dish."
            assert len((await phone.get("/api/guest/me")).json()["items"]) == 2


async def test_erasure_is_confirmed_as_done_and_the_form_is_emptied(db: Engine, browser: Any) -> None:
    async with live_service(db, None) as live, live.client() as staff:
        venue_id = await seed_venue(staff)
        ana = await seed_booking(staff, venue_id, "Ana", "Costa")
        page = await signed_in(browser, live.base, ana.code, "Costa")
        await page.locator("#pronunciation").fill("AH-na")
        await page.get_by_role("button", name="Erase my data").click()
        notice = page.locator("#notice")
        await expect(notice).to_have_text("Done: your data has been erased and this reservation cancelled.")
        await expect(page.locator("#error")).to_be_hidden()
        for field in ("#code", "#last-name", "#pronunciation"):
            await expect(page.locator(field)).to_have_value("")
