"""Presence: sightings and a clock in, presence events out. Pure: no I/O, no wall clock."""

from maitre.presence.engine import GatewayKey, PresenceConfig, PresenceEngine, PresenceEvent

__all__ = ["GatewayKey", "PresenceConfig", "PresenceEngine", "PresenceEvent"]
