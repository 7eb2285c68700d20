"""The presence engine's settings: the link filter, the grid track, the door test, the role rule."""

from __future__ import annotations

from dataclasses import dataclass

from maitre.floorplan import OVERHEAD_REACH_M

DOOR, APPROACH, INSIDE = "door", "approach", "inside"  # gateway roles, as the directory records them


@dataclass(frozen=True, slots=True)
class PresenceConfig:
    path_loss_exponent: float = 2.2
    default_power_1m: int = -59  # when a frame carries no calibrated power
    # Kalman tuning: walking changes a link's level by a few dB/s, and that rate itself changes
    # within a second or two; fast fading is ~4 dB per packet, the slow floor ~2 dB.
    accel_noise: float = 12.0  # q, dB²/s³
    fading_var: float = 16.0
    floor_var: float = 4.0
    stale_s: float = 2.5  # a link unheard this long no longer counts; restarts when heard again
    arrive_m: float = 2.2  # this close to a door gateway …
    inside_margin_db: float = 4.0  # … and this much louder at the door than outside …
    dwell: float = 0.5  # … for this long: arrived
    leave_m: float = 4.5  # only beyond this (or clearly outside) does an arrived band count as gone
    leave_s: float = 2.0  # … for this long: a guest at the edge does not flap
    inside_m: float = 4.0  # arrival radius around inside gateways, used when no door gateway hears
    approach_m: float = 15.0  # approaching is only reported this close to a door gateway
    approach_rate_db_s: float = 1.0  # the door link strengthening at least this fast means "coming closer"
    # With a venue model: fuse all gateways over the venue's grid instead of the role rule.
    model_sigma_db: float = 8.0  # how far a filtered level may sit from the model: shadowing, bodies
    p_enter: float = 0.9  # probability of being inside that, held for track_dwell, means arrived
    # The track already weighs evidence over time, so no extra wait: a dwell on top only adds
    # latency (tuning seeds: 0.5 s cost 0.4 s of p50 and caught no wrong greet that a lower
    # evidence_weight did not).
    track_dwell: float = 0.0
    p_leave: float = 0.2  # … and below which, held for leave_s, means gone again
    track_interval: float = 0.4  # seconds of evidence per track step: about one batch from every gateway
    walk_speed: float = 1.5  # m/s: how fast probability may move between cells
    # Filtered levels repeat what they said a period ago and shadowing lasts seconds, so each
    # period's evidence counts for less than one independent look.
    evidence_weight: float = 0.7
    # A second opinion at the door (door_test.py): arrived as soon as the track puts the band
    # inside with at least door_test_p and the door test finds "walked in" beats "still outside"
    # by door_test_llr (log-likelihood): it weighs each window once, with shadowing's correlation,
    # and knows the paths people walk, so it is sure sooner (docs/explain/presence.md).
    door_test: bool = True
    door_test_p: float = 0.5
    door_test_llr: float = 4.5
    # The track's own arrivals (p_enter) must not contradict the door test: inside by now (crossed
    # the door lately, or standing inside a while) must beat still outside by door_agree_llr,
    # unless the track holds the band inside for track_hold seconds. None: the track alone decides.
    door_agree_llr: float | None = 2.0
    track_hold: float = 2.0
    # … but the hold is no answer to a door test that says the band is more likely outside than
    # inside by now (inside by now − still outside below hold_veto_llr): far along the street, a
    # passer-by's weak levels can fit "inside, behind the facade" on the grid for seconds on end.
    # None: the hold greets whatever the door test says.
    hold_veto_llr: float | None = 0.0
    # A later, surer look: "crossed the door at least door_settled_s ago" beats still outside by
    # door_settled_llr. A passer-by fits "crossing now" for a moment, rarely "crossed 2 s ago", so
    # the bar is lower, and it is asked even when the track, in deep shadowing, still doubts
    # (P ≥ door_settled_p). None: not asked.
    door_settled_llr: float | None = 3.0
    door_settled_s: float = 2.0
    door_settled_p: float = 0.01
    # A gateway over the door (within overhead_m of its middle, as on the lintel) makes the door
    # test sure enough to have the last word: the track's arrivals need inside by now to beat
    # still outside by overhead_agree_llr, and the track holding a band inside is not enough.
    # None: no gateway counts as over the door.
    overhead_m: float | None = OVERHEAD_REACH_M
    overhead_agree_llr: float = 4.0
    forget_after: float = 30.0  # seconds unheard before a band's state is dropped
    # Learn each gateway's gain from guests standing at the host stand after their greeting
    # (selfcal.py) and use it in place of the plan's (VenueModel.gains). False: the plan's only.
    learn_gains: bool = True
