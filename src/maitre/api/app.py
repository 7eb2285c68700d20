"""The FastAPI application: routers, static screens and the service's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError

from maitre.api.hardening import ConnectionCap, Hardening
from maitre.api.routes import (
    actions,
    checkin,
    guests,
    insights,
    login,
    menu,
    parties,
    privacy,
    reservations,
    screens,
    system,
    tokens,
    venues,
    walk_ins,
)
from maitre.config import Settings
from maitre.db import make_engine
from maitre.guests.erasure import purge_periodically
from maitre.guests.ratelimit import PublicLimits, RateLimiter
from maitre.mqtt import BrokerAddress
from maitre.observability.metrics import service_registry
from maitre.runtime.service import VenueService
from maitre.security.revocation import RevocationList
from maitre.security.tokens import signer_for

# Swagger UI and ReDoc, served by the service itself: FastAPI's own /docs loads them from a CDN, and
# a venue's LAN often has no way out. The files come from the fastapi-offline wheel (byte for byte
# swagger-ui-dist and redoc as published on npm), not copied into this repository.
DOCS_ASSETS_URL = "/docs-assets"
DOCS_ASSETS_PACKAGE = "fastapi_offline"
# The docs pages may load nothing from elsewhere: ReDoc's sidebar asks cdn.redoc.ly for its logo,
# and this turns that into no request at all. Inline: FastAPI's page starts Swagger UI in a script
# tag, and both UIs set styles inline; ReDoc searches in a worker made from a blob.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'"
)


def create_app(settings: Settings, broker: BrokerAddress | None, engine: Engine | None = None) -> FastAPI:
    """Build the app; `broker` None runs without MQTT ingest (API and screens only)."""
    service = VenueService(settings, engine or make_engine(settings.database_url), broker)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        purge = asyncio.create_task(purge_periodically(service.engine, settings.sighting_retention_hours))
        try:
            yield
        finally:
            purge.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purge
            await service.stop()

    app = FastAPI(
        title="Maître venue service",
        version="0.1.0",
        description="Bands at the door become greetings by name on the host screen.",
        lifespan=lifespan,
        docs_url=None,  # served below, from local assets
        redoc_url=None,
    )
    app.state.service = service
    app.state.signer = signer_for(settings.signing_key(), settings.staff_token_max_hours)
    app.state.screen_sockets = ConnectionCap(settings.screens_per_address)
    app.state.revocations = RevocationList(service.engine)
    app.state.metrics_registry = service_registry(service)  # what /metrics exposes (routes/system.py)
    app.state.login_limiter = RateLimiter(settings.login_burst, settings.login_per_minute)
    app.state.public_limits = PublicLimits(
        settings.guest_burst, settings.guest_per_minute, settings.probe_burst, settings.probe_per_minute
    )
    app.state.checkin_limits = checkin.CheckinLimits(settings.checkin_burst, settings.checkin_per_minute)
    for module in (venues, guests, reservations, parties, screens, actions, walk_ins, system, login, tokens):
        app.include_router(module.router)
    for module in (checkin, menu, privacy, insights):  # the guest side, and its staff views
        app.include_router(module.router)
    # A number the database cannot hold (an id of 2^70) is the client's mistake, not a fault here.
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DataError, _out_of_range)
    static = resources.files("maitre.web") / "static"
    app.mount("/screens", StaticFiles(directory=str(static), html=True), name="screens")

    _add_offline_docs(app)
    app.add_middleware(Hardening, max_body=settings.max_request_bytes)

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse("/docs")

    @app.get("/checkin", include_in_schema=False)
    def checkin_page() -> RedirectResponse:
        """The short link printed on confirmations (`/checkin#code=…` keeps the code out of logs)."""
        return RedirectResponse("/screens/checkin.html")

    return app


def _add_offline_docs(app: FastAPI) -> None:
    """/docs (Swagger UI) and /redoc, with every script, style sheet and icon served from here."""
    assets = resources.files(DOCS_ASSETS_PACKAGE) / "static"
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=str(assets)), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    def root(request: Request) -> str:  # behind a proxy that strips a prefix, as FastAPI's own docs
        prefix: str = request.scope.get("root_path", "")
        return prefix.rstrip("/")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        base = root(request)
        page = get_swagger_ui_html(
            openapi_url=base + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{base}{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{base}{DOCS_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{base}{DOCS_ASSETS_URL}/favicon.png",
            # No spec validator badge: it would send the spec's address to validator.swagger.io.
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), "validatorUrl": None},
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        base = root(request)
        page = get_redoc_html(
            openapi_url=base + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{base}{DOCS_ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{base}{DOCS_ASSETS_URL}/favicon.png",
            with_google_fonts=False,  # the system's fonts rather than a request to Google
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page


async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "a value is out of the range the database can store"}, 422)
