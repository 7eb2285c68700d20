"""The role rule as engine.py decided it one sighting at a time, before observe_batch: the oracle.

A copy kept only for tests (tests/test_presence_batch.py): the batch path must decide exactly
the events this decides, for the same sightings fed one by one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from maitre.presence import PresenceConfig, PresenceEvent
from maitre.presence.kalman import RssiKalman
from maitre.wire import Sighting

DOOR, APPROACH, INSIDE = "door", "approach", "inside"
_LN10_OVER_10 = math.log(10) / 10


class _Band:
    def __init__(self) -> None:
        self.links: dict[str, RssiKalman] = {}
        self.arrived = False
        self.approaching = False
        self.inside_since: float | None = None
        self.outside_since: float | None = None
        self.last_t = 0.0


class ReferenceRoleRule:
    def __init__(self, roles: Mapping[tuple[str, str], str], config: PresenceConfig | None = None) -> None:
        self.config = config or PresenceConfig()
        self.roles = roles
        self._bands: dict[tuple[str, str], _Band] = {}

    def distance(self, rssi: float, power_1m: float) -> float:
        return float(10 ** ((power_1m - rssi) / (10 * self.config.path_loss_exponent)))

    def observe(self, venue: str, gateway: str, s: Sighting) -> list[PresenceEvent]:
        cfg = self.config
        key = (venue, s.id)
        band = self._bands.get(key)
        if band is None:
            band = self._bands[key] = _Band()
        z = s.rssi - (s.tx if s.tx is not None else cfg.default_power_1m)
        link = band.links.get(gateway)
        if link is None or s.t - link.last_t > cfg.stale_s:
            band.links[gateway] = RssiKalman(z, s.t)
        elif s.t > link.last_t:
            link.update(z, s.t, s.n, cfg.accel_noise, cfg.fading_var, cfg.floor_var)
        else:
            return []
        band.last_t = max(band.last_t, s.t)
        role = self.roles.get((venue, gateway))
        if role == APPROACH and not band.arrived:
            return []
        return self._decide(venue, s, band)

    def _levels(self, venue: str, band: _Band, t: float) -> dict[str, tuple[str, float, float]]:
        best: dict[str, tuple[str, float, float]] = {}
        for gw, k in band.links.items():
            if t - k.last_t > self.config.stale_s:
                continue
            role = self.roles.get((venue, gw))
            if role is None:
                continue
            level = k.x + k.rate * (t - k.last_t)
            if role not in best or level > best[role][1]:
                best[role] = (gw, level, k.rate)
        return best

    def _decide(self, venue: str, s: Sighting, band: _Band) -> list[PresenceEvent]:
        cfg = self.config
        t = s.t
        levels = self._levels(venue, band, t)
        near = levels.get(DOOR) or levels.get(INSIDE)
        if near is None:
            return []
        radius = cfg.arrive_m if DOOR in levels else cfg.inside_m
        gw, level, rate = near
        d = self.distance(level, 0.0)
        outside = levels.get(APPROACH)
        margin = level - outside[1] if outside is not None else cfg.inside_margin_db
        inside = d <= radius and margin >= cfg.inside_margin_db
        depth = (radius - d) / radius
        clarity = (margin - cfg.inside_margin_db) / 12.0
        confidence = round(max(0.5, min(1.0, 0.5 + 0.25 * depth + 0.25 * clarity)), 2)
        events: list[PresenceEvent] = []
        if not band.arrived:
            if inside:
                if band.inside_since is None:
                    band.inside_since = t
                if t - band.inside_since >= cfg.dwell:
                    band.arrived = True
                    band.outside_since = None
                    events.append(PresenceEvent(venue, s.id, "arrived", t, gw, round(d, 2), confidence))
            else:
                band.inside_since = None
                if not band.approaching and DOOR in levels:
                    if d > cfg.approach_m or rate < cfg.approach_rate_db_s:
                        return events
                    eta = min(60.0, cfg.path_loss_exponent / (_LN10_OVER_10 * rate))
                    band.approaching = True
                    conf = round(min(1.0, rate / (3 * cfg.approach_rate_db_s)), 2)
                    events.append(
                        PresenceEvent(venue, s.id, "approaching", t, gw, round(d, 2), conf, round(eta, 1))
                    )
        else:
            gone = d >= cfg.leave_m or margin <= -cfg.inside_margin_db
            if gone:
                if band.outside_since is None:
                    band.outside_since = t
                if t - band.outside_since >= cfg.leave_s:
                    band.arrived = band.approaching = False
                    band.inside_since = None
                    events.append(PresenceEvent(venue, s.id, "left", t, gw, round(d, 2), 0.6))
            else:
                band.outside_since = None
        return events
