"""Staff screens: events by sequence number over REST, and live over an authenticated websocket.

Websocket protocol (docs/operate/screens.md):
  screen → service, first frame:  {"type": "hello", "token": "mt1…", "since": 0}
  service → screen:               {"type": "snapshot", …} or {"type": "resume", …} + missed
                                  {"type": "alert", …} frames, then every new alert, in order
  screen → service, any time:     {"type": "ping"}  →  {"type": "pong"}

The token travels in the first frame rather than the URL (request logs keep URLs) or the
Sec-WebSocket-Protocol header (a refusal there is an HTTP 403 the page cannot tell apart from a
network error). After accepting, a refusal is a close frame with a code and reason the page can
show: 4401 bad or expired token, 4403 wrong venue or role, 4404 no such venue or screen, 4400
malformed frame, 4408 no hello in time, 4008 too slow to keep up (reconnect with `since`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from typing import Any, NamedTuple

from fastapi import APIRouter, HTTPException, Query, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState
from websockets.frames import Frame, Opcode

from maitre.alerts.snapshot import opening_frames
from maitre.alerts.store import alerts_since, to_read
from maitre.api.deps import SessionDep, StaffDep, require_screen, venue_by_slug
from maitre.api.hardening import ConnectionCap
from maitre.api.screen_socket import FRAME_WRITER, FrameWriter
from maitre.config import Settings
from maitre.db import session_scope
from maitre.models import AlertRead, ScreenRole
from maitre.runtime.service import VenueService
from maitre.security.revocation import RevocationList
from maitre.security.tokens import InvalidToken, StaffClaims, TokenSigner

log = logging.getLogger("maitre.screens")
router = APIRouter(tags=["screens"])

HELLO_TIMEOUT_SECONDS = 5.0  # an open socket that never says who it is gets closed
# A screen that cannot take one frame in this long is dropped rather than let it hold a sender;
# it reconnects and resumes from its last sequence number, so it loses nothing.
SEND_TIMEOUT_SECONDS = 5.0
CLOSE_TIMEOUT_SECONDS = 1.0
MAX_CLIENT_FRAME = 4096  # a hello with a token is ~250 bytes

CLOSE_TOO_SLOW = 4008
CLOSE_BAD_FRAME = 4400
CLOSE_UNAUTHORISED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_HELLO_TIMEOUT = 4408
CLOSE_TOO_MANY = 4429  # the address holds MAITRE_SCREENS_PER_ADDRESS screens already


class ScreenClosed(Exception):
    """End the connection with this close code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@router.get("/api/venues/{slug}/alerts", response_model=list[AlertRead])
def list_alerts(
    slug: str,
    session: SessionDep,
    claims: StaffDep,
    role: ScreenRole | None = None,
    since: int = Query(0, ge=0),
) -> list[AlertRead]:
    """Events after `since`; a host or kitchen token reads its own screen's, a manager's any."""
    if claims.venue != slug:
        raise HTTPException(403, "the token is for another venue")
    if role is None and claims.role.value in (ScreenRole.HOST, ScreenRole.KITCHEN):
        role = ScreenRole(claims.role.value)
    if role is not None:
        require_screen(claims, slug, role.value)
    venue = venue_by_slug(session, slug)
    return [to_read(a, venue.slug) for a in alerts_since(session, venue, role, since)]


@router.websocket("/ws/{slug}/{role}")
async def screen_feed(websocket: WebSocket, slug: str, role: str) -> None:
    """After a valid hello: the opening frames, then every new alert, each once, in sequence order."""
    service: VenueService = websocket.app.state.service
    sockets: ConnectionCap = websocket.app.state.screen_sockets
    address = websocket.client.host if websocket.client else "unknown"
    await websocket.accept()
    if not sockets.open(address):
        await _close(websocket, CLOSE_TOO_MANY, "too many screens open from this address")
        return
    try:
        screen, since = await _hello(websocket, websocket.app.state.signer, slug, role)
        await _feed(websocket, service, slug, screen, since)
    except ScreenClosed as closed:
        await _close(websocket, closed.code, closed.reason)
    except WebSocketDisconnect:
        pass
    finally:
        sockets.close(address)


async def _hello(websocket: WebSocket, signer: TokenSigner, slug: str, role: str) -> tuple[ScreenRole, int]:
    try:
        screen = ScreenRole(role)
    except ValueError:
        raise ScreenClosed(CLOSE_NOT_FOUND, f"no screen {role[:40]!r}") from None
    try:
        async with asyncio.timeout(HELLO_TIMEOUT_SECONDS):
            msg = await _receive_json(websocket)
    except TimeoutError:
        raise ScreenClosed(CLOSE_HELLO_TIMEOUT, "no hello in time") from None
    if msg.get("type") != "hello" or not isinstance(msg.get("token"), str):
        raise ScreenClosed(CLOSE_UNAUTHORISED, "first frame must be a hello with a token")
    since = msg.get("since", 0)
    if not isinstance(since, int) or isinstance(since, bool) or since < 0:
        raise ScreenClosed(CLOSE_BAD_FRAME, "since must be a sequence number")
    try:
        claims: StaffClaims = signer.verify(msg["token"])
    except InvalidToken as exc:
        raise ScreenClosed(CLOSE_UNAUTHORISED, str(exc)) from None
    revocations: RevocationList = websocket.app.state.revocations
    if await asyncio.to_thread(revocations.revoked, claims):
        raise ScreenClosed(CLOSE_UNAUTHORISED, "token revoked")
    if claims.venue != slug:
        raise ScreenClosed(CLOSE_FORBIDDEN, "the token is for another venue")
    if not claims.may_open(slug, screen.value):
        raise ScreenClosed(CLOSE_FORBIDDEN, f"a {claims.role.value} token does not open this screen")
    return screen, since


