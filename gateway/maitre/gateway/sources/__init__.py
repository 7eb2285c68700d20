"""Where advertisements come from: a real BLE radio (bleak) or the simulator's radio."""

from maitre.gateway.sources.base import AdvertisementSink, AdvertisementSource, ScanningSource

__all__ = ["AdvertisementSink", "AdvertisementSource", "ScanningSource"]
