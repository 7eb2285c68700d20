"""The FastAPI application: routers, static screens and the service's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine

from maitre.api.routes import actions, guests, parties, reservations, screens, system, venues
from maitre.auth import signer_for
from maitre.config import Settings
from maitre.db import make_engine
from maitre.mqtt import BrokerAddress
from maitre.service import VenueService


def create_app(settings: Settings, broker: BrokerAddress | None, engine: Engine | None = None) -> FastAPI:
    """Build the app; `broker` None runs without MQTT ingest (API and screens only)."""
    service = VenueService(settings, engine or make_engine(settings.database_url), broker)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(
        title="Maître venue service",
        version="0.1.0",
        description="Bands at the door become greetings by name on the host screen.",
        lifespan=lifespan,
    )
    app.state.service = service
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    app.state.signer = signer_for(secret)
    for module in (venues, guests, reservations, parties, screens, actions, system):
        app.include_router(module.router)
    static = resources.files("maitre.web") / "static"
    app.mount("/screens", StaticFiles(directory=str(static), html=True), name="screens")

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse("/docs")

    return app
