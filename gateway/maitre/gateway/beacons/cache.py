"""identify() with a memory: a band repeats the same bytes ten times a second, so decode them once."""

from __future__ import annotations

from maitre.gateway.advertisement import Advertisement
from maitre.gateway.beacons.decode import Frame, identify_eddystone, identify_manufacturer_data
from maitre.gateway.beacons.eddystone import EDDYSTONE_SERVICE_UUID

# Distinct beacon frames remembered. A venue hears hundreds of bands, and a rotating id adds one
# frame per rotation; past the bound the memory starts again, which costs one decode per frame.
MAX_FRAMES = 4096


class FrameCache:
    """Same answers as `identify`, with recognised frames remembered by their bytes.

    Only frames that decoded are remembered: unknown data (a phone's ever-changing Apple
    Continuity frames, say) is rejected by a length or prefix check, cheaper than remembering it.
    """

    __slots__ = ("_eddystone", "_manufacturer", "_size")

    def __init__(self) -> None:
        self._manufacturer: dict[int, dict[bytes, Frame]] = {}
        self._eddystone: dict[bytes, Frame] = {}
        self._size = 0

    def identify(self, adv: Advertisement) -> Frame | None:
        for company, data in adv.manufacturer_data.items():
            known = self._manufacturer.get(company)
            if known is not None:
                frame = known.get(data)
                if frame is not None:
                    return frame
            frame = identify_manufacturer_data(company, data)
            if frame is not None:
                self._remember(company, data, frame)
                return frame
        service = adv.service_data
        if service:
            eddystone = service.get(EDDYSTONE_SERVICE_UUID)
            if eddystone is not None:
                frame = self._eddystone.get(eddystone)
                if frame is None:
                    frame = identify_eddystone(eddystone)
                    if frame is not None:
                        self._remember(None, eddystone, frame)
                return frame
        return None

    def _remember(self, company: int | None, data: bytes, frame: Frame) -> None:
        if self._size >= MAX_FRAMES:
            self._manufacturer.clear()
            self._eddystone.clear()
            self._size = 0
        self._size += 1
        if company is None:
            self._eddystone[bytes(data)] = frame
        else:
            self._manufacturer.setdefault(company, {})[bytes(data)] = frame

    def __len__(self) -> int:
        return self._size
