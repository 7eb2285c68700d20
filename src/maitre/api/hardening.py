"""What every HTTP response and request passes through: a body size limit and security headers."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Screens and the check-in page load scripts and styles from here only, talk to the API and the
# screen websocket here only, and may be framed by nobody (clickjacking). JavaScript may still set
# an element's style (CSSOM), which CSP does not govern.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# A year, only over HTTPS: a browser that saw it will not speak plain HTTP to this host again.
HSTS = "max-age=31536000"
_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),  # tokens ride in fragments, but a path may still name a guest
    (b"x-frame-options", b"DENY"),  # frame-ancestors, for browsers that predate it
)


# A body over the limit is read and thrown away, never parsed or kept, before the 413 goes out,
# so that a client still sending reads the answer instead of a reset connection; past this much
# the connection is closed instead (read nothing more from a client that sends that much).
DRAIN_LIMIT_BYTES = 64 * 1024 * 1024


async def _discard_body(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


class BodyTooLarge(HTTPException):
    """The request body ran past the limit while it was being read (FastAPI answers it as a 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large(limit))


def too_large(limit: int) -> str:
    return f"the request body is larger than this service accepts ({limit} bytes)"


class Hardening:
    """ASGI middleware: 413 for a body over `max_body` bytes (by Content-Length, or counted as it
    streams in), and the security headers on every response that does not set its own."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body:
            if declared <= DRAIN_LIMIT_BYTES:
                await _discard_body(receive)
            await self._refuse(scope, send)
            return
        https = scope.get("scheme") == "https"
        started = False
        seen = 0

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge(self.max_body)
            return message

        async def headed_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = _with_security_headers(message.get("headers", []), https)
            await send(message)

        try:
            await self.app(scope, counted_receive, headed_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = json.dumps({"detail": too_large(self.max_body)}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        headers += [(b"connection", b"close")]
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": _with_security_headers(headers, scope.get("scheme") == "https"),
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: MutableMapping[str, Any]) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _with_security_headers(headers: Any, https: bool) -> list[tuple[bytes, bytes]]:
    """The response's headers, plus each security header it does not set itself."""
    out = [(bytes(k), bytes(v)) for k, v in headers]
    present = {k.lower() for k, _ in out}
    if b"content-security-policy" not in present:
        out.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
    out += [(k, v) for k, v in _HEADERS if k not in present]
    if https and b"strict-transport-security" not in present:
        out.append((b"strict-transport-security", HSTS.encode()))
    return out


def server_options(trusted_proxies: list[str]) -> dict[str, Any]:
    """uvicorn's settings for forwarded headers: believed only from these proxies, none by default
    (uvicorn's own default believes 127.0.0.1, so anyone on the host could pick their address)."""
    if not trusted_proxies:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": ",".join(trusted_proxies)}


class ConnectionCap:
    """How many long-lived connections (screen websockets) each client address holds; at most `limit`."""

    __slots__ = ("_open", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}

    def open(self, address: str) -> bool:
        """Count one more for `address`, unless it already holds `limit`: then False, and nothing counted."""
        held = self._open.get(address, 0)
        if held >= self.limit:
            return False
        self._open[address] = held + 1
        return True

    def close(self, address: str) -> None:
        held = self._open.get(address, 0) - 1
        if held > 0:
            self._open[address] = held
        else:
            self._open.pop(address, None)
