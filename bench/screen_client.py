"""A lean websocket client for the benchmarks: a thousand screens read by one process, timed on arrival.

A `websockets` client costs a task wake-up, a future and a copy per frame, which with 1,000
sockets in one Python process is most of what a fan-out benchmark measures. Here each screen is
a plain asyncio Protocol: the frame parser runs in `data_received`, and a frame's time is when
its last byte was read. The handshake offers permessage-deflate as browsers do, so a server that
compresses is measured compressing (and this process inflating).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
import time
import zlib
from collections.abc import Callable

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455: proves the server read our key
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
INFLATE_TAIL = b"\x00\x00\xff\xff"  # RFC 7692: stripped by the sender, put back to inflate

# (screen, message, perf_counter seconds when its last byte was read)
OnMessage = Callable[["Screen", bytes, float], None]


class HandshakeFailed(RuntimeError):
    """The server did not switch protocols."""


class Screen(asyncio.Protocol):
    """One websocket connection; hands every complete data message to `on_message`."""

    __slots__ = (
        "_buffer",
        "_compressed_message",
        "_fragments",
        "_inflate",
        "_key",
        "_opened",
        "_reset_inflate",
        "closed",
        "compressed",
        "on_message",
        "transport",
    )

    def __init__(self, on_message: OnMessage) -> None:
        self.on_message = on_message
        self.transport: asyncio.Transport | None = None
        self.compressed = False  # permessage-deflate was negotiated
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._key = base64.b64encode(os.urandom(16))
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._compressed_message = False  # the message being reassembled was deflated
        self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        self._reset_inflate = False  # server_no_context_takeover

    def request(self, host: str, port: int, path: str) -> bytes:
        return (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {self._key.decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
        ).encode()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        for future in (self._opened, self.closed):
            if not future.done():
                future.set_result(None) if exc is None else future.set_exception(exc)

    def send(self, text: str) -> None:
        """Send a text message (masked, as a client must)."""
        assert self.transport is not None
        self.transport.write(_client_frame(OP_TEXT, text.encode()))

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_client_frame(OP_CLOSE, struct.pack("!H", 1000)))
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        buffer = self._buffer
        buffer += data
        if not self._opened.done():
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self._handshake(bytes(buffer[:end]))
            del buffer[: end + 4]
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            length, start = second & 0x7F, 2
            if second & 0x80:
                raise HandshakeFailed("the server masked a frame")  # RFC 6455 5.1: it must not
            if length == 126:
                if len(buffer) < 4:
                    return
                length, start = struct.unpack_from("!H", buffer, 2)[0], 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, start = struct.unpack_from("!Q", buffer, 2)[0], 10
            if len(buffer) < start + length:
                return  # the rest of the frame is still on its way
            payload = bytes(buffer[start : start + length])
            del buffer[: start + length]
            self._frame(first, payload, now)

    def _frame(self, first: int, payload: bytes, now: float) -> None:
        opcode = first & 0x0F
        if opcode == OP_PING:
            assert self.transport is not None
            self.transport.write(_client_frame(OP_PONG, payload))
            return
        if opcode == OP_CLOSE:
            self.close()
            return
        if opcode == OP_PONG:
            return
        if opcode != OP_CONT:
            self._fragments = []
            self._compressed_message = bool(first & 0x40)
        self._fragments.append(payload)
        if not first & 0x80:
            return  # more fragments follow
        message = b"".join(self._fragments)
        self._fragments = []
        if first & 0x40 or (opcode == OP_CONT and self._compressed_message):
            message = self._inflate.decompress(message + INFLATE_TAIL)
            if self._reset_inflate:
                self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        self.on_message(self, message, now)

    def _handshake(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            error = HandshakeFailed(f"the server answered {lines[0]!r}")
            self._opened.set_exception(error)
            raise error
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        expected = base64.b64encode(hashlib.sha1(self._key + GUID).digest()).decode()  # noqa: S324 (RFC 6455)
        if headers.get("sec-websocket-accept") != expected:
            raise HandshakeFailed("the server's Sec-WebSocket-Accept does not match our key")
        extensions = headers.get("sec-websocket-extensions", "")
        self.compressed = extensions.startswith("permessage-deflate")
        self._reset_inflate = "server_no_context_takeover" in extensions
        self._opened.set_result(None)

    async def opened(self) -> None:
        await self._opened


async def connect(host: str, port: int, path: str, on_message: OnMessage) -> Screen:
    """Open a websocket to ws://host:port/path; returns once the server has switched protocols."""
    loop = asyncio.get_running_loop()
    _, screen = await loop.create_connection(lambda: Screen(on_message), host, port)
    assert screen.transport is not None
    screen.transport.write(screen.request(host, port, path))
    await screen.opened()
    return screen


def _client_frame(opcode: int, payload: bytes) -> bytes:
    """One final frame, masked with a fresh key."""
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    key = (mask * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(length, "big")
    return head + mask + masked


class Audience:
    """Many screens; `expect` starts a round, `arrivals` waits until every screen has a matching message.

    A screen's time is when the last byte of its matching message was read; the messages are kept,
    so the caller can check after the round (off the clock) that each screen got the whole frame.
    """

    def __init__(self, match: Callable[[bytes], bool]) -> None:
        self.match = match
        self.screens: list[Screen] = []
        self._opening: dict[Screen, asyncio.Future[bytes]] = {}
        self._waiting: set[Screen] = set()
        self._got: list[tuple[float, bytes]] = []
        self._done: asyncio.Future[None] | None = None

    async def join(self, host: str, port: int, path: str, hello: str | None = None) -> bytes | None:
        """Connect one more screen; with a hello, send it and return the first message back."""
        screen = await connect(host, port, path, self._on_message)
        self.screens.append(screen)
        if hello is None:
            return None
        opening = asyncio.get_running_loop().create_future()
        self._opening[screen] = opening
        screen.send(hello)
        return await asyncio.wait_for(opening, 60)

    def expect(self) -> None:
        """From now on, wait for the next matching message at every screen."""
        self._waiting = set(self.screens)
        self._got = []
        self._done = asyncio.get_running_loop().create_future()

    async def arrivals(self, timeout: float) -> list[tuple[float, bytes]]:
        """(perf_counter seconds, message) of the matching message at each screen, in arrival order."""
        assert self._done is not None
        await asyncio.wait_for(self._done, timeout)
        return self._got

    def close(self) -> None:
        for screen in self.screens:
            screen.close()

    def _on_message(self, screen: Screen, message: bytes, at: float) -> None:
        opening = self._opening.pop(screen, None)
        if opening is not None:
            opening.set_result(message)
        elif screen in self._waiting and self.match(message):
            self._waiting.discard(screen)
            self._got.append((at, message))
            if not self._waiting and self._done is not None:
                self._done.set_result(None)
