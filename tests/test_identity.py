"""Rotating band ids: the Eddystone-EID computation and central resolution."""

from __future__ import annotations

import pytest

from maitre.identity.eid import compute_eid
from maitre.identity.resolver import EidResolver, RotatingBand

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
    assert b.drift_windows == 0


def test_resolver_tolerates_clock_drift_and_follows_it() -> None:
    b = band()
    r = EidResolver()
    now = b.epoch + 100 * 1024 + 100
    r.register(b, now)
    # The band's clock runs 1,300 s fast (months of drift): already in the next window.
    assert r.resolve(eid_at(b, now, drift_s=1300), now) == b.advertiser_id
    assert b.drift_windows == 1
    # Having followed it, a band two windows ahead of the service clock still resolves,
    # which the ±1 window tolerance alone would not allow.
    assert r.resolve(eid_at(b, now, drift_s=1300 + 1024), now) == b.advertiser_id


def test_jitter_around_a_rotation_is_not_mistaken_for_drift() -> None:
    b = band()
    r = EidResolver()
    now = b.epoch + 100 * 1024 - 2  # two seconds before the band rotates
    r.register(b, now)
    assert r.resolve(eid_at(b, now, drift_s=5), now) == b.advertiser_id  # rotated a little early
    assert b.drift_windows == 0


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
    r.refresh(start + 5 * 1024)
    assert r.resolve(old, start + 5 * 1024) is None
    assert r.resolve(eid_at(b, start + 5 * 1024), start + 5 * 1024) == b.advertiser_id


def test_forget_removes_every_id_of_a_band() -> None:
    b = band()
    r = EidResolver()
    now = b.epoch + 3000
    r.register(b, now)
    r.forget(b.advertiser_id)
    assert r.resolve(eid_at(b, now), now) is None
    assert len(r) == 0
