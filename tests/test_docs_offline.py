"""/docs and /redoc work on a venue LAN with no way out: every asset they load comes from the service."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Route, expect
from sqlalchemy.engine import Engine

from maitre.api.app import create_app
from tests.conftest import live_service, make_settings

PAGES = ("/docs", "/redoc")


class Assets(HTMLParser):
    """Every `<script src>` and `<link href>` of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href"}.get(tag)
        for name, value in attrs:
            if name == wanted and value is not None:
                self.urls.append((tag, value))


def assets_of(html: str) -> list[tuple[str, str]]:
    parser = Assets()
    parser.feed(html)
    return parser.urls


@contextlib.asynccontextmanager
async def client_of(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(make_settings(), None, engine=engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://venue") as client:
            yield client


@pytest.mark.parametrize("page", PAGES)
async def test_the_docs_page_loads_every_asset_from_the_service(engine: Engine, page: str) -> None:
    async with client_of(engine) as client:
        r = await client.get(page)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        # The browser is told to fetch nothing from elsewhere (ReDoc would ask a CDN for its logo).
        assert "default-src 'self'" in r.headers["content-security-policy"]
        html = r.text
        assert not re.search(r"https?://", html), "a URL off the LAN in the page"
        urls = assets_of(html)
        assert any(tag == "script" for tag, _ in urls) and any(tag == "link" for tag, _ in urls)
        for _, url in urls:
            assert url.startswith("/") and not url.startswith("//"), url
            asset = await client.get(url)
            assert asset.status_code == 200 and len(asset.content) > 1000, url
        spec = re.search(r"url: '([^']+)'|spec-url=\"([^\"]+)\"", html)
        assert spec is not None
        assert "/api/reservations" in (await client.get(spec[1] or spec[2])).json()["paths"]


async def test_the_root_still_leads_to_the_docs(engine: Engine) -> None:
    async with client_of(engine) as client:
        r = await client.get("/")
        assert r.status_code in (302, 307) and r.headers["location"] == "/docs"
        spec = (await client.get("/openapi.json")).json()
        assert not {"/docs", "/redoc"} & set(spec["paths"])


# -- in a real browser, with everything but the service refused ---------------------------------------


async def test_swagger_ui_and_redoc_render_with_no_way_out(db: Engine, browser: Any) -> None:
    async with live_service(db, None) as live:
        context = await browser.new_context()
        refused: list[str] = []

        async def lan_only(route: Route) -> None:
            if route.request.url.startswith(live.base):
                await route.continue_()
            else:
                refused.append(route.request.url)
                await route.abort()

        await context.route("**/*", lan_only)
        page = await context.new_page()
        await page.goto(f"{live.base}/docs")
        await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Maître", timeout=15_000)
        await expect(page.locator(".opblock-tag-section").first).to_be_visible()
        await page.wait_for_load_state("networkidle")
        await page.goto(f"{live.base}/redoc")
        await expect(page.locator("h1").first).to_contain_text("Maître", timeout=15_000)
        await expect(page.get_by_text("API docs by Redocly")).to_be_visible()  # where its logo would load
        await page.wait_for_load_state("networkidle")
        await context.close()
        assert refused == []
