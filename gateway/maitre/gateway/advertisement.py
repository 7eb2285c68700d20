"""One BLE advertisement as a source hands it to the gateway, whatever radio heard it."""

from __future__ import annotations


class Advertisement:
    """The parts of an advertisement the decoders need, in bleak's shapes."""

    __slots__ = ("address", "manufacturer_data", "rssi", "service_data", "t")

    def __init__(
        self,
        address: str,
        rssi: float,
        t: float,
        manufacturer_data: dict[int, bytes] | None = None,
        service_data: dict[str, bytes] | None = None,
    ) -> None:
        self.address = address
        self.rssi = rssi
        self.t = t  # gateway clock, unix seconds
        self.manufacturer_data = manufacturer_data or {}
        self.service_data = service_data or {}

    def __repr__(self) -> str:
        return (
            f"Advertisement({self.address!r}, rssi={self.rssi}, t={self.t}, "
            f"mfr={ {k: _hex(v) for k, v in self.manufacturer_data.items()} }, "
            f"svc={ {k: _hex(v) for k, v in self.service_data.items()} })"
        )


def _hex(data: object) -> str:
    """Hex for bytes; anything else as it is, since a malformed advertisement is what gets logged."""
    return data.hex() if isinstance(data, bytes | bytearray) else repr(data)
