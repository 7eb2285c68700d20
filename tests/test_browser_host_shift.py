"""A shift at the host stand in a real Chromium: the book, the door and what every screen agrees on."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect
from sqlalchemy.engine import Engine

from maitre.db import create_schema, make_engine
from tests.conftest import free_port, live_service
from tests.factories import guest_session, seed_venue
from tests.factories import presence as arrival
from tests.test_browser_screens import GREET_VISIBLE_MS, open_page
from tests.test_consent import checked_in


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    """SQLite only: these tests are about the screens; the database tests cover PostgreSQL."""
    engine = make_engine(f"sqlite:///{tmp_path / 'shift.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


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
