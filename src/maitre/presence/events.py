"""What the presence engine decides: approaching, arrived, left, for a band in a venue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GatewayKey = tuple[str, str]  # (venue, gateway)
EventKind = Literal["approaching", "arrived", "left"]


@dataclass(frozen=True, slots=True)
class PresenceEvent:
    venue: str
    band: str  # advertiser id as on the wire
    kind: EventKind
    at: float  # gateway time of the deciding sighting, unix seconds
    gateway: str
    distance_m: float
    confidence: float  # 0..1
    eta_s: float | None = None  # for approaching: estimated seconds to the door
