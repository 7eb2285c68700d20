"""Dispatch an advertisement to the decoder for its frame; unknown frames cost one dict probe."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from maitre.gateway.advertisement import Advertisement
from maitre.gateway.beacons.altbeacon import decode_altbeacon
from maitre.gateway.beacons.band import BAND_COMPANY_ID, decode_band
from maitre.gateway.beacons.eddystone import (
    EDDYSTONE_SERVICE_UUID,
    FRAME_UID,
    Telemetry,
    decode_eddystone,
    decode_tlm,
)
from maitre.gateway.beacons.filters import Filters
from maitre.gateway.beacons.ibeacon import APPLE_COMPANY_ID, decode_ibeacon

Decoded = tuple[str, int | None]
FrameDecoder = Callable[[bytes], tuple[str, int] | None]

# The wire contract's bounds on advertised power (maitre.wire.TxPower). A frame claiming more is
# broken or forged: keep its identity but drop the claim, or one such beacon in range would make
# every batch of this gateway invalid.
TX_POWER_MIN = -127
TX_POWER_MAX = 20

# Registered companies with a frame of their own; AltBeacon is tried for every company after these.
_BY_COMPANY: dict[int, tuple[str, FrameDecoder]] = {
    APPLE_COMPANY_ID: ("ibeacon", decode_ibeacon),
    BAND_COMPANY_ID: ("band", decode_band),
}


class Frame(NamedTuple):
    """A recognised frame: its kind ("ibeacon", "eddystone-uid", ...), advertiser id and 1 m power."""

    kind: str
    ident: str
    power: int | None


def identify(adv: Advertisement) -> Frame | None:
    """Return the first identifying frame of the advertisement, or None if it carries none we know."""
    for company, data in adv.manufacturer_data.items():
        frame = identify_manufacturer_data(company, data)
        if frame is not None:
            return frame
    eddystone = adv.service_data.get(EDDYSTONE_SERVICE_UUID)
    return None if eddystone is None else identify_eddystone(eddystone)


def identify_manufacturer_data(company: int, data: bytes) -> Frame | None:
    """The frame in one company's manufacturer data, or None."""
    entry = _BY_COMPANY.get(company)
    if entry is not None:
        found = entry[1](data)
        if found is not None:
            return _frame(entry[0], found)
    found = decode_altbeacon(data)
    return None if found is None else _frame("altbeacon", found)


def identify_eddystone(data: bytes) -> Frame | None:
    """The identifying frame in Eddystone service data (UID or EID), or None."""
    found = decode_eddystone(data)
    if found is None:
        return None
    return _frame("eddystone-uid" if data[0] == FRAME_UID else "eddystone-eid", found)


def decode(adv: Advertisement, filters: Filters | None = None) -> Decoded | None:
    """Return (advertiser id, power at 1 m or None) for a frame we know and the filters allow, else None."""
    frame = identify(adv)
    if frame is None or (filters is not None and not filters.accept(frame.ident)):
        return None
    return frame.ident, frame.power


def telemetry(adv: Advertisement) -> Telemetry | None:
    """Return the Eddystone TLM telemetry the advertisement carries, if any."""
    data = adv.service_data.get(EDDYSTONE_SERVICE_UUID)
    return None if data is None else decode_tlm(data)


def _frame(kind: str, found: tuple[str, int]) -> Frame:
    ident, power = found
    return Frame(kind, ident, power if TX_POWER_MIN <= power <= TX_POWER_MAX else None)
