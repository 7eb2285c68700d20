"""Two baselines the presence engine is compared with, behind the same observe() interface."""

from __future__ import annotations

from collections.abc import Sequence

from maitre.presence import GatewayKey, PresenceEvent
from maitre.wire import Sighting

# How long a gateway's last reading counts as current: two batch windows.
FRESH_S = 1.0


class _OneByOne:
    """A batch is its sightings one by one: what Ingest calls, for engines that decide per sighting."""

    def observe(self, venue: str, gateway: str, s: Sighting) -> list[PresenceEvent]:
        raise NotImplementedError

    def observe_batch(self, venue: str, gateway: str, sightings: Sequence[Sighting]) -> list[PresenceEvent]:
        return [event for s in sightings for event in self.observe(venue, gateway, s)]


class NearestGateway(_OneByOne):
    """ESPresense / room-assistant style: a band is in the room of the gateway hearing it loudest.

    Raw window RSSI, no smoothing: arrival is the moment a door gateway becomes the loudest.
    """

    def __init__(self, door_gateways: set[GatewayKey]) -> None:
        self.door_gateways = door_gateways
        self._last: dict[tuple[str, str], dict[str, tuple[float, float]]] = {}  # band → gw → (t, rssi)
        self._room: dict[tuple[str, str], str | None] = {}

    def observe(self, venue: str, gateway: str, s: Sighting) -> list[PresenceEvent]:
        key = (venue, s.id)
        heard = self._last.setdefault(key, {})
        heard[gateway] = (s.t, s.rssi)
        fresh = {g: r for g, (t, r) in heard.items() if s.t - t <= FRESH_S}
        nearest = max(fresh, key=fresh.__getitem__)
        was = self._room.get(key)
        self._room[key] = nearest
        if nearest != was and (venue, nearest) in self.door_gateways:
            return [PresenceEvent(venue, s.id, "arrived", s.t, nearest, 0.0, 1.0)]
        return []


class FixedDistance(_OneByOne):
    """A distance threshold from the path-loss formula on each window's mean RSSI, no filtering."""

    def __init__(
        self,
        door_gateways: set[GatewayKey],
        arrive_m: float = 2.0,
        exponent: float = 2.2,
        power_1m: int = -59,
    ) -> None:
        self.door_gateways = door_gateways
        self.arrive_m = arrive_m
        self.exponent = exponent
        self.power_1m = power_1m
        self._inside: set[tuple[str, str]] = set()

    def observe(self, venue: str, gateway: str, s: Sighting) -> list[PresenceEvent]:
        if (venue, gateway) not in self.door_gateways:
            return []
        power = s.tx if s.tx is not None else self.power_1m
        d = 10 ** ((power - s.rssi) / (10 * self.exponent))
        key = (venue, s.id)
        if d <= self.arrive_m:
            if key not in self._inside:
                self._inside.add(key)
                return [PresenceEvent(venue, s.id, "arrived", s.t, gateway, round(d, 2), 1.0)]
        else:
            self._inside.discard(key)
        return []
