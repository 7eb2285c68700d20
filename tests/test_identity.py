"""Rotating band ids: the Eddystone-EID computation and central resolution."""

from __future__ import annotations

import random

import pytest

from maitre.identity.eid import compute_eid
from maitre.identity.resolver import CLOCK_PPM, EidResolver, Refused, RotatingBand

# Vectors from RadiusNetworks/ephemeral_calc, spec/encryptor_spec.rb (an independent
# implementation of google/eddystone's eid-computation.md): identity key 0102…1516, K = 10,
# beacon time 0 → A9B76A71C5F89290; beacon time 2000 (window 1, counter 1024) → 4144413E45FEFA58.
IK = bytes.fromhex("0102030405060708090A111213141516")


def test_eid_matches_published_vectors() -> None:
    assert compute_eid(IK, 10, 0).hex().upper() == "A9B76A71C5F89290"
    assert compute_eid(IK, 10, 2000).hex().upper() == "4144413E45FEFA58"


def test_eid_is_constant_within_a_window_and_changes_between_windows() -> None:
    assert compute_eid(IK, 10, 1024) == compute_eid(IK, 10, 2047)
    assert compute_eid(IK, 10, 2047) != compute_eid(IK, 10, 2048)


def test_a_day_of_ids_never_repeats() -> None:
    # K = 10: a new id every 1,024 s; a listener sees 85 unrelated ids a day.
    ids = {compute_eid(IK, 10, w << 10) for w in range(85)}
    assert len(ids) == 85


@pytest.mark.parametrize("bad", [b"short", bytes(17)])
def test_wrong_key_length_is_refused(bad: bytes) -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        compute_eid(bad, 10, 0)


def band(epoch: float = 1_000_000.0, exponent: int = 10, key: bytes = IK) -> RotatingBand:
    return RotatingBand("band:00112233aabbccdd", key, exponent, epoch)


def eid_at(b: RotatingBand, unix: float, drift_s: float = 0.0) -> str:
    return "eid:" + compute_eid(b.identity_key, b.exponent, int(unix - b.epoch + drift_s)).hex()


def test_resolver_knows_a_band_from_its_first_advertisement_in_a_new_window() -> None:
    b = band()
    r = EidResolver()
    now = b.epoch + 5000.0
    r.register(b, now)
    assert r.resolve(eid_at(b, now), now) == b.advertiser_id
    # The next window was precomputed: the first id after rotation resolves with no new AES work.
    before = r.computed
    assert r.resolve(eid_at(b, now + 1024), now + 1024) == b.advertiser_id
    assert r.computed == before


def test_resolver_tolerates_clock_drift_and_follows_it() -> None:
    b = band()
    r = EidResolver()
    # Four months after set-up, at the spec's worst crystal (150 ppm): the band runs 1,550 s fast.
    elapsed = 120 * 86_400.0
    now = b.epoch + elapsed + 100
    r.register(b, now)
    drift = elapsed * CLOCK_PPM
    assert r.resolve(eid_at(b, now, drift_s=drift), now) == b.advertiser_id
    # Having heard it, the resolver follows the band a day on, without the months' wide interval.
    later = now + 86_400
    r.refresh(later)
    assert r.resolve(eid_at(b, later, drift_s=drift + 13), later) == b.advertiser_id
    low, high = b.drift_bounds(later)
    assert high - low < 2 * 1024


def test_a_drift_no_crystal_can_reach_is_refused_as_a_replay() -> None:
    b = band()
    r = EidResolver()
    now = b.epoch + 100 * 1024 + 100  # 1.2 days: the crystal allows 15 s, not 1,300
    r.register(b, now)
    assert r.resolve(eid_at(b, now, drift_s=1300), now) is Refused.REPLAYED
    assert r.resolve(eid_at(b, now), now) == b.advertiser_id


def test_jitter_around_a_rotation_is_not_mistaken_for_drift() -> None:
    b = band()
    r = EidResolver()
    now = b.epoch + 100 * 1024 - 2  # two seconds before the band rotates
    r.register(b, now)
    assert r.resolve(eid_at(b, now, drift_s=5), now) == b.advertiser_id  # rotated a little early
    assert r.resolve(eid_at(b, now), now) == b.advertiser_id  # another gateway's batch, just before


