"""The small interface every advertisement source implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from maitre.gateway.advertisement import Advertisement
from maitre.wire import ScanningMode

AdvertisementSink = Callable[[Advertisement], None]


class AdvertisementSource(Protocol):
    """Calls the sink for every advertisement heard, until cancelled.

    A source also names what it is doing in `mode` (for telemetry: "passive", "active",
    "simulated", "stopped") and counts its own faults by kind in `errors`.
    """

    async def run(self, sink: AdvertisementSink) -> None: ...


@runtime_checkable
class ScanningSource(Protocol):
    """A source with a real radio, whose scanning mode can change while it runs."""

    def set_scanning(self, mode: ScanningMode) -> None: ...
