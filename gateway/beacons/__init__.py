"""Beacon decoders: an advertisement in, a typed advertiser id and its 1 m power out."""

from gateway.beacons.decode import Decoded, Frame, decode, identify, telemetry
from gateway.beacons.eddystone import Telemetry
from gateway.beacons.filters import Filters

__all__ = ["Decoded", "Filters", "Frame", "Telemetry", "decode", "identify", "telemetry"]
