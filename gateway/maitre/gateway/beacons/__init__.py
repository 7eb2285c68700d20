"""Beacon decoders: an advertisement in, a typed advertiser id and its 1 m power out."""

from maitre.gateway.beacons.decode import Decoded, Frame, decode, identify, telemetry
from maitre.gateway.beacons.eddystone import Telemetry
from maitre.gateway.beacons.filters import Filters

__all__ = ["Decoded", "Filters", "Frame", "Telemetry", "decode", "identify", "telemetry"]
