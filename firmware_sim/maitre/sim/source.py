"""An advertisement source for the gateway agent, fed by the simulated air instead of a radio."""

from __future__ import annotations

import asyncio

from maitre.gateway.sources.base import AdvertisementSink
from maitre.sim.air import Air


class SimulatedSource:
    """Hears what the simulated air delivers to one gateway placement."""

    mode = "simulated"

    def __init__(self, air: Air, gateway: str) -> None:
        self.air = air
        self.gateway = gateway

    async def run(self, sink: AdvertisementSink) -> None:
        self.air.listen(self.gateway, sink)
        try:
            await asyncio.Event().wait()  # the air pushes; we only wait to be cancelled
        finally:
            self.air.unlisten(self.gateway)
