"""Raw advertising data, a run of AD structures (length, type, data), read into an Advertisement."""

from __future__ import annotations

from maitre.gateway.advertisement import Advertisement

AD_SERVICE_DATA_16 = 0x16  # 16-bit service UUID, little-endian, then the service's data
AD_MANUFACTURER_DATA = 0xFF  # company id, little-endian, then the company's data
# A 16-bit UUID xxxx is short for 0000xxxx on the Bluetooth base UUID; bleak keys service data so.
_BASE_UUID = "0000{:04x}-0000-1000-8000-00805f9b34fb"


def parse_advertising_data(
    raw: bytes, address: str = "unknown", rssi: float = 0, t: float = 0
) -> Advertisement:
    """Read manufacturer and service data from raw advertising data; ValueError names the bad offset.

    A zero length byte ends the data early (Core spec Vol 3 Part C §11), which is how Android pads
    its 62-byte scan records. Other AD types are skipped. A later structure for the same company
    or service replaces an earlier one.
    """
    manufacturer: dict[int, bytes] = {}
    service: dict[str, bytes] = {}
    i, end = 0, len(raw)
    while i < end:
        length = raw[i]
        if length == 0:
            break
        if i + 1 + length > end:
            raise ValueError(
                f"AD structure at offset {i} declares {length} bytes but only {end - i - 1} follow"
            )
        kind = raw[i + 1]
        if kind in (AD_MANUFACTURER_DATA, AD_SERVICE_DATA_16):
            if length < 3:
                what = "manufacturer data" if kind == AD_MANUFACTURER_DATA else "service data"
                raise ValueError(f"{what} at offset {i} is too short for its 2-byte id")
            key = raw[i + 2] | raw[i + 3] << 8
            body = raw[i + 4 : i + 1 + length]
            if kind == AD_MANUFACTURER_DATA:
                manufacturer[key] = body
            else:
                service[_BASE_UUID.format(key)] = body
        i += 1 + length
    return Advertisement(address, rssi, t, manufacturer, service)
