"""Dispatch an advertisement to the decoder for its frame; unknown frames cost one dict probe."""

from __future__ import annotations

from collections.abc import Callable

from gateway.advertisement import Advertisement
from gateway.beacons.band import BAND_COMPANY_ID, decode_band
from gateway.beacons.ibeacon import APPLE_COMPANY_ID, decode_ibeacon

Decoded = tuple[str, int | None]

_BY_COMPANY: dict[int, Callable[[bytes], tuple[str, int] | None]] = {
    APPLE_COMPANY_ID: decode_ibeacon,
    BAND_COMPANY_ID: decode_band,
}


def decode(adv: Advertisement) -> Decoded | None:
    """Return (advertiser id, power at 1 m or None) for a frame we know, else None."""
    for company, data in adv.manufacturer_data.items():
        decoder = _BY_COMPANY.get(company)
        if decoder is not None:
            found = decoder(data)
            if found is not None:
                return found
    return None
