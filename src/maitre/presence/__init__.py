"""Presence: sightings and a clock in, presence events out. Pure: no I/O, no wall clock."""

from maitre.presence.config import PresenceConfig
from maitre.presence.engine import PresenceEngine
from maitre.presence.events import GatewayKey, PresenceEvent

__all__ = ["GatewayKey", "PresenceConfig", "PresenceEngine", "PresenceEvent"]
