"""Health and ingest figures."""

from __future__ import annotations

from fastapi import APIRouter

from maitre.api.deps import ServiceDep

router = APIRouter(tags=["system"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/api/ingest/stats")
def ingest_stats(service: ServiceDep) -> dict[str, object]:
    stats = service.ingest.stats.as_dict()
    stats["mqtt_connected"] = bool(service.ingress and service.ingress.connected.is_set())
    stats["tracked_bands"] = len(service.presence)
    stats["connected_screens"] = service.hub.connected()
    return stats
