"""Apple iBeacon: manufacturer data of company 0x004C, type 0x02, length 0x15."""

from __future__ import annotations

from maitre.wire import ibeacon_id

APPLE_COMPANY_ID = 0x004C
_PREFIX = b"\x02\x15"
_LENGTH = 23  # 2 prefix + 16 uuid + 2 major + 2 minor + 1 measured power


def decode_ibeacon(data: bytes) -> tuple[str, int] | None:
    """Return (advertiser id, measured power at 1 m) or None if this is not an iBeacon frame."""
    if len(data) < _LENGTH or data[:2] != _PREFIX:
        return None
    h = data[2:18].hex()
    uuid = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    major = int.from_bytes(data[18:20], "big")
    minor = int.from_bytes(data[20:22], "big")
    power = data[22] - 256 if data[22] > 127 else data[22]
    return ibeacon_id(uuid, major, minor), power


def encode_ibeacon(uuid: str, major: int, minor: int, power: int) -> bytes:
    """Build the manufacturer data of an iBeacon frame (used by the simulator and tests)."""
    raw = bytes.fromhex(uuid.replace("-", ""))
    return _PREFIX + raw + major.to_bytes(2, "big") + minor.to_bytes(2, "big") + bytes((power & 0xFF,))
