"""Beacon decoders: an advertisement in, a typed advertiser id and its 1 m power out."""

from gateway.beacons.decode import Decoded, decode

__all__ = ["Decoded", "decode"]
