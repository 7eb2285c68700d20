"""Warnings for problems that repeat at radio speed: the first at once, then a count once a minute."""

from __future__ import annotations

import logging
import time

# Often enough that an operator tailing the journal sees a problem persist, rarely enough that a
# broken beacon advertising ten times a second cannot fill an SD card with log lines.
REPEAT_SECONDS = 60.0


class RateLimitedLog:
    """Logs each kind of problem at most once per REPEAT_SECONDS, saying how often it happened."""

    __slots__ = ("_last", "_logger", "_suppressed")

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def warning(self, kind: str, message: str, *args: object) -> None:
        now = time.monotonic()
        last = self._last.get(kind)
        if last is not None and now - last < REPEAT_SECONDS:
            self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
            return
        self._last[kind] = now
        repeated = self._suppressed.pop(kind, 0)
        if repeated:
            message += f" (and {repeated} more like it since the last report)"
        self._logger.warning(message, *args)
