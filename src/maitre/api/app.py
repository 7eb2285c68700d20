"""The FastAPI application: routers, static screens and the service's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError

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
    venues,
)
from maitre.config import Settings
from maitre.db import make_engine
from maitre.guests.erasure import purge_periodically
from maitre.guests.ratelimit import PublicLimits, RateLimiter
from maitre.mqtt import BrokerAddress
from maitre.runtime.service import VenueService
from maitre.security.tokens import signer_for


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
    )
    app.state.service = service
    app.state.signer = signer_for(settings.signing_key())
    app.state.login_limiter = RateLimiter(settings.login_burst, settings.login_per_minute)
    app.state.public_limits = PublicLimits(
        settings.guest_burst, settings.guest_per_minute, settings.probe_burst, settings.probe_per_minute
    )
    app.state.checkin_limits = checkin.CheckinLimits(settings.checkin_burst, settings.checkin_per_minute)
    for module in (venues, guests, reservations, parties, screens, actions, system, login):
        app.include_router(module.router)
    for module in (checkin, menu, privacy, insights):  # the guest side, and its staff views
        app.include_router(module.router)
    # A number the database cannot hold (an id of 2^70) is the client's mistake, not a fault here.
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DataError, _out_of_range)
    static = resources.files("maitre.web") / "static"
    app.mount("/screens", StaticFiles(directory=str(static), html=True), name="screens")

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse("/docs")

    @app.get("/checkin", include_in_schema=False)
    def checkin_page() -> RedirectResponse:
        """The short link printed on confirmations (`/checkin#code=…` keeps the code out of logs)."""
        return RedirectResponse("/screens/checkin.html")

    return app


async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "a value is out of the range the database can store"}, 422)
