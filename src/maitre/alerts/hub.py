"""Fan-out of committed alerts to the connected screens of a venue and role."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from maitre.models import AlertRead

log = logging.getLogger("maitre.alerts")

# A screen that falls this far behind is not reading: drop it rather than slow the others.
# It reconnects and resumes from its last sequence number, so it loses nothing.
SUBSCRIBER_BACKLOG = 256


class Subscription:
    """One screen's alerts, in order; None once it is closed (by the hub on overflow, or `close`)."""

    __slots__ = ("direct", "overflowed", "queue", "role", "sending", "venue")

    def __init__(self, venue: str, role: str) -> None:
        self.venue = venue
        self.role = role
        # Bounded by the hub (SUBSCRIBER_BACKLOG), so that the closing None always fits.
        self.queue: asyncio.Queue[AlertRead | None] = asyncio.Queue()
        self.overflowed = asyncio.Event()
        # Set by the screen once it is caught up: delivers an alert at once, or says it cannot
        # (then the alert is queued). Used only while nothing is queued or being sent, so that
        # alerts keep their order.
        self.direct: Callable[[AlertRead], bool] | None = None
        self.sending = False  # the screen's reader has taken an alert from the queue and is sending it

    def close(self) -> None:
        """Wake the reader with None: nothing more comes."""
        self.direct = None
        self.queue.put_nowait(None)


class AlertHub:
    """In-process fan-out; call only from the event loop thread."""

    def __init__(self) -> None:
        self._subs: dict[tuple[str, str], set[Subscription]] = {}
        self._writing = asyncio.Lock()
        # Also hands each committed alert to the other service instances (maitre.runtime.cluster), if any.
        self.relay: Callable[[AlertRead], None] | None = None

    async def record(self, write: Callable[[], list[AlertRead]]) -> list[AlertRead]:
        """Run `write` (a committing database write, in a thread), then publish what it returns.

        Writers take turns, so alerts reach the hub in the order they were numbered: a screen
        skips a sequence number lower than the last one it showed, and must never need to.
        """
        async with self._writing:
            alerts = await asyncio.to_thread(write)
            for alert in alerts:
                self.publish(alert)
                if self.relay is not None:
                    self.relay(alert)
        return alerts

    def subscribe(self, venue: str, role: str) -> Subscription:
        sub = Subscription(venue, role)
        self._subs.setdefault((venue, role), set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get((sub.venue, sub.role))
        if subs is not None:
            subs.discard(sub)

    def publish(self, alert: AlertRead) -> int:
        """Queue the alert for every matching screen; returns how many got it."""
        delivered = 0
        for sub in list(self._subs.get((alert.venue, alert.role.value), ())):
            direct = sub.direct
            if direct is not None and not sub.sending and sub.queue.empty() and direct(alert):
                delivered += 1
            elif sub.queue.qsize() < SUBSCRIBER_BACKLOG:
                sub.queue.put_nowait(alert)
                delivered += 1
            else:
                log.warning("screen %s/%s is not reading; disconnecting it", sub.venue, sub.role)
                sub.overflowed.set()
                self.unsubscribe(sub)
                sub.close()
        return delivered

    def connected(self) -> int:
        return sum(len(s) for s in self._subs.values())