async def _feed(
    websocket: WebSocket, service: VenueService, slug: str, screen: ScreenRole, since: int
) -> None:
    # Subscribe before reading the opening state, so nothing committed in between is missed.
    sub = service.hub.subscribe(slug, screen.value)
    reader: asyncio.Task[None] | None = None
    try:
        opened = await asyncio.to_thread(_opening, service, slug, screen, since)
        if opened is None:
            raise ScreenClosed(CLOSE_NOT_FOUND, f"no venue {slug[:40]!r}")
        last, frames = opened
        for frame in frames:
            await _send(websocket, json.dumps(frame))
        reader = asyncio.create_task(_read_client(websocket))
        reader.add_done_callback(lambda _: sub.close())  # the screen went away: stop waiting for alerts
        write: FrameWriter | None = websocket.scope.get("extensions", {}).get(FRAME_WRITER, {}).get("write")
        if write is not None:
            # Caught up: from now on the hub writes each alert's frame straight to this socket,
            # while it can take it; the queue below takes what it cannot.

            def direct(alert: AlertRead) -> bool:
                nonlocal last
                if alert.seq > last:  # else already in the opening frames
                    if not write(encoded(alert).frame):
                        return False
                    last = alert.seq
                return True

            sub.direct = direct
        while (alert := await sub.queue.get()) is not None:
            sub.sending = True
            if alert.seq > last:
                await _send(websocket, encoded(alert).text)
                last = alert.seq
            sub.sending = False
        if sub.overflowed.is_set():
            raise ScreenClosed(CLOSE_TOO_SLOW, "too far behind; reconnect with since")
        reader.result()  # raises the reader's ScreenClosed, if it closed for a reason
    finally:
        service.hub.unsubscribe(sub)
        if reader is not None:
            reader.cancel()


def _opening(
    service: VenueService, slug: str, screen: ScreenRole, since: int
) -> tuple[int, list[dict[str, object]]] | None:
    settings = service.settings
    with session_scope(service.engine) as session:
        return opening_frames(session, slug, screen, since, screen_config(settings), settings.vip_visits)


def screen_config(settings: Settings) -> dict[str, object]:
    """The venue's settings a screen needs, sent with every snapshot."""
    return {
        "warn_s": settings.kitchen_warn_minutes * 60,
        "late_s": settings.kitchen_late_minutes * 60,
        "tables": settings.tables,
    }


async def _send(websocket: WebSocket, text: str) -> None:
    try:
        async with asyncio.timeout(SEND_TIMEOUT_SECONDS):  # unlike wait_for, no task per frame
            await websocket.send_text(text)
    except TimeoutError:
        log.warning("a screen took no frame for %.0f s; dropping it", SEND_TIMEOUT_SECONDS)
        raise ScreenClosed(CLOSE_TOO_SLOW, "not reading; reconnect with since") from None


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.client_state != WebSocketState.CONNECTED:
        return
    # A peer that reads nothing cannot take a close frame either: do not wait on it for long.
    with contextlib.suppress(TimeoutError, RuntimeError, WebSocketDisconnect):
        await asyncio.wait_for(websocket.close(code=code, reason=reason), CLOSE_TIMEOUT_SECONDS)


async def _read_client(websocket: WebSocket) -> None:
    """Answer pings; a malformed frame ends the connection. Returns when the screen goes away."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            msg = await _receive_json(websocket)
            if msg.get("type") == "ping":
                await _send(websocket, '{"type":"pong"}')


async def _receive_json(websocket: WebSocket) -> dict[str, Any]:
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    if not isinstance(text, str) or len(text) > MAX_CLIENT_FRAME:
        raise ScreenClosed(CLOSE_BAD_FRAME, "frames must be JSON text of at most 4 KiB")
    try:
        msg = json.loads(text)
    except ValueError:
        raise ScreenClosed(CLOSE_BAD_FRAME, "frame is not JSON") from None
    if not isinstance(msg, dict):
        raise ScreenClosed(CLOSE_BAD_FRAME, "frame is not a JSON object")
    return msg


class Encoded(NamedTuple):
    text: str  # the alert frame's JSON, for the ASGI path
    frame: bytes  # the same as a complete websocket frame, server → screen, for the direct path


# Each alert's frame, encoded once for all the screens it goes to (keyed by the object, which
# every screen's queue shares; the alert is kept so its id cannot be reused while cached).
_FRAMES: OrderedDict[int, tuple[AlertRead, Encoded]] = OrderedDict()
FRAMES_CACHED = 64


def encoded(alert: AlertRead) -> Encoded:
    cached = _FRAMES.get(id(alert))
    if cached is not None and cached[0] is alert:
        return cached[1]
    text = json.dumps({"type": "alert", **alert.model_dump(mode="json")})
    # Unmasked (servers never mask) and uncompressed (valid with permessage-deflate too: only a
    # frame marked RSV1 is inflated), so the same bytes are a valid frame on every screen's socket.
    frame = Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])
    _FRAMES[id(alert)] = (alert, Encoded(text, frame))
    if len(_FRAMES) > FRAMES_CACHED:
        _FRAMES.popitem(last=False)
    return _FRAMES[id(alert)][1]
