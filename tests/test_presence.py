"""The presence engine: arrival after dwell, no flapping at the edge, passers-by stay passers-by."""

from __future__ import annotations

import math

from maitre.presence import PresenceConfig, PresenceEngine, PresenceEvent
from maitre.wire import Sighting

BAND = "band:00112233aabbccdd"
T0 = 1_700_000_000.0


def rssi_at(d: float, exponent: float = 2.2, power: int = -59) -> float:
    return round(power - 10 * exponent * math.log10(d), 1)


def walk(
    engine: PresenceEngine, distances: list[float], gateway: str = "door", step: float = 0.5
) -> list[PresenceEvent]:
    """Feed one sighting per step at the given distances from a gateway; collect the events."""
    events: list[PresenceEvent] = []
    for i, d in enumerate(distances):
        r = rssi_at(d)
        events += engine.observe(
            "bistro", gateway, Sighting(id=BAND, rssi=r, rssi_max=r, n=5, t=T0 + i * step, tx=-59)
        )
    return events


def engine() -> PresenceEngine:
    return PresenceEngine({("bistro", "door"): "door", ("bistro", "street"): "approach"})


def test_band_walking_to_the_door_arrives_once() -> None:
    path = [12 - i for i in range(11)] + [1.0] * 10
    events = [e for e in walk(engine(), path) if e.kind == "arrived"]
    assert len(events) == 1
    assert events[0].band == BAND and events[0].gateway == "door"
    assert 0 < events[0].confidence <= 1


def test_arrival_waits_for_the_dwell_time() -> None:
    cfg = PresenceConfig()
    e = engine()
    # Already close on the first sighting: inside the radius, but not yet for `dwell` seconds.
    assert walk(e, [1.0]) == []
    events = walk(e, [1.0] * 6)
    arrived = [ev for ev in events if ev.kind == "arrived"]
    assert len(arrived) == 1
    assert arrived[0].at - T0 >= cfg.dwell


def test_band_standing_at_the_edge_does_not_flap() -> None:
    # Arrives, then hovers either side of the arrival radius, never beyond the leave radius.
    cfg = PresenceConfig()
    edge = [cfg.arrive_m * f for f in (0.8, 1.5, 1.0, 1.6, 0.9, 1.7, 1.2, 1.6) * 8]
    kinds = [ev.kind for ev in walk(engine(), [4, 3, 1, 1, 1, 1, *edge]) if ev.kind != "approaching"]
    assert kinds == ["arrived"]


def test_band_leaves_only_beyond_the_leave_radius() -> None:
    e = engine()
    walk(e, [1.0] * 10)
    far = [PresenceConfig().leave_m * 2] * 20
    events = walk(e, far)
    assert [ev.kind for ev in events] == ["left"]


def test_passer_by_at_four_metres_never_arrives() -> None:
    # Walking along the pavement: closest approach 4 m from the door gateway.
    path = [math.hypot(x, 4.0) for x in range(-10, 11)]
    assert [ev for ev in walk(engine(), path) if ev.kind == "arrived"] == []


def test_rising_signal_means_approaching() -> None:
    path = [15, 13, 11, 9, 7.5, 6, 5]
    events = walk(engine(), path)
    assert [ev.kind for ev in events] == ["approaching"]
    assert events[0].distance_m < 15


def test_steady_distant_band_is_not_approaching() -> None:
    assert walk(engine(), [8.0] * 20) == []


def test_sightings_at_non_door_gateways_never_arrive() -> None:
    assert [ev for ev in walk(engine(), [0.5] * 20, gateway="street") if ev.kind == "arrived"] == []


def test_late_duplicate_sighting_changes_nothing() -> None:
    e = engine()
    walk(e, [1.0] * 10)
    r = rssi_at(30)
    assert e.observe("bistro", "door", Sighting(id=BAND, rssi=r, rssi_max=r, n=5, t=T0, tx=-59)) == []


def test_forgotten_bands_free_their_state() -> None:
    e = engine()
    walk(e, [3.0] * 3)
    assert len(e) == 1
    assert e.expire(T0 + 1000) == 1
    assert len(e) == 0
