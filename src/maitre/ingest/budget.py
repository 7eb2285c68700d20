"""Per-gateway budgets: how many messages, and how many bytes, one gateway may send and how fast.

A gateway that floods the broker (a fault, a loop, an attacker with its credentials) queues its
messages ahead of everyone else's in the service's MQTT session. The budget cannot stop them
arriving, but it makes each one past the budget cost a dictionary look-up instead of a decode, so
the queue drains fast and the other gateways' batches behind it are not starved.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from maitre.tokenbucket import TokenBucket

# A gateway back from an outage drains its spool: at most what the replay window still accepts,
# 600 s at two batches a second. The burst holds all of it, so no honest batch is refused.
BURST_MESSAGES = 1200
# Twenty-five times the usual two batches a second; a draining spool sends ~40 a second
# (20 in flight per half-second tick).
MESSAGES_PER_SECOND = 50.0
# The same 1200 batches from a busy door: ~200 bands in range, ~20 KB a batch.
BURST_BYTES = 32 * 1024 * 1024
# A hundred such batches a second; a flood of the largest batches the wire allows (256 KiB, ~5 ms
# each to decode) gets about eight.
BYTES_PER_SECOND = 2 * 1024 * 1024

# Topics naming a gateway the venue has not registered share one bucket: names are free to invent,
# and a bucket each would let a flood of made-up names grow the table without bound.
UNREGISTERED = ("", "")


class GatewayBudget:
    """Two token buckets per gateway, on messages and on bytes: a message passes if it fits in both."""

    __slots__ = ("_buckets", "_clock", "burst_bytes", "burst_messages", "bytes_rate", "messages_rate")

    def __init__(
        self,
        burst_messages: int = BURST_MESSAGES,
        messages_per_second: float = MESSAGES_PER_SECOND,
        burst_bytes: int = BURST_BYTES,
        bytes_per_second: float = BYTES_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst_messages < 1 or burst_bytes < 1 or messages_per_second < 0 or bytes_per_second < 0:
            raise ValueError("a gateway budget needs a burst of at least one and rates of zero or more")
        self.burst_messages = float(burst_messages)
        self.messages_rate = messages_per_second
        self.burst_bytes = float(burst_bytes)
        self.bytes_rate = bytes_per_second
        self._clock = clock
        # gateway → (its messages, its bytes)
        self._buckets: dict[tuple[str, str], tuple[TokenBucket, TokenBucket]] = {}

    def spend(self, gateway: tuple[str, str], size: int) -> bool:
        """Pay for one message of `size` bytes; False (and nothing paid) if the gateway cannot afford it.

        A message larger than the whole byte burst is charged the burst: it empties the bucket but
        is let through to be refused for its size, rather than being counted as a flood.
        """
        now = self._clock()
        buckets = self._buckets.get(gateway)
        if buckets is None:
            buckets = self._buckets[gateway] = (
                TokenBucket(self.burst_messages, self.messages_rate, now),
                TokenBucket(self.burst_bytes, self.bytes_rate, now),
            )
        messages, data = buckets
        cost = min(float(size), self.burst_bytes)
        # Both brought up to now before either is charged, so a refusal spends from neither
        # (a wall clock stepped back refills nothing: TokenBucket.refill).
        has_message = messages.refill(now) >= 1.0
        has_bytes = data.refill(now) >= cost
        if not (has_message and has_bytes):
            return False
        messages.take(now)  # both refilled to now and affordable: these cannot refuse
        data.take(now, cost)
        return True
