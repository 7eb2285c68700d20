"""Where advertisements come from: a real BLE radio (bleak) or the simulator's radio."""

from gateway.sources.base import AdvertisementSink, AdvertisementSource

__all__ = ["AdvertisementSink", "AdvertisementSource"]