def replay_for_a_day(r: EidResolver, b: RotatingBand, start: float, captured: str) -> list[float]:
    """Replay `captured` every 10-60 s for 24 h, refreshing as the service does; how late past the
    end of its window (at `start` + 1024 - 200) each replay that resolved was."""
    window_end = start - 200 + 1024
    rng = random.Random(26)
    t, late = start, []
    while t < start + 86_400:
        t += rng.uniform(10, 60)
        r.refresh(t)
        if r.resolve(captured, t) == b.advertiser_id and t > window_end:
            late.append(t - window_end)
    return late


def test_one_captured_id_replayed_for_a_day_resolves_only_within_its_window() -> None:
    """Issue 26: one EID replayed every 10-60 s kept resolving for 24 h and drifted the band away."""
    b = band()
    r = EidResolver()
    start = b.epoch + 2530 * 1024 + 200.0  # a band a month in service, heard 200 s into a window
    rotation = start - 200
    r.register(b, rotation - 5)
    # The guest walked in across a rotation: the service heard both ids, and knows the band's clock.
    for heard in (rotation - 5, rotation + 5):
        assert r.resolve(eid_at(b, heard), heard) == b.advertiser_id
    captured = eid_at(b, start)
    assert r.resolve(captured, start) == b.advertiser_id  # ... and the attacker recorded this one
    late = replay_for_a_day(r, b, start, captured)
    # At most as late as what the service cannot know of the band's clock: the two slacks and the
    # 10 s between the ids it heard (before the fix: replays resolved for all 24 hours).
    assert max(late, default=0.0) <= 2 * r.slack + 10
    assert r.replayed > 50  # counted as replays while recent (then as ids nobody has)
    # The real band still resolves afterwards, its drift never dragged along by the replays.
    t = start + 86_400 + 60
    r.refresh(t)
    assert r.resolve(eid_at(b, t), t) == b.advertiser_id
    low, high = b.drift_bounds(t)
    assert -40 < low and high < 40


def test_a_band_never_heard_before_is_replayable_at_most_as_far_as_its_crystal_allows() -> None:
    b = band()
    r = EidResolver()
    start = b.epoch + 2530 * 1024 + 200.0
    r.register(b, start)
    captured = eid_at(b, start)
    late = replay_for_a_day(r, b, start, captured)
    # Unheard for a month, the band may be 389 s slow (150 ppm): a replay cannot be told from it
    # within that, and is refused beyond it.
    assert max(late) <= r.slack + CLOCK_PPM * (start - b.epoch) + 1
    assert r.replayed > 50


def test_an_earlier_window_than_the_latest_heard_is_refused() -> None:
    b = band()
    r = EidResolver()
    now = b.epoch + 10 * 1024 + 1000
    r.register(b, now)
    old = eid_at(b, now)
    assert r.resolve(eid_at(b, now + 30), now + 30) == b.advertiser_id  # the band rotated
    assert r.resolve(old, now + 31) == b.advertiser_id  # another gateway's late batch: overlap
    assert r.resolve(old, now + 60) is Refused.REPLAYED  # the band never goes back


def test_unknown_or_stale_ids_do_not_resolve() -> None:
    b = band()
    r = EidResolver()
    now = b.epoch + 50 * 1024
    r.register(b, now)
    assert r.resolve("eid:0000000000000000", now) is None
    assert r.resolve(eid_at(b, now - 10 * 1024), now) is None  # yesterday's id tells nothing today


def test_refresh_rolls_the_window_and_forgets_old_ids() -> None:
    b = band()
    r = EidResolver()
    start = b.epoch + 10 * 1024
    r.register(b, start)
    old = eid_at(b, start - 1024)
    assert r.resolve(old, start) == b.advertiser_id
    r.refresh(start + 2 * 1024)
    assert r.resolve(old, start + 2 * 1024) is Refused.REPLAYED  # recent enough to know as a replay
    r.refresh(start + 10 * 1024)
    assert r.resolve(old, start + 10 * 1024) is None
    assert r.resolve(eid_at(b, start + 10 * 1024), start + 10 * 1024) == b.advertiser_id


def test_forget_removes_every_id_of_a_band() -> None:
    b = band()
    r = EidResolver()
    now = b.epoch + 3000
    r.register(b, now)
    r.forget(b.advertiser_id)
    assert r.resolve(eid_at(b, now), now) is None
    assert len(r) == 0
