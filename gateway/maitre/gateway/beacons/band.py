"""Maître's own band frame, emitted by the band firmware (and by firmware_sim).

Manufacturer-specific data under company id 0xFFFF, which the Bluetooth SIG reserves for
internal and interoperability tests, so no registered company's frames collide with it:

    offset 0  'M' (0x4D)           frame marker
    offset 1  frame type           0x01 static id, 0x02 rotating (ephemeral) id
    offset 2  8 bytes              band id (static) or ephemeral id (rotating)
    offset 10 int8                 advertised power at 1 m, dBm
    offset 11 uint8                battery, percent (0xFF unknown)
"""

from __future__ import annotations

from maitre.wire import band_id, eid_id

BAND_COMPANY_ID = 0xFFFF
MARKER = 0x4D
FRAME_STATIC = 0x01
FRAME_ROTATING = 0x02
FRAME_LENGTH = 12


def decode_band(data: bytes) -> tuple[str, int] | None:
    """Return (advertiser id, power at 1 m) or None if this is not a band frame."""
    if len(data) < FRAME_LENGTH or data[0] != MARKER:
        return None
    kind = data[1]
    if kind == FRAME_STATIC:
        ident = band_id(data[2:10])
    elif kind == FRAME_ROTATING:
        ident = eid_id(data[2:10])
    else:
        return None
    power = data[10] - 256 if data[10] > 127 else data[10]
    return ident, power


def encode_band(ident: bytes, power: int, battery: int = 0xFF, rotating: bool = False) -> bytes:
    """Build the manufacturer data of a band frame."""
    if len(ident) != 8:
        raise ValueError("band ids are 8 bytes")
    kind = FRAME_ROTATING if rotating else FRAME_STATIC
    return bytes((MARKER, kind)) + ident + bytes((power & 0xFF, battery & 0xFF))
