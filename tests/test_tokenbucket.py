"""The one token bucket under the HTTP rate limits and the per-gateway budgets, on a clock the test holds."""

from __future__ import annotations

import math

import pytest

from maitre.guests.ratelimit import RateLimiter
from maitre.tokenbucket import TokenBucket

T0 = 1_000.0


def takes(bucket: TokenBucket, now: float, n: int, cost: float = 1.0) -> list[bool]:
    return [bucket.take(now, cost) for _ in range(n)]


def test_a_full_bucket_allows_its_burst_at_once_then_refuses() -> None:
    bucket = TokenBucket(capacity=3, rate=1.0, now=T0)
    assert takes(bucket, T0, 4) == [True, True, True, False]
    assert bucket.tokens == 0.0


def test_tokens_come_back_at_the_rate_and_never_past_the_capacity() -> None:
    bucket = TokenBucket(capacity=2, rate=4.0, now=T0)
    assert takes(bucket, T0, 3) == [True, True, False]
    assert bucket.take(T0 + 0.1) is False  # 0.4 of a token so far
    assert bucket.take(T0 + 0.25) is True  # one token's worth since the start
    assert bucket.take(T0 + 0.25) is False
    assert takes(bucket, T0 + 3600, 3) == [True, True, False]  # an hour refills to 2, not 14400


def test_a_cost_is_taken_whole_or_not_at_all() -> None:
    bucket = TokenBucket(capacity=1000, rate=100.0, now=T0)
    assert bucket.take(T0, cost=600) is True
    assert bucket.take(T0, cost=600) is False
    assert bucket.tokens == 400  # the refused take spent nothing
    assert bucket.take(T0, cost=400) is True
    assert bucket.take(T0 + 2.0, cost=200.0) is True and bucket.tokens == 0.0
    assert bucket.take(T0 + 2.0, cost=0.0) is True  # free is always affordable


def test_a_clock_going_backwards_mints_no_tokens() -> None:
    bucket = TokenBucket(capacity=2, rate=1.0, now=T0)
    assert takes(bucket, T0, 2) == [True, True]
    assert bucket.take(T0 - 3600) is False  # stepped back an hour: nothing added
    assert bucket.tokens == 0.0
    assert bucket.take(T0 - 3600) is False
    # It counts on from the earlier reading: a second after it, one second's worth.
    assert takes(bucket, T0 - 3599, 2) == [True, False]


def test_a_bucket_that_never_refills_stays_spent() -> None:
    bucket = TokenBucket(capacity=1, rate=0.0, now=T0)
    assert bucket.take(T0) is True
    assert bucket.take(T0 + 1e9) is False
    assert bucket.wait() == math.inf


def test_wait_says_how_long_until_the_next_take_is_allowed() -> None:
    bucket = TokenBucket(capacity=2, rate=0.5, now=T0)
    assert bucket.wait() == 0.0
    takes(bucket, T0, 2)
    assert bucket.wait() == pytest.approx(2.0)
    assert bucket.take(T0 + 1.0) is False and bucket.wait() == pytest.approx(1.0)
    assert bucket.wait(cost=2.0) == pytest.approx(3.0)
    assert bucket.take(T0 + 2.0) is True


def test_negative_capacity_or_rate_is_refused() -> None:
    with pytest.raises(ValueError):
        TokenBucket(capacity=-1, rate=1.0, now=T0)
    with pytest.raises(ValueError):
        TokenBucket(capacity=1, rate=-1.0, now=T0)


def test_the_rate_limiter_keeps_one_bucket_per_key_and_says_when_to_come_back() -> None:
    now = [T0]
    limiter = RateLimiter(burst=2, per_minute=30.0, clock=lambda: now[0])  # one try every 2 s
    assert [limiter.take("192.0.2.1") for _ in range(3)] == [0.0, 0.0, pytest.approx(2.0)]
    assert limiter.take("192.0.2.2") == 0.0  # another address, its own bucket
    now[0] += 0.5
    assert limiter.take("192.0.2.1") == pytest.approx(1.5)
    now[0] += 1.5
    assert limiter.take("192.0.2.1") == 0.0
