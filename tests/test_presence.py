"""The presence engine: arrival after dwell, no flapping at the edge, passers-by stay passers-by."""

from __future__ import annotations

import dataclasses
import math

import pytest
from pydantic import ValidationError
from sqlmodel import create_engine

from maitre.config import Settings
from maitre.floorplan import VenueModel
from maitre.presence import PresenceConfig, PresenceEngine, PresenceEvent
from maitre.runtime.service import VenueService
from maitre.sim.venue import Layout, bistro_layout, named_layout, presence_model
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


# With a venue model: the bistro's five gateways, noise-free levels from its walls and distances.
LAYOUT = bistro_layout()
MODEL = presence_model(LAYOUT)
ROLES = {("bistro", g.name): g.role for g in LAYOUT.gateways}


def level_at(gateway: str, x: float, y: float, layout: Layout = LAYOUT) -> float:
    """What a band at (x, y) gives this gateway on average: path loss and the walls in the way."""
    g = next(g for g in layout.gateways if g.name == gateway)
    d = max(math.hypot(x - g.x, y - g.y), 0.3)
    walls = sum(w.loss_db for w in layout.walls if w.crosses(x, y, g.x, g.y))
    return -59 - 22 * math.log10(d) - walls


def follow(
    engine: PresenceEngine,
    path: list[tuple[float, float]],
    step: float = 0.5,
    seems: dict[int, tuple[float, float]] | None = None,
    fooled: tuple[str, ...] = (),
    layout: Layout = LAYOUT,
    dead: tuple[str, ...] = (),
) -> list[PresenceEvent]:
    """One batch round per step: every gateway of the layout reports the band at that point of its
    path, but the `dead` ones.

    At the steps in `seems`, the `fooled` gateways report the band at another place instead.
    """
    events: list[PresenceEvent] = []
    for i, (x, y) in enumerate(path):
        for g in layout.gateways:
            if g.name in dead:
                continue
            at = seems[i] if seems and i in seems and g.name in fooled else (x, y)
            r = round(level_at(g.name, *at, layout=layout))
            s = Sighting(id=BAND, rssi=r, rssi_max=r, n=5, t=T0 + i * step + 0.01, tx=-59)
            events += engine.observe("bistro", g.name, s)
    return events


def line(a: tuple[float, float], b: tuple[float, float], steps: int) -> list[tuple[float, float]]:
    return [(a[0] + (b[0] - a[0]) * i / steps, a[1] + (b[1] - a[1]) * i / steps) for i in range(steps)]


def venue_engine() -> PresenceEngine:
    return PresenceEngine(ROLES, models={"bistro": MODEL})


def test_guest_walking_in_is_greeted_at_the_host_stand_once() -> None:
    # Along the pavement, in through the door (y = 2) at step 16, then standing at the host stand.
    path = line((-8.0, 0.0), (0.0, 1.2), 12) + line((0.0, 1.2), (0.3, 3.0), 6) + [(0.3, 3.0)] * 12
    crossing = next(i for i, (_, y) in enumerate(path) if y >= 2.0)
    arrived = [e for e in follow(venue_engine(), path) if e.kind == "arrived"]
    assert len(arrived) == 1
    assert arrived[0].at >= T0 + (crossing - 2) * 0.5  # not while still out on the pavement
    assert arrived[0].confidence >= PresenceConfig().p_enter


def test_passer_by_along_the_glass_is_not_greeted() -> None:
    # Right along the facade, past the door gap, at walking pace.
    path = line((-10.0, 1.5), (10.0, 1.5), 30)
    assert [e for e in follow(venue_engine(), path) if e.kind == "arrived"] == []


def test_band_that_seems_inside_without_passing_the_door_is_not_greeted() -> None:
    # Standing far down the pavement; for two seconds shadowing makes both gateways on the host
    # stand hear it as if it stood right there. Nobody crosses 8 m and a wall that fast, and the
    # facade and dining-room gateways still hear it where it is: no greeting.
    path = [(-8.0, 0.0)] * 16
    seems = dict.fromkeys(range(6, 10), (0.3, 3.0))
    events = follow(venue_engine(), path, seems=seems, fooled=("door", "door-b"))
    assert [e for e in events if e.kind == "arrived"] == []


