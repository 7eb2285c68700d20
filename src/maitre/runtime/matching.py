"""Presence events waiting to be matched: arrivals first, each acknowledged once its alerts are recorded."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import time
from collections.abc import Callable
from typing import NamedTuple

from sqlalchemy.exc import OperationalError

from maitre.alerts.hub import AlertHub
from maitre.hospitality.arrivals import Arrivals
from maitre.models import AlertRead
from maitre.observability.histogram import Histogram
from maitre.presence import PresenceEvent

log = logging.getLogger("maitre.runtime.matching")

# After an approach that changed nothing, that band's approaches skip matching for this long.
QUIET_APPROACH_SECONDS = 30.0
# How long an approach waits for others to gather, so that one query lets them all go.
APPROACH_GATHER_SECONDS = 0.02


class _Queued(NamedTuple):
    priority: int  # 0: arrived, left; 1: approaching
    order: int
    event: PresenceEvent
    ack: Callable[[], None] | None


class MatchingQueue:
    """Feeds presence events to `Arrivals` one transaction at a time, and the alerts to the hub.

    Arrivals go before approaches (a greeting must not wait behind heads-ups), in order within
    each. An event's acknowledgement (of its MQTT message) runs once the event is recorded, so a
    service killed before then gets the batch again from the broker.
    """

    def __init__(self, arrivals: Arrivals, hub: AlertHub) -> None:
        self.arrivals = arrivals
        self.hub = hub
        self._events: asyncio.PriorityQueue[_Queued] = asyncio.PriorityQueue()
        self._order = itertools.count()
        self.idle = asyncio.Event()  # clear while a matching transaction runs
        self.idle.set()
        self._urgent = asyncio.Event()  # set when an arrival (or a leaving) is queued
        # (venue, band) whose last approach changed nothing: more approaches skip the database a while.
        self.quiet_approaches: dict[tuple[str, str], float] = {}
        self._expected: set[int] = set()  # queued approaches already found worth matching, by order
        # Wall-clock seconds from taking an event off the queue to its alerts fanned out.
        self.latencies: list[float] = []
        self.latency = Histogram()  # the same, for /metrics

    def __len__(self) -> int:
        return self._events.qsize()

    def put(self, event: PresenceEvent, ack: Callable[[], None] | None = None) -> None:
        priority = 1 if event.kind == "approaching" else 0
        self._events.put_nowait(_Queued(priority, next(self._order), event, ack))
        if not priority:
            self._urgent.set()

    async def _arrival_while_gathering(self) -> bool:
        """Wait APPROACH_GATHER_SECONDS for more approaches; True at once if an arrival comes."""
        self._urgent.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(APPROACH_GATHER_SECONDS):
                await self._urgent.wait()
        return self._urgent.is_set()

    def worth_matching(self, event: PresenceEvent) -> bool:
        """False for an approach of a band whose last approach, moments ago, changed nothing."""
        if event.kind != "approaching":
            return True
        until = self.quiet_approaches.get((event.venue, event.band))
        return until is None or until < time.monotonic()

    def expire_quiet(self) -> None:
        now = time.monotonic()
        quiet = self.quiet_approaches
        for key in [k for k, until in quiet.items() if until < now]:
            del quiet[key]

    async def run(self) -> None:
        while True:
            queued = await self._events.get()
            if queued.order in self._expected:
                self._expected.discard(queued.order)
            elif queued.event.kind == "approaching":
                # Even alone: one small query is cheaper than a matching transaction that finds
                # nothing, which is what most approaches (passers-by, the unbooked) come to; and
                # a moment's wait lets a burst of them share it (a heads-up, not a greeting).
                if await self._arrival_while_gathering():
                    self._events.put_nowait(queued)  # the arrival goes first; this keeps its place
                    continue
                await self._skip_unexpected(queued)
                continue
            _, _, event, ack = queued
            started = time.perf_counter()
            # Checked again here: repeats queued before the first of them was matched.
            matched = self.worth_matching(event)
            alerts = await self._handle_with_retry(event) if matched else []
            if ack is not None:
                ack()
            if matched and event.kind == "approaching" and not alerts:
                # No open reservation, not consenting, or already on its way: the next approach
                # would find the same. Arrivals are never skipped.
                self.quiet_approaches[(event.venue, event.band)] = time.monotonic() + QUIET_APPROACH_SECONDS
            if alerts:
                elapsed = time.perf_counter() - started
                self.latency.observe(elapsed)
                self.latencies.append(elapsed)
                del self.latencies[:-1000]

    async def _skip_unexpected(self, first: _Queued) -> None:
        """Let go at once of the queued approaches of bands no open reservation is waiting for.

        Arrivals go first, so everything queued behind an approach is approaches; one query says
        which bands could match at all, where each would cost a transaction that finds nothing.
        Those let go count as matched without alerts (quiet for a while), as they would have.
        """
        waiting = [first]
        while not self._events.empty():
            queued = self._events.get_nowait()
            if queued.event.kind != "approaching":  # queued while the approaches gathered
                self._events.put_nowait(queued)
                break  # the queue gives arrivals first: what is left behind it is approaches
            waiting.append(queued)
        times: dict[str, list[float]] = {}
        for q in waiting:
            times.setdefault(q.event.venue, []).append(q.event.at)
        try:
            expected = {
                venue: await asyncio.to_thread(self.arrivals.expected_bands, venue, min(at), max(at))
                for venue, at in times.items()
            }
        except Exception as exc:  # matched one by one then, as before (which retries)
            log.debug("could not check which approaches are expected: %s", exc)
            expected = {venue: {q.event.band for q in waiting} for venue in times}
        quiet_until = time.monotonic() + QUIET_APPROACH_SECONDS
        for q in waiting:
            if q.event.band in expected[q.event.venue]:
                self._expected.add(q.order)  # back in its place, to be matched
                self._events.put_nowait(q)
                continue
            if self.worth_matching(q.event):  # as matching it and finding nothing would
                self.quiet_approaches[(q.event.venue, q.event.band)] = quiet_until
            if q.ack is not None:
                q.ack()

    async def _handle_with_retry(self, event: PresenceEvent) -> list[AlertRead]:
        """Record the event's alerts; while the database is away, keep trying rather than lose it.

        Matching uses the event's own time, so an arrival recorded late is still matched to the
        right reservation; its MQTT message stays unacknowledged until then, so a restart
        meanwhile loses nothing either.
        """
        delay = 0.2
        attempt = 0
        while True:
            attempt += 1
            self.idle.clear()
            try:
                return await self.hub.record(functools.partial(self.arrivals.handle, event))
            except OperationalError as exc:
                log.warning("database unavailable handling %s (attempt %d): %s", event.kind, attempt, exc)
            except Exception:
                log.exception("could not handle presence event %s", event)
                return []
            finally:
                self.idle.set()  # not paused while we wait to try again
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
