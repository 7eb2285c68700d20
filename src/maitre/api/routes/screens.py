"""Staff screens: alerts by sequence number over REST, live over a websocket."""

from __future__ import annotations

import asyncio
import contextlib
import json

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from sqlmodel import select

from maitre.alerts.store import alerts_since, to_read
from maitre.api.deps import SessionDep, venue_by_slug
from maitre.db import session_scope
from maitre.models import AlertRead, ScreenRole, Venue
from maitre.service import VenueService

router = APIRouter(tags=["screens"])


@router.get("/api/venues/{slug}/alerts", response_model=list[AlertRead])
def list_alerts(
    slug: str, session: SessionDep, role: ScreenRole | None = None, since: int = Query(0, ge=0)
) -> list[AlertRead]:
    venue = venue_by_slug(session, slug)
    return [to_read(a, venue.slug) for a in alerts_since(session, venue, role, since)]


def _backlog(
    service: VenueService, slug: str, role: ScreenRole, since: int
) -> tuple[int, list[AlertRead]] | None:
    with session_scope(service.engine) as session:
        venue = session.exec(select(Venue).where(Venue.slug == slug)).first()
        if venue is None:
            return None
        return venue.alert_seq, [
            to_read(a, slug) for a in alerts_since(session, venue, role, since, limit=10_000)
        ]


@router.websocket("/ws/{slug}/{role}")
async def screen_feed(websocket: WebSocket, slug: str, role: str, since: int = 0) -> None:
    """Send the alerts after `since`, then every new one, each exactly once, in sequence order."""
    service: VenueService = websocket.app.state.service
    try:
        screen_role = ScreenRole(role)
    except ValueError:
        await websocket.close(code=4404, reason=f"no screen role {role!r}")
        return
    await websocket.accept()
    # Subscribe before reading the backlog, so nothing committed in between is missed.
    sub = service.hub.subscribe(slug, screen_role.value)
    try:
        found = await asyncio.to_thread(_backlog, service, slug, screen_role, max(since, 0))
        if found is None:
            await websocket.close(code=4404, reason=f"no venue {slug!r}")
            return
        venue_seq, backlog = found
        await websocket.send_json(
            {"type": "hello", "venue": slug, "role": screen_role.value, "seq": venue_seq}
        )
        last = max(since, 0)
        for alert in backlog:
            await websocket.send_text(_frame(alert))
            last = alert.seq
        reader = asyncio.create_task(_read_client(websocket))
        overflow = asyncio.create_task(sub.overflowed.wait())
        try:
            while True:
                getter = asyncio.create_task(sub.queue.get())
                done, _ = await asyncio.wait({getter, reader, overflow}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    if overflow in done:
                        await websocket.close(code=4008, reason="too far behind; reconnect with since")
                    return
                alert = getter.result()
                if alert.seq > last:
                    await websocket.send_text(_frame(alert))
                    last = alert.seq
        finally:
            for task in (reader, overflow):
                task.cancel()
    except WebSocketDisconnect:
        pass
    finally:
        service.hub.unsubscribe(sub)


async def _read_client(websocket: WebSocket) -> None:
    """Answer pings; ignore anything else a screen sends. Returns when the screen goes away."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            text = await websocket.receive_text()
            try:
                msg = json.loads(text)
            except ValueError:
                continue
            if isinstance(msg, dict) and msg.get("type") == "ping":
                await websocket.send_json({"type": "pong"})


def _frame(alert: AlertRead) -> str:
    return json.dumps({"type": "alert", **alert.model_dump(mode="json")})
