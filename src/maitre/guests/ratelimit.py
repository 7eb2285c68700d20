"""In-process token buckets (maitre.tokenbucket): how often a client address (or a code) may call
what anyone can reach."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from maitre.tokenbucket import TokenBucket

# Buckets untouched this long are full again anyway: forget them so the table cannot grow unbounded.
IDLE_FORGET_SECONDS = 3600.0
MAX_BUCKETS = 100_000  # past this, the oldest are dropped (a flood of addresses must not exhaust memory)

# Routes a guest's phone calls with its guest token (api/routes/checkin.py). Checking in, linking
# a band, setting consents and pre-ordering takes a phone a few dozen calls; a household on one
# address may do it on several phones at once.
GUEST_BURST = 60
GUEST_PER_MINUTE = 120.0
# Readiness and metrics: a probe or a scrape comes every few seconds, a person or a script
# waiting for a start polls up to twenty times a second. /readyz asks the database each time,
# so a flood of it must not tie up connections the arrivals need.
PROBE_BURST = 120
PROBE_PER_MINUTE = 1200.0
# The check-in look-up (booking code + last name) and linking a band, from a guest's phone. A
# guest who mistypes tries again a few times, and a household on one address checks in several
# phones at once: ten at once covers both. Past that, six a minute is still plenty for a person
# and slow for a script enumerating names; each code gets a stricter bucket of its own
# (api/routes/checkin.py, CheckinLimits).
CHECKIN_BURST = 10
CHECKIN_PER_MINUTE = 6.0
# Staff sign-in (POST /api/login). A shift starting behind one venue Wi-Fi address signs in a few
# screens at once, and a person mistypes a password a time or two: ten at once. Then five a
# minute: every try costs an Argon2id hash (64 MiB, three passes, security/staff.py), so this
# bounds what a flood of sign-ins costs the service as well as how fast a password can be guessed.
LOGIN_BURST = 10
LOGIN_PER_MINUTE = 5.0


class RateLimiter:
    """One bucket per key: `burst` tries at once, refilled at `per_minute`; thread-safe.

    In process only: a service behind several workers would need a shared store, and a service
    behind a reverse proxy must be given the client's address by it (we do not trust
    X-Forwarded-For by default, or any client could pick its own bucket).
    """

    __slots__ = ("_buckets", "_clock", "_lock", "burst", "rate")

    def __init__(self, burst: int, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = float(burst)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one try; 0.0 if allowed, else the seconds until the next one is."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(self.burst, self.rate, now)
            if not bucket.take(now):
                return bucket.wait()
            if len(self._buckets) > MAX_BUCKETS:
                self._prune(now)
        return 0.0

    def _prune(self, now: float) -> None:
        stale = [k for k, bucket in self._buckets.items() if now - bucket.stamp > IDLE_FORGET_SECONDS]
        for k in stale or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[k]


class PublicLimits:
    """Budgets per client address for routes reachable without a staff token (login and the
    check-in look-up have their own, stricter ones)."""

    __slots__ = ("guest", "probe")

    def __init__(
        self,
        guest_burst: int = GUEST_BURST,
        guest_per_minute: float = GUEST_PER_MINUTE,
        probe_burst: int = PROBE_BURST,
        probe_per_minute: float = PROBE_PER_MINUTE,
    ) -> None:
        self.guest = RateLimiter(guest_burst, guest_per_minute)
        self.probe = RateLimiter(probe_burst, probe_per_minute)
