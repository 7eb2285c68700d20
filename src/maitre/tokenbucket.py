"""One token bucket: a burst of `capacity` tokens, refilled at `rate` tokens a second.

The clock is the caller's: every call is given `now`, so one bucket can run on the monotonic
clock (HTTP rate limits, guests/ratelimit.py) and another on an ingest's clock, which a replay runs
faster than real time (the per-gateway budgets, ingest/budget.py). Not thread-safe: a caller shared
between threads holds its own lock.
"""

from __future__ import annotations

import math


class TokenBucket:
    """Starts full; `take` spends tokens if there are enough, else spends nothing."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        if capacity < 0 or rate < 0:
            raise ValueError("a token bucket needs a capacity and a rate of zero or more")
        self.capacity = float(capacity)
        self.rate = float(rate)  # tokens a second
        self.tokens = self.capacity
        self.stamp = now  # when `tokens` was last brought up to date

    def refill(self, now: float) -> float:
        """Add what accrued since the last call, up to the capacity; the tokens there are now.

        A clock that went back adds nothing (a wall clock stepped back must not mint tokens); the
        bucket counts on from the earlier reading, so time after it accrues as usual.
        """
        elapsed = now - self.stamp
        if elapsed > 0:
            self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.stamp = now
        return self.tokens

    def take(self, now: float, cost: float = 1.0) -> bool:
        """Spend `cost` tokens if the bucket holds them now; False (and nothing spent) if not."""
        if self.refill(now) < cost:
            return False
        self.tokens -= cost
        return True

    def wait(self, cost: float = 1.0) -> float:
        """Seconds from the last call until `cost` tokens are there: 0.0 if they are, inf at a rate
        of zero. A cost above the capacity is never there; that is for the caller to refuse."""
        short = cost - self.tokens
        if short <= 0:
            return 0.0
        return short / self.rate if self.rate > 0 else math.inf
