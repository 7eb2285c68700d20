"""First presence engine: smoothed signal per band and gateway, distance zones with hysteresis.

A band is *arrived* once its smoothed distance to a door gateway stays inside `arrive_m` for
`dwell` seconds; it only counts as gone again beyond `leave_m`, so a guest standing at the edge
does not flap. A band whose signal at any gateway is rising fast enough, within `approach_m`
of a door gateway, is *approaching*.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from maitre.wire import Sighting

GatewayKey = tuple[str, str]  # (venue, gateway)
EventKind = Literal["approaching", "arrived", "left"]


@dataclass(frozen=True, slots=True)
class PresenceConfig:
    # Smoothing time constant: ~3 batches, enough to average out fast fading at a walk.
    tau: float = 1.5
    path_loss_exponent: float = 2.2
    default_power_1m: int = -59  # when a frame carries no calibrated power
    arrive_m: float = 2.5  # inside this at a door gateway, after dwell: arrived
    leave_m: float = 4.5  # hysteresis: only beyond this does an arrived band count as gone
    dwell: float = 0.8  # seconds inside arrive_m before arrival is declared
    approach_m: float = 15.0  # approaching is only reported this close to a door gateway
    approach_rise_db: float = 3.0  # signal rise over approach_window that means "coming closer"
    approach_window: float = 3.0
    forget_after: float = 30.0  # seconds unheard before a band's state is dropped


@dataclass(frozen=True, slots=True)
class PresenceEvent:
    venue: str
    band: str  # advertiser id as on the wire
    kind: EventKind
    at: float  # gateway time of the deciding sighting, unix seconds
    gateway: str
    distance_m: float
    confidence: float  # 0..1


class _Link:
    """Smoothed signal of one band at one gateway."""

    __slots__ = ("ema", "history", "last_t", "power")

    def __init__(self, rssi: float, t: float, power: int) -> None:
        self.ema = rssi
        self.last_t = t
        self.power = power
        self.history: list[tuple[float, float]] = [(t, rssi)]


class _Band:
    __slots__ = ("approaching", "arrived", "inside_since", "last_t", "links", "outside_since")

    def __init__(self) -> None:
        self.links: dict[str, _Link] = {}
        self.arrived = False
        self.approaching = False
        self.inside_since: float | None = None
        self.outside_since: float | None = None
        self.last_t = 0.0


class PresenceEngine:
    """Per venue, per band state machine fed by sightings in gateway-time order."""

    def __init__(self, door_gateways: set[GatewayKey], config: PresenceConfig | None = None) -> None:
        self.config = config or PresenceConfig()
        # Held by reference: the service updates this set in place when gateways change.
        self.door_gateways = door_gateways
        self._bands: dict[tuple[str, str], _Band] = {}

    def distance(self, rssi: float, power_1m: int) -> float:
        """Log-distance path loss inverted: metres from smoothed RSSI and the 1 m power."""
        return float(10 ** ((power_1m - rssi) / (10 * self.config.path_loss_exponent)))

    def observe(self, venue: str, gateway: str, s: Sighting) -> list[PresenceEvent]:
        """Feed one sighting; return the events it decides (usually none)."""
        cfg = self.config
        key = (venue, s.id)
        band = self._bands.get(key)
        if band is None:
            band = self._bands[key] = _Band()
        band.last_t = max(band.last_t, s.t)
        power = s.tx if s.tx is not None else cfg.default_power_1m
        link = band.links.get(gateway)
        if link is None:
            link = band.links[gateway] = _Link(s.rssi, s.t, power)
        else:
            dt = s.t - link.last_t
            if dt <= 0:
                return []  # older than what we have: a late duplicate, it changes nothing
            # Time-based EMA weighted by packet count: one batch of many packets counts more.
            alpha = 1 - math.exp(-dt * min(s.n, 10) / (cfg.tau * 5))
            link.ema += alpha * (s.rssi - link.ema)
            link.last_t = s.t
            link.power = power
            link.history.append((s.t, link.ema))
            cutoff = s.t - cfg.approach_window
            while len(link.history) > 2 and link.history[1][0] <= cutoff:
                link.history.pop(0)

        events: list[PresenceEvent] = []
        d = self.distance(link.ema, link.power)
        is_door = (venue, gateway) in self.door_gateways
        if is_door:
            self._door_logic(venue, gateway, s, band, link, d, events)
        if not band.arrived and not band.approaching:
            self._approach_logic(venue, gateway, s, band, link, is_door, events)
        return events

    def _door_logic(
        self,
        venue: str,
        gateway: str,
        s: Sighting,
        band: _Band,
        link: _Link,
        d: float,
        events: list[PresenceEvent],
    ) -> None:
        cfg = self.config
        if not band.arrived:
            if d <= cfg.arrive_m:
                if band.inside_since is None:
                    band.inside_since = s.t
                if s.t - band.inside_since >= cfg.dwell:
                    band.arrived = True
                    band.outside_since = None
                    events.append(
                        PresenceEvent(venue, s.id, "arrived", s.t, gateway, round(d, 2), self._confidence(d))
                    )
            else:
                band.inside_since = None
        elif d >= cfg.leave_m:
            if band.outside_since is None:
                band.outside_since = s.t
            if s.t - band.outside_since >= cfg.dwell:
                band.arrived = False
                band.approaching = False
                band.inside_since = None
                events.append(PresenceEvent(venue, s.id, "left", s.t, gateway, round(d, 2), 0.5))
        else:
            band.outside_since = None

    def _approach_logic(
        self,
        venue: str,
        gateway: str,
        s: Sighting,
        band: _Band,
        link: _Link,
        is_door: bool,
        events: list[PresenceEvent],
    ) -> None:
        cfg = self.config
        door_links = [g for g in band.links if (venue, g) in self.door_gateways]
        if not door_links:
            return
        nearest = min(self.distance(band.links[g].ema, band.links[g].power) for g in door_links)
        if nearest > cfg.approach_m or len(link.history) < 3:
            return
        t0, first = link.history[0]
        if s.t - t0 < cfg.approach_window * 0.5:
            return
        rise = link.ema - first
        if rise >= cfg.approach_rise_db:
            band.approaching = True
            confidence = min(1.0, rise / (2 * cfg.approach_rise_db))
            events.append(
                PresenceEvent(
                    venue, s.id, "approaching", s.t, gateway, round(nearest, 2), round(confidence, 2)
                )
            )

    def _confidence(self, d: float) -> float:
        """Higher the deeper inside the arrival radius; a first version, refined by evaluation."""
        cfg = self.config
        return round(min(1.0, 0.5 + 0.5 * (cfg.arrive_m - d) / cfg.arrive_m), 2)

    def expire(self, now: float) -> int:
        """Forget bands unheard for forget_after seconds; returns how many were dropped."""
        cutoff = now - self.config.forget_after
        stale = [k for k, b in self._bands.items() if b.last_t < cutoff]
        for k in stale:
            del self._bands[k]
        return len(stale)

    def forget_band(self, band: str) -> None:
        """Drop all state of one band (consent withdrawn, erasure)."""
        for k in [k for k in self._bands if k[1] == band]:
            del self._bands[k]

    def __len__(self) -> int:
        return len(self._bands)
