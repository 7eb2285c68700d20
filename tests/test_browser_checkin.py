"""The guest's check-in page on a phone, and guest text on the host's greet card, in a real Chromium."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Page, expect
from sqlalchemy.engine import Engine

from tests.conftest import live_service
from tests.factories import guest_session, seed_booking, seed_venue
from tests.factories import presence as arrival
from tests.test_consent import checked_in

PHONE = {"width": 390, "height": 844}  # an everyday phone, portrait
MARKUP = "<img src=x onerror=alert(1)>"


async def test_guest_checks_in_links_a_band_chooses_consents_and_pre_orders_on_a_phone(
    db: Engine, browser: Any
) -> None:
    async with live_service(db, None) as live, live.client() as staff:
        venue_id = await seed_venue(staff)
        await staff.post(
            "/api/venues/bistro/menu", json={"name": "Duck confit", "prep_minutes": 18, "price_cents": 2400}
        )
        ngozi = await seed_booking(staff, venue_id, "Ngozi", "Okafor")
        page: Page = await browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
        dialogs: list[str] = []
        page.on("dialog", lambda d: dialogs.append(d.message))

        await page.goto(f"{live.base}/checkin#code={ngozi.code}")  # the link on the confirmation
        await expect(page.locator("#code")).to_have_value(ngozi.code)
        await page.locator("#last-name").fill("nilsson")
        await page.get_by_role("button", name="Find my reservation").click()
        await expect(page.locator("#error")).to_have_text("No reservation matches that code and last name.")
        await page.locator("#last-name").fill("okafor")
        await page.get_by_role("button", name="Find my reservation").click()
        await expect(page.locator("#venue")).to_have_text("Le Petit Bistro", timeout=5000)
        await expect(page.locator("#error")).to_be_hidden()
        await expect(page.locator("#status-line")).to_contain_text("Link your band")

        # QR scanning is offered exactly where the browser can read codes; typing always works.
        can_scan = await page.evaluate("'BarcodeDetector' in window")
        scan = expect(page.locator("#scan"))
        await (scan.to_be_visible() if can_scan else scan.to_be_hidden())
        await page.locator("#band-code").fill("WRONG1")
        await page.get_by_role("button", name="Link", exact=True).click()
        await expect(page.locator("#error")).to_contain_text("No band has the code")
        await page.locator("#band-code").fill(ngozi.band_label.lower())
        await page.get_by_role("button", name="Link", exact=True).click()
        await expect(page.locator("#bands")).to_contain_text(f"Band {ngozi.band_label}")

        await page.locator('[data-purpose="greeting"]').check()
        await expect(page.locator("#status-line")).to_contain_text("will greet you as Ngozi")
        await page.locator("#preferred-name").fill(MARKUP)
        await page.locator("#pronunciation").fill("n-GOH-zee")
        await page.locator("#allergies").fill("peanuts, sesame")
        await page.get_by_role("button", name="Save").click()
        await expect(page.locator("#booking")).to_contain_text(MARKUP)  # as text
        assert await page.locator("#booking img").count() == 0
        await page.get_by_role("button", name="Add Duck confit").click()
        await expect(page.locator("#order")).to_contain_text("1× Duck confit")
        await expect(page.locator("#status-line")).to_contain_text("started once you're seated")
        await page.locator('[data-purpose="kitchen"]').check()
        await expect(page.locator("#status-line")).to_contain_text(
            "The kitchen starts your order as you arrive"
        )

        # Fits the phone: nothing scrolls sideways.
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert dialogs == []
        async with await guest_session(live.base, ngozi) as phone:
            me = (await phone.get("/api/guest/me")).json()
        assert me["consents"] == {"greeting": True, "kitchen": True, "allergies": False, "marketing": False}
        assert me["preferences"]["allergies"] == ["peanuts", "sesame"]
        assert live.service.directory.tracked_bands == {ngozi.advertiser_id}


async def test_markup_in_a_guest_name_shows_literally_on_the_host_greet_card(
    db: Engine, browser: Any
) -> None:
    async with live_service(db, None) as live, live.client() as staff:
        await seed_venue(staff)
        guest = await checked_in(live, staff, "Eve", greeting=True, allergies=True)
        async with await guest_session(live.base, guest) as phone:
            prefs = {"preferred_name": MARKUP, "notes": "<script>alert(2)</script>", "allergies": [MARKUP]}
            (await phone.put("/api/guest/me/preferences", json=prefs)).raise_for_status()
        page: Page = await browser.new_page(viewport={"width": 1280, "height": 800})
        dialogs: list[str] = []
        page.on("dialog", lambda d: dialogs.append(d.message))
        await page.goto(f"{live.base}/screens/host.html#token={live.token('host')}")
        await expect(page.locator("#conn")).to_have_text("live", timeout=5000)
        live.service.submit(arrival(guest.advertiser_id))
        card = page.locator(f'.card.greet[data-reservation="{guest.reservation_id}"]')
        await expect(card.locator(".name")).to_have_text(MARKUP, timeout=3000)
        await expect(card.locator(".notes")).to_have_text("<script>alert(2)</script>")
        await expect(card.locator(".allergy")).to_have_text("⚠ " + MARKUP)
        await expect(card.locator(".suggestion")).to_have_text("First visit — welcome them in")
        assert await card.locator("img, script").count() == 0
        await page.wait_for_timeout(300)
        assert dialogs == []

        # The guest erases their data: the card leaves the host stand at once.
        async with await guest_session(live.base, guest) as phone:
            assert (await phone.delete("/api/guest/me")).status_code == 200
        await expect(card).to_have_count(0, timeout=3000)
        await expect(page.locator("#greets")).not_to_contain_text(re.compile("img|Eve"))
