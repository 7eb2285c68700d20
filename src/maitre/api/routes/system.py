"""Health, readiness, Prometheus metrics and ingest figures."""

from __future__ import annotations

import asyncio
import functools
import hmac

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine

from maitre.api.deps import RATE_LIMITED, ManagerDep, ServiceDep, probe_rate_limit
from maitre.db import SchemaOutdated, check_schema, migration_config
from maitre.observability.metrics import CONTENT_TYPE, render

router = APIRouter(tags=["system"])

# A database that takes longer than this to answer `SELECT 1` is not ready for an arrival.
READY_DB_TIMEOUT_SECONDS = 2.0


# Not rate limited: it does no work a limit would save, and a refused liveness probe gets a
# healthy service restarted.
@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up and answering (liveness)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    dependencies=[Depends(probe_rate_limit)],
    responses={503: {"description": "not ready: the body says what is missing"}, **RATE_LIMITED},
)
async def readyz(service: ServiceDep) -> JSONResponse:
    """Ready to greet: the database answers with this version's schema and, when ingesting, the
    broker is connected."""
    checks: dict[str, str] = {}
    try:
        checks["database"] = await asyncio.wait_for(
            asyncio.to_thread(_schema_state, service.engine), READY_DB_TIMEOUT_SECONDS
        )
    except TimeoutError:
        checks["database"] = "timed out"
    except Exception as exc:  # any driver error means the same: not ready
        checks["database"] = f"unavailable: {type(exc).__name__}"
    if service.broker is not None:
        checks["mqtt"] = "ok" if service.mqtt_connected() else "disconnected"
    ready = all(v == "ok" for v in checks.values())
    body: dict[str, object] = {"status": "ready" if ready else "not ready", **checks}
    if service.partitioned:
        body["venues"] = service.venue_claims()  # serving, or standby for another instance's venue
    if service.directory.plan_problems:  # ready, but an operator should look: never a silent guess
        body["plans"] = dict(service.directory.plan_problems)
    drifting = {
        venue: warnings
        for venue in sorted(service.directory.venue_models)
        if (warnings := service.presence.drift_warnings(venue))
    }
    if drifting:
        body["drift"] = drifting
    return JSONResponse(body, 200 if ready else 503)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    dependencies=[Depends(probe_rate_limit)],
    responses={401: {"description": "wrong token"}, **RATE_LIMITED},
)
def metrics(request: Request, service: ServiceDep) -> Response:
    """Prometheus text format; asks for `MAITRE_METRICS_TOKEN` as a bearer token when one is set."""
    expected = service.settings.metrics_token
    if expected is not None:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {expected.get_secret_value()}".encode()):
            raise HTTPException(401, "a metrics token is required", headers={"WWW-Authenticate": "Bearer"})
    registry: CollectorRegistry = request.app.state.metrics_registry  # made in create_app
    return Response(render(registry), media_type=CONTENT_TYPE)


@router.get("/api/ingest/stats")
def ingest_stats(service: ServiceDep, claims: ManagerDep) -> dict[str, object]:
    stats = service.ingest.stats.as_dict()
    stats["mqtt_connected"] = service.broker is not None and service.mqtt_connected()
    stats["tracked_bands"] = len(service.presence)
    stats["connected_screens"] = service.hub.connected()
    return stats


@functools.cache
def _heads() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(migration_config()).get_heads())


def _schema_state(engine: Engine) -> str:
    """`ok` if the database answers and its schema is this version's; else what is wrong (a database
    emptied or restored from an older backup answers every other call with 500)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if current == _heads():
        return "ok"
    try:
        check_schema(engine)
    except SchemaOutdated as exc:
        return f"wrong schema: {exc}"
    return "ok"
