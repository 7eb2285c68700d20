"""AltBeacon (github.com/AltBeacon/spec): manufacturer data of any company, beacon code 0xBEAC.

After the company id, which any manufacturer may use:

    offset 0  0xBE 0xAC   beacon code
    offset 2  20 bytes    beacon id, by convention a 16-byte id1, a 2-byte id2, a 2-byte id3
    offset 22 int8        reference RSSI at 1 m, dBm
    offset 23 uint8       reserved for the manufacturer
"""

from __future__ import annotations

BEACON_CODE = b"\xbe\xac"
# The reserved byte carries no identity; like the Android Beacon Library, accept frames without it.
_LENGTH = 23  # 2 beacon code + 20 beacon id + 1 reference RSSI


def decode_altbeacon(data: bytes) -> tuple[str, int] | None:
    """Return (advertiser id, reference RSSI at 1 m) or None if this is not an AltBeacon frame."""
    if len(data) < _LENGTH or data[0] != 0xBE or data[1] != 0xAC:
        return None
    id2 = int.from_bytes(data[18:20], "big")
    id3 = int.from_bytes(data[20:22], "big")
    power = data[22] - 256 if data[22] > 127 else data[22]
    return f"altbeacon:{data[2:18].hex()}:{id2}:{id3}", power


def encode_altbeacon(id1: bytes, id2: int, id3: int, power: int, reserved: int = 0) -> bytes:
    """Build the manufacturer data of an AltBeacon frame (the company id is the caller's key)."""
    if len(id1) != 16:
        raise ValueError("AltBeacon id1 is 16 bytes")
    return (
        BEACON_CODE + id1 + id2.to_bytes(2, "big") + id3.to_bytes(2, "big") + bytes((power & 0xFF, reserved))
    )
