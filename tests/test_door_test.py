"""The door test (presence/door_test.py): walked in against still outside, on levels the plan predicts."""

from __future__ import annotations

import numpy as np

from maitre.floorplan import inward
from maitre.presence import PresenceConfig
from maitre.presence.door_test import BODY_DB, DoorTest, Window
from maitre.presence.grid import expected_levels
from maitre.sim.venue import bistro_layout, presence_model

MODEL = presence_model(bistro_layout())
THRESHOLD = PresenceConfig().door_test_llr
# Along the pavement (y = 0) from 8 m left, in through the door at (0, 2), to the host stand.
GUEST = [
    (0.0, -8.0, 0.0),
    (6.2, 0.0, 0.0),
    (7.5, 0.0, 1.7),
    (8.0, 0.0, 2.3),
    (8.6, 0.3, 3.0),
    (30.0, 0.3, 3.0),
]
CROSSING = 7.75


def _windows(
    path: list[tuple[float, float, float]], until: float, shadow: dict[str, float] | None = None
) -> dict[str, list[Window]]:
    """Every gateway's 0.5 s windows of a band walking `path` (t, x, y) as the plan predicts them,
    the wearer's body costing BODY_DB to gateways behind; `shadow` dB added to a gateway's link."""
    ts = np.arange(0.5, until + 1e-9, 0.5)
    t = np.array([p[0] for p in path])
    xs = np.interp(ts - 0.25, t, [p[1] for p in path])
    ys = np.interp(ts - 0.25, t, [p[2] for p in path])
    hx, hy = np.gradient(xs), np.gradient(ys)
    out: dict[str, list[Window]] = {}
    for g, (gx, gy) in MODEL.gateways.items():
        behind = hx * (gx - xs) + hy * (gy - ys) < -1e-9
        levels = expected_levels(MODEL, 2.2, g, xs, ys) - BODY_DB * behind + (shadow or {}).get(g, 0.0)
        out[g] = [(float(a), float(b), 5.0) for a, b in zip(ts, levels, strict=True)]
    return out


def _test() -> DoorTest:
    return DoorTest(MODEL, inward(MODEL), 2.2, 7.0)


def _llr(test: DoorTest, windows: dict[str, list[Window]], now: float) -> float | None:
    """Walked in against still outside; None when the test has no opinion."""
    scores = test.scores(windows, now)
    return None if scores is None else scores.walked_in_llr


def test_a_guest_who_walks_in_passes_the_threshold_within_a_second_and_not_before() -> None:
    test = _test()
    before = _llr(test, _windows(GUEST, CROSSING - 2.0), CROSSING - 2.0)
    after = _llr(test, _windows(GUEST, CROSSING + 1.0), CROSSING + 1.0)
    assert before is not None and after is not None
    assert before < 0 and after > THRESHOLD


def test_passers_by_and_people_waiting_outside_stay_well_below_it() -> None:
    test = _test()
    for lane in (-1.0, 0.0, 0.5, 1.0, 1.5):  # the simulator's passers walk y = -1 … 1.5
        passer = [(0.0, -12.0, lane), (20.0, 14.0, lane)]
        for now in np.arange(6.0, 14.0, 0.5):  # level with the door at ~9.2 s
            llr = _llr(test, _windows(passer, float(now)), float(now))
            assert llr is not None and llr < 0, (lane, now, llr)
    waiting = [(0.0, 1.2, 1.2), (60.0, 1.2, 1.2)]  # where parties wait for friends
    llr = _llr(test, _windows(waiting, 30.0), 30.0)
    assert llr is not None and llr < THRESHOLD / 2


def test_a_link_shadowed_all_along_does_not_hide_the_move() -> None:
    test = _test()
    now = CROSSING + 1.0
    llr = _llr(test, _windows(GUEST, now, {"door": -10.0}), now)  # one stand gateway 10 dB down throughout
    assert llr is not None and llr > THRESHOLD


def test_no_recent_window_gives_no_opinion() -> None:
    test = _test()
    waiting = [(0.0, 1.2, 1.2), (60.0, 1.2, 1.2)]
    assert _llr(test, _windows(waiting, 5.0), 30.0) is None
    assert _llr(test, {"unknown-gateway": [(29.0, -10.0, 5.0)]}, 30.0) is None


def test_standing_inside_a_while_reads_inside_and_waiting_outside_reads_outside() -> None:
    test = _test()
    inside = test.scores(_windows([(0.0, 0.5, 3.5), (60.0, 0.5, 3.5)], 30.0), 30.0)
    outside = test.scores(_windows([(0.0, 1.2, 1.2), (60.0, 1.2, 1.2)], 30.0), 30.0)
    assert inside is not None and outside is not None
    assert inside.inside > THRESHOLD / 2
    assert outside.inside < -1.0  # where parties wait for friends: not inside, whatever comes next


def test_crossed_a_while_ago_reads_high_only_once_the_guest_has_been_in_that_long() -> None:
    test = _test()
    late = {}
    for since in (0.5, 2.5):
        scores = test.scores(_windows(GUEST, CROSSING + since), CROSSING + since)
        assert scores is not None
        late[since] = scores.crossed_llr(2.0)
        assert late[since] <= scores.walked_in_llr  # a narrower question than "walking in"
    assert late[2.5] > THRESHOLD
    assert late[0.5] < late[2.5] - 3.0


def test_a_passer_by_never_reads_as_crossed_a_while_ago() -> None:
    test = _test()
    for lane in (-1.0, 0.5, 1.5):
        passer = [(0.0, -12.0, lane), (20.0, 14.0, lane)]
        for now in np.arange(8.0, 14.0, 0.5):  # level with the door at ~9.2 s, and after
            scores = test.scores(_windows(passer, float(now)), float(now))
            assert scores is not None and scores.crossed_llr(2.0) < 0, (lane, now)