def test_a_surer_arrival_certainty_greets_no_sooner_and_only_that_sure() -> None:
    path = line((-8.0, 0.0), (0.0, 1.2), 12) + line((0.0, 1.2), (0.3, 3.0), 6) + [(0.3, 3.0)] * 12
    greeted: list[float] = []
    for certainty in (0.6, 0.9, 0.95):
        config = PresenceConfig(p_enter=certainty, door_test=False)  # the track's certainty alone
        engine = PresenceEngine(ROLES, config, models={"bistro": MODEL})
        arrived = [e for e in follow(engine, path) if e.kind == "arrived"]
        assert len(arrived) == 1
        assert arrived[0].confidence >= certainty
        greeted.append(arrived[0].at)
    assert greeted == sorted(greeted)
    assert greeted[0] < greeted[-1]


def test_the_door_test_greets_a_guest_walking_in_sooner_than_the_track_alone() -> None:
    path = line((-8.0, 0.0), (0.0, 1.2), 12) + line((0.0, 1.2), (0.3, 3.0), 6) + [(0.3, 3.0)] * 12
    greeted = {}
    for door_test in (False, True):
        engine = PresenceEngine(ROLES, PresenceConfig(door_test=door_test), models={"bistro": MODEL})
        arrived = [e for e in follow(engine, path) if e.kind == "arrived"]
        assert len(arrived) == 1
        assert arrived[0].confidence >= PresenceConfig().p_enter
        greeted[door_test] = arrived[0].at
    assert greeted[True] < greeted[False]  # half a second sooner on this walk


def test_a_track_arrival_the_door_test_contradicts_waits_until_the_track_has_held_it() -> None:
    path = line((-8.0, 0.0), (0.0, 1.2), 12) + line((0.0, 1.2), (0.3, 3.0), 6) + [(0.3, 3.0)] * 12
    greeted = {}
    for agree in (None, 100.0):  # 100: the door test never agrees, nor passes on its own (either look)
        config = PresenceConfig(
            door_test_llr=100.0, door_settled_llr=None, door_agree_llr=agree, track_hold=2.0
        )
        engine = PresenceEngine(ROLES, config, models={"bistro": MODEL})
        arrived = [e for e in follow(engine, path) if e.kind == "arrived"]
        assert len(arrived) == 1
        greeted[agree] = arrived[0].at
    assert greeted[100.0] - greeted[None] >= 2.0 - 1e-6


def test_the_tracks_hold_does_not_greet_against_a_door_test_that_reads_outside() -> None:
    path = line((-8.0, 0.0), (0.0, 1.2), 12) + line((0.0, 1.2), (0.3, 3.0), 6) + [(0.3, 3.0)] * 12
    # Only the hold can greet (the door test never agrees nor passes on its own); the veto's bar
    # decides whether the door test's reading of "inside by now" lets it.
    only_the_hold = {"door_test_llr": 100.0, "door_settled_llr": None, "door_agree_llr": 100.0}

    def greets(veto: float | None) -> int:
        config = PresenceConfig(**only_the_hold, hold_veto_llr=veto)  # type: ignore[arg-type]
        engine = PresenceEngine(ROLES, config, models={"bistro": MODEL})
        return len([e for e in follow(engine, path) if e.kind == "arrived"])

    assert greets(None) == 1  # the hold greets whatever the door test says
    assert greets(-100.0) == 1  # a bar nobody falls below: the same
    assert greets(100.0) == 0  # a bar everybody falls below: the hold never greets
    assert greets(PresenceConfig().hold_veto_llr) == 1  # a guest walking straight in: not vetoed


