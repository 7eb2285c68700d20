"""The presence engine: sightings in, presence events (approaching, arrived, left) out.

A venue with a model of its floor plan (`VenueModel`: gateway places, walls, what counts as
inside) is decided here, one sighting at a time: a Kalman filter per band and gateway
(kalman.py) and a track over the plan that fuses every gateway (grid.py). A band has *arrived*
when the track puts it inside with probability `p_enter` and the door test (door_test.py) finds
it inside by now (or the track holds it there `track_hold` seconds), or sooner, when the door
test finds it walked in, or when the door test finds it has been inside a while even though the
track still doubts; it is gone again below `p_leave` for `leave_s`. Where a gateway hangs over
the door, the door test has the last word: the track holding a band inside is not enough. A
venue without a model falls back to the role rule, a batch at a time (role_rule.py). Either way
the door link's Kalman rate gives *approaching* and its ETA.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import msgspec
import numpy as np
import numpy.typing as npt

from maitre.floorplan import FloorPlanError, VenueModel, inward
from maitre.presence.config import DOOR, INSIDE, PresenceConfig
from maitre.presence.door_test import DoorTest, Window, remember
from maitre.presence.events import GatewayKey, PresenceEvent
from maitre.presence.grid import Track, VenueGrid, track_start, track_update
from maitre.presence.kalman import RssiKalman
from maitre.presence.link import LN10_OVER_10, FloatArray, follow_link, level
from maitre.presence.role_rule import RoleRule
from maitre.presence.selfcal import GainLearner, GatewayGain
from maitre.wire import Sighting


class _Band:
    __slots__ = (
        "approaching",
        "arrived",
        "inside_since",
        "last_t",
        "links",
        "outside_since",
        "p_inside",
        "track",
        "windows",
    )

    def __init__(self) -> None:
        self.links: dict[str, RssiKalman] = {}
        self.track: Track | None = None
        self.windows: dict[str, list[Window]] = {}  # for the door test, until arrived
        self.p_inside = 0.0
        self.arrived = False
        self.approaching = False
        self.inside_since: float | None = None
        self.outside_since: float | None = None
        self.last_t = 0.0


class PresenceEngine:
    """Per venue, per band state machine fed by sightings; pure: no I/O, no wall clock."""

    def __init__(
        self,
        roles: Mapping[GatewayKey, str],
        config: PresenceConfig | None = None,
        models: Mapping[str, VenueModel] | None = None,
    ) -> None:
        self.config = config or PresenceConfig()
        # Held by reference: the service updates these mappings in place when gateways change.
        self.roles = roles
        self.models: Mapping[str, VenueModel] = models if models is not None else {}
        self._grids: dict[str, tuple[VenueModel, VenueGrid]] = {}
        self._doors: dict[str, tuple[VenueModel, DoorTest | None, bool]] = {}
        self._bands: dict[tuple[str, str], _Band] = {}  # venues with a model
        self._rules: dict[str, RoleRule] = {}  # venues without: the role rule, a batch at a time
        # What each venue learned of its gateways' gains, for the plan it learned it on, and that
        # plan with the learned gains in it (what the grid and the door test are built from).
        self._learners: dict[str, tuple[VenueModel, GainLearner]] = {}
        self._learned: dict[str, tuple[VenueModel, VenueModel]] = {}

    def distance(self, rssi: float, power_1m: float) -> float:
        """Log-distance path loss inverted: metres from a filtered level and the 1 m power."""
        return float(10 ** ((power_1m - rssi) / (10 * self.config.path_loss_exponent)))

    def observe(self, venue: str, gateway: str, s: Sighting) -> list[PresenceEvent]:
        """Feed one sighting; return the events it decides (usually none)."""
        if venue not in self.models:
            return self.observe_batch(venue, gateway, (s,))
        cfg = self.config
        key = (venue, s.id)
        band = self._bands.get(key)
        if band is None:
            band = self._bands[key] = _Band()
        if follow_link(band.links, gateway, s, cfg) is None:
            return []  # older than what we have: a late duplicate, it changes nothing
        band.last_t = max(band.last_t, s.t)
        if cfg.door_test and not band.arrived:
            remember(band.windows, gateway, s.t, level(s, cfg), cfg.fading_var / max(s.n, 1))
        elif band.arrived and cfg.learn_gains:
            self._learn(venue, s.id, gateway, s.t, level(s, cfg))
        return self._decide(venue, s, band)

    def _learner(self, venue: str) -> GainLearner:
        model = self.models[venue]
        held = self._learners.get(venue)
        if held is None or held[0] is not model:  # a new plan: what was learned was of the old one
            held = self._learners[venue] = (model, GainLearner(model, self.config.path_loss_exponent))
            self._learned.pop(venue, None)
        return held[1]

    def _learn(self, venue: str, band: str, gateway: str, t: float, z: float) -> None:
        learner = self._learner(venue)
        if learner.heard(band, gateway, t, z):
            gains = learner.update()
            if gains is not None:
                model = self.models[venue]
                was = self._model(venue)
                now = msgspec.structs.replace(model, gains=gains)
                self._learned[venue] = (model, now)
                # Only constants per gateway moved: shift what was built instead of building it again
                # (a door test takes a few tenths of a second to build, and ingest waits meanwhile).
                deltas = {g: gains.get(g, 0.0) - was.gains.get(g, 0.0) for g in model.gateways}
                grid = self._grids.get(venue)
                if grid is not None and grid[0] is was:
                    grid[1].shift_gains(now, deltas)
                    self._grids[venue] = (now, grid[1])
                door = self._doors.get(venue)
                if door is not None and door[0] is was:
                    if door[1] is not None:
                        door[1].shift_gains(deltas)
                    self._doors[venue] = (now, door[1], door[2])

    def _model(self, venue: str) -> VenueModel:
        """The venue's plan as the engine uses it: with the gains it learned, once it has."""
        model = self.models[venue]
        learned = self._learned.get(venue)
        return learned[1] if learned is not None and learned[0] is model else model

    def learned_gains(self, venue: str) -> dict[str, GatewayGain]:
        """What the venue learned of each gateway's gain so far (empty: nothing, or no plan)."""
        held = self._learners.get(venue)
        return held[1].snapshot if held is not None else {}

    def drift_warnings(self, venue: str) -> list[str]:
        """A line for each gateway whose latest levels at the host stand stray far from what the
        venue learned of it (for /readyz): it was moved, turned or blocked."""
        held = self._learners.get(venue)
        if held is None:
            return []
        report = held[1].snapshot
        return [
            f"gateway {g} reads {report[g].drift_db:+.0f} dB off what the venue learned at the host "
            "stand: moved, turned or blocked? (docs/operate/calibration.md)"
            for g in held[1].drifting()
        ]

    def observe_batch(self, venue: str, gateway: str, sightings: Sequence[Sighting]) -> list[PresenceEvent]:
        """Feed one gateway's batch; the events it decides, in order, as observe() would one by one."""
        if venue in self.models:
            return [event for s in sightings for event in self.observe(venue, gateway, s)]
        return self._rule(venue).observe(gateway, sightings)

    def observe_columns(
        self,
        venue: str,
        gateway: str,
        ids: list[str],
        t: FloatArray,
        z: FloatArray,
        count: FloatArray,
    ) -> list[PresenceEvent]:
        """observe_batch for a venue without a model, its batch already in columns: ids, times,
        levels relative to each band's 1 m power, packets summarised (role_rule.observe_columns)."""
        return self._rule(venue).observe_columns(gateway, ids, t, z, count)

    def observe_keys(
        self,
        venue: str,
        gateway: str,
        keys: npt.NDArray[np.uint64],
        name: Callable[[int], str],
        t: FloatArray,
        z: FloatArray,
        count: FloatArray,
    ) -> list[PresenceEvent]:
        """observe_columns for bands known by number; `name` spells a key as its band's id."""
        return self._rule(venue).observe_keys(gateway, keys, name, t, z, count)

    def _rule(self, venue: str) -> RoleRule:
        """The role rule of a venue without a model (one with a model takes sightings, observe_batch)."""
        if venue in self.models:
            raise ValueError(f"venue {venue!r} has a model: give it sightings (observe_batch)")
        rule = self._rules.get(venue)
        if rule is None:
            rule = self._rules[venue] = RoleRule(venue, self.roles, self.config)
        return rule

    def _levels(self, venue: str, band: _Band, t: float) -> dict[str, tuple[str, float, float]]:
        """Fresh links by role: role → (gateway, best level, its rate)."""
        best: dict[str, tuple[str, float, float]] = {}
        stale = self.config.stale_s
        for gw, k in band.links.items():
            if t - k.last_t > stale:
                continue
            role = self.roles.get((venue, gw))
            if role is None:
                continue
            level = k.x + k.rate * (t - k.last_t)
            if role not in best or level > best[role][1]:
                best[role] = (gw, level, k.rate)
        return best

    def _grid(self, venue: str) -> VenueGrid:
        model = self._model(venue)
        cached = self._grids.get(venue)
        if cached is None or cached[0] is not model:
            cfg = self.config
            cached = self._grids[venue] = (
                model,
                VenueGrid(
                    model,
                    cfg.path_loss_exponent,
                    cfg.model_sigma_db if model.sigma_db is None else model.sigma_db,
                ),
            )
        return cached[1]

    def _door(self, venue: str) -> tuple[DoorTest | None, bool]:
        """The venue's door test (None when its plan does not say which side of the door is inside),
        and whether the plan hangs a gateway over the door (config.overhead_m)."""
        model = self._model(venue)
        cached = self._doors.get(venue)
        if cached is None or cached[0] is not model:
            try:
                way_in = inward(model)
            except FloorPlanError:
                test = None
            else:
                test = DoorTest(model, way_in, self.config.path_loss_exponent, self._grid(venue).sigma)
            reach, (dx, dy) = self.config.overhead_m, model.door
            over = (
                test is not None
                and reach is not None
                and any(math.hypot(x - dx, y - dy) <= reach for x, y in model.gateways.values())
            )
            cached = self._doors[venue] = (model, test, over)
        return cached[1], cached[2]

    def _decide(self, venue: str, s: Sighting, band: _Band) -> list[PresenceEvent]:
        cfg = self.config
        t = s.t
        levels = self._levels(venue, band, t)
        near = levels.get(DOOR) or levels.get(INSIDE)
        if near is None:
            return []
        gw, level, rate = near
        d = self.distance(level, 0.0)
        grid = self._grid(venue)
        # Tracked from the moment a door or inside gateway hears it, however far: a track
        # started only near the door would not know the band was walking along the street.
        fresh = {g: k.x for g, k in band.links.items() if t - k.last_t <= cfg.stale_s}
        if band.track is None:
            band.track = track_start(grid, fresh, t)
            fix = grid.locate(fresh)
            band.p_inside = 0.1 * fix.p_inside if fix is not None else 0.0
        else:
            band.p_inside = track_update(
                grid, band.track, fresh, t, cfg.walk_speed, cfg.track_interval, cfg.evidence_weight
            )
        p = band.p_inside
        events: list[PresenceEvent] = []
        if not band.arrived:
            walked_in, agrees, inside = False, True, None
            door, over_door = self._door(venue) if cfg.door_test else (None, False)
            checks = cfg.door_agree_llr is not None or over_door  # (the track's own arrivals too)
            testing = p >= cfg.door_test_p and (p < cfg.p_enter or checks)
            settled_bar = cfg.door_settled_llr if p >= cfg.door_settled_p else None  # the later look
            if door is not None and (testing or settled_bar is not None):
                scores = door.scores(band.windows, t)
                if scores is not None:  # (None: no opinion, the track decides alone)
                    llr = scores.walked_in_llr
                    walked_in = testing and llr >= cfg.door_test_llr
                    if not walked_in and settled_bar is not None:
                        llr = scores.crossed_llr(cfg.door_settled_s)
                        walked_in = llr >= settled_bar
                    inside = scores.inside
                    if over_door:
                        agrees = inside >= cfg.overhead_agree_llr
                    else:
                        agrees = cfg.door_agree_llr is None or inside >= cfg.door_agree_llr
                    if walked_in and p < cfg.p_enter:
                        # The track's odds times the door test's likelihood ratio (not independent
                        # evidence, so this overstates it a little; it is what the host is shown).
                        p = p * math.exp(llr) / (p * math.exp(llr) + 1 - p)
            if p >= cfg.p_enter or walked_in:
                if band.inside_since is None:
                    band.inside_since = t
                held = t - band.inside_since
                vetoed = cfg.hold_veto_llr is not None and inside is not None and inside < cfg.hold_veto_llr
                hold = not over_door and held >= cfg.track_hold and not vetoed
                sure = walked_in or agrees or hold
                if sure and held >= cfg.track_dwell:
                    band.arrived = True
                    band.windows.clear()  # kept for the door test only until it arrives
                    band.outside_since = None
                    if cfg.learn_gains:
                        self._learner(venue).greeted(s.id, t)
                    events.append(PresenceEvent(venue, s.id, "arrived", t, gw, round(d, 2), round(p, 2)))
            else:
                band.inside_since = None
                if not band.approaching and DOOR in levels:
                    self._approach(venue, s, band, gw, d, rate, events)
        elif p <= cfg.p_leave:
            # The track alone says "gone": a seated guest is far from the door, and that is fine.
            if band.outside_since is None:
                band.outside_since = t
            if t - band.outside_since >= cfg.leave_s:
                band.arrived = band.approaching = False
                band.inside_since = None
                events.append(PresenceEvent(venue, s.id, "left", t, gw, round(d, 2), 0.6))
        else:
            band.outside_since = None
        return events

    def _approach(
        self,
        venue: str,
        s: Sighting,
        band: _Band,
        gw: str,
        d: float,
        rate: float,
        events: list[PresenceEvent],
    ) -> None:
        cfg = self.config
        if d > cfg.approach_m or rate < cfg.approach_rate_db_s:
            return
        # Level rising at r dB/s means distance shrinking at d·ln10·r/(10·n) m/s, so the time to
        # reach the door is 10·n / (ln10 · r) seconds, whatever the distance.
        eta = min(60.0, cfg.path_loss_exponent / (LN10_OVER_10 * rate))
        band.approaching = True
        confidence = round(min(1.0, rate / (3 * cfg.approach_rate_db_s)), 2)
        events.append(
            PresenceEvent(venue, s.id, "approaching", s.t, gw, round(d, 2), confidence, round(eta, 1))
        )

    def expire(self, now: float) -> int:
        """Forget bands unheard for forget_after seconds; returns how many were dropped."""
        cutoff = now - self.config.forget_after
        stale = [k for k, b in self._bands.items() if b.last_t < cutoff]
        for k in stale:
            del self._bands[k]
        return len(stale) + sum(rule.expire(cutoff) for rule in self._rules.values())

    def forget_band(self, band: str) -> None:
        """Drop all state of one band (consent withdrawn, erasure)."""
        for k in [k for k in self._bands if k[1] == band]:
            del self._bands[k]
        for _, learner in self._learners.values():
            learner.forget(band)
        for rule in self._rules.values():
            rule.forget(band)

    def __len__(self) -> int:
        return len(self._bands) + sum(len(rule) for rule in self._rules.values())
