"""uvicorn's websocket protocol, able to write an already-encoded frame to a screen at once.

An alert goes to every screen of a venue and role. Through ASGI that is, per screen, a task
woken, a send timeout, and the frame built again; here the hub writes the one encoded frame to
each socket that can take it, from the event loop, as uvicorn writes its own pings. A socket
that is backed up, closing or not yet open is refused, and its alerts take the ASGI path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

# The ASGI scope extension under which a screen's handler finds {"write": its socket's FrameWriter}.
FRAME_WRITER = "maitre.frame_writer"

# Writes one complete, encoded server frame now; False if the socket cannot take it.
FrameWriter = Callable[[bytes], bool]

# The server declines permessage-deflate (uvicorn's ws_per_message_deflate): compressing costs a
# deflate per screen per alert, and a zlib context per screen, to save a few hundred bytes a
# frame on the venue's own network.
PER_MESSAGE_DEFLATE = False


class ScreenSocketProtocol(WebSocketsSansIOProtocol):
    """Pass as uvicorn's `ws`: the default implementation, plus a FrameWriter in each scope."""

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        # The app's task for this socket was created just now but has not run: it sees this.
        if self.handshake_initiated and not self.close_sent:
            self.scope["extensions"][FRAME_WRITER] = {"write": self.write_frame}

    def write_frame(self, frame: bytes) -> bool:
        """Write a whole frame (never a part, so frames from here and uvicorn do not interleave)."""
        if not self.handshake_complete or self.close_sent or self.disconnected:
            return False
        if not self.writable.is_set() or self.transport.is_closing():
            return False  # over the high-water mark: the ASGI path waits, with a timeout
        self.transport.write(frame)
        return True