def test_with_a_gateway_over_the_door_the_track_holding_a_band_inside_is_not_enough() -> None:
    path = line((-8.0, 0.0), (0.0, 1.2), 12) + line((0.0, 1.2), (0.3, 3.0), 6) + [(0.3, 3.0)] * 12
    lintel = named_layout("bistro-lintel")
    over_door, roles = presence_model(lintel), {("bistro", g.name): g.role for g in lintel.gateways}

    def greets(config: PresenceConfig, model: VenueModel, layout: Layout, dead: tuple[str, ...] = ()) -> int:
        engine = PresenceEngine(roles, config, models={"bistro": model})
        return len([e for e in follow(engine, path, layout=layout, dead=dead) if e.kind == "arrived"])

    # A door test that never backs the track: held 2 s, the track greets alone, but not under a
    # gateway over the door.
    doubting = PresenceConfig(
        door_test_llr=100.0, door_settled_llr=None, door_agree_llr=100.0, overhead_agree_llr=100.0
    )
    assert greets(doubting, MODEL, LAYOUT) == 1
    assert greets(doubting, over_door, lintel) == 0
    # With its bar as shipped, the door test backs a guest walking straight in, and still does
    # from the other gateways' windows when the one over the door has died (it hears nobody).
    shipped = dataclasses.replace(doubting, overhead_agree_llr=PresenceConfig().overhead_agree_llr)
    assert greets(shipped, over_door, lintel) == 1
    assert greets(shipped, over_door, lintel, dead=("lintel",)) == 1
    # overhead_m=None: no gateway counts as over the door, and the track's hold greets again.
    assert greets(dataclasses.replace(doubting, overhead_m=None), over_door, lintel) == 1


def test_arrival_settings_reach_the_service_engine_and_a_certainty_that_never_greets_is_refused() -> None:
    settings = Settings(arrival_certainty=0.8, arrival_dwell_seconds=0.5, arrival_door_test=False)
    service = VenueService(settings, create_engine("sqlite://"), None)
    config = service.presence.config
    assert (config.p_enter, config.track_dwell, config.door_test) == (0.8, 0.5, False)
    assert VenueService(Settings(), create_engine("sqlite://"), None).presence.config.door_test
    with pytest.raises(ValidationError, match="arrival_certainty"):
        Settings(arrival_certainty=0.99)  # a track this sure comes too late, or never


def test_an_arrival_dwell_greets_once_and_later() -> None:
    path = line((-8.0, 0.0), (0.0, 1.2), 12) + line((0.0, 1.2), (0.3, 3.0), 6) + [(0.3, 3.0)] * 12
    greeted = []
    for dwell in (0.0, 0.5):
        engine = PresenceEngine(ROLES, PresenceConfig(track_dwell=dwell), models={"bistro": MODEL})
        arrived = [e for e in follow(engine, path) if e.kind == "arrived"]
        assert len(arrived) == 1
        greeted.append(arrived[0].at)
    assert greeted[1] >= greeted[0] + 0.5


def test_a_guest_the_track_doubts_is_greeted_by_the_later_surer_look_at_the_door() -> None:
    path = line((-8.0, 0.0), (0.0, 1.2), 12) + line((0.0, 1.2), (0.3, 3.0), 6) + [(0.3, 3.0)] * 12
    crossing = next(i for i, (_, y) in enumerate(path) if y >= 2.0) * 0.5
    # Neither the track (it would need P = 1) nor the quick look (bar 100) ever greets here.
    doubting = PresenceConfig(p_enter=1.0, door_test_llr=100.0, door_settled_llr=None, door_settled_p=0.0)
    engine = PresenceEngine(ROLES, doubting, models={"bistro": MODEL})
    assert not [e for e in follow(engine, path) if e.kind == "arrived"]
    settled = dataclasses.replace(doubting, door_settled_llr=3.0, door_settled_s=2.0)
    engine = PresenceEngine(ROLES, settled, models={"bistro": MODEL})
    arrived = [e for e in follow(engine, path) if e.kind == "arrived"]
    assert len(arrived) == 1
    assert crossing + 1.5 <= arrived[0].at - T0 <= crossing + 3.0  # in the test's eyes, 2 s in
