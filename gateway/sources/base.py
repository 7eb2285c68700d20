"""The small interface every advertisement source implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from gateway.advertisement import Advertisement

AdvertisementSink = Callable[[Advertisement], None]


class AdvertisementSource(Protocol):
    """Calls the sink for every advertisement heard, until cancelled."""

    async def run(self, sink: AdvertisementSink) -> None: ...
