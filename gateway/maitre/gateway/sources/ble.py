"""An advertisement source on a real radio, through bleak: passive on BlueZ where it can, else active."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from bleak import BleakScanner
from bleak.assigned_numbers import AdvertisementDataType
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner

from maitre.gateway.advertisement import Advertisement
from maitre.gateway.beacons.altbeacon import BEACON_CODE
from maitre.gateway.beacons.band import MARKER
from maitre.gateway.lograte import RateLimitedLog
from maitre.gateway.sources.base import AdvertisementSink
from maitre.wire import ScanningMode

try:
    from bleak.args.bluez import OrPattern
except ImportError:  # bleak < 3.0 kept it with the BlueZ backend
    from bleak.backends.bluezdbus.advertisement_monitor import OrPattern  # type: ignore[no-redef]

log = logging.getLogger("maitre.gateway")

# BlueZ scans passively only through its advertisement monitor, which reports only what matches
# one of these patterns (start position, AD type, bytes), so they name exactly the frames the
# decoders know. Manufacturer data starts with the company id, little-endian.
OR_PATTERNS = [
    OrPattern(0, AdvertisementDataType.MANUFACTURER_SPECIFIC_DATA, b"\x4c\x00\x02\x15"),  # iBeacon
    OrPattern(0, AdvertisementDataType.MANUFACTURER_SPECIFIC_DATA, bytes((0xFF, 0xFF, MARKER))),  # band
    OrPattern(2, AdvertisementDataType.MANUFACTURER_SPECIFIC_DATA, BEACON_CODE),  # AltBeacon, any company
    OrPattern(0, AdvertisementDataType.SERVICE_DATA_UUID16, b"\xaa\xfe"),  # Eddystone
]
# A radio that fails to start (adapter unplugged, bluetoothd restarting) is tried again this often.
RETRY_SECONDS = 10.0


def scanner_kwargs(mode: ScanningMode, adapter: str | None, platform: str = sys.platform) -> dict[str, Any]:
    """BleakScanner's arguments for a scanning mode: BlueZ needs or-patterns to scan passively."""
    bluez: dict[str, Any] = {}
    if adapter:
        bluez["adapter"] = adapter
    if mode == "passive" and platform == "linux":
        bluez["or_patterns"] = list(OR_PATTERNS)
    return {"scanning_mode": mode, "bluez": bluez}


class BleakSource:
    """Scans with bleak and hands every advertisement to the sink as an `Advertisement`.

    Asked for passive scanning, it falls back to active where the platform or BlueZ cannot scan
    passively (BlueZ before 5.56, or without its experimental advertisement monitor), and says so.
    """

    def __init__(
        self,
        adapter: str | None = None,
        scanning: ScanningMode = "passive",
        clock: Callable[[], float] = time.time,
        backend: type[BaseBleakScanner] | None = None,
    ) -> None:
        self.adapter = adapter
        self.wanted: ScanningMode = scanning
        self.mode = "stopped"  # what the radio really does now
        self.errors: Counter[str] = Counter()
        self.clock = clock
        self._backend = backend  # bleak's hook for another backend; tests use it, the field does not
        self._sink: AdvertisementSink | None = None
        self._restart = asyncio.Event()
        self._warn = RateLimitedLog(log)

    def set_scanning(self, mode: ScanningMode) -> None:
        """Change the scanning mode; the scanner restarts in it at once."""
        if mode != self.wanted:
            self.wanted = mode
            self._restart.set()

    def on_detection(self, device: BLEDevice, data: AdvertisementData) -> None:
        """bleak's detection callback: runs on the event loop for every advertisement heard."""
        sink = self._sink
        if sink is None:
            return
        try:
            adv = Advertisement(
                device.address, data.rssi, self.clock(), data.manufacturer_data, data.service_data
            )
        except Exception:  # a backend quirk must cost one advertisement, not the scanner
            self.errors["bad_advertisement"] += 1
            self._warn.warning("convert", "skipped an advertisement bleak could not describe: %r", data)
            return
        sink(adv)

    async def run(self, sink: AdvertisementSink) -> None:
        self._sink = sink
        try:
            while True:
                self._restart.clear()
                scanner = await self._start()
                if scanner is None:
                    await self._wait(RETRY_SECONDS)
                    continue
                try:
                    await self._restart.wait()
                finally:
                    await self._stop(scanner)
        finally:
            self._sink = None
            self.mode = "stopped"

    async def _start(self) -> BleakScanner | None:
        """Start scanning in the wanted mode, passive falling back to active; None if neither starts."""
        modes: list[ScanningMode] = ["passive", "active"] if self.wanted == "passive" else ["active"]
        for mode in modes:
            try:
                scanner = BleakScanner(
                    self.on_detection, backend=self._backend, **scanner_kwargs(mode, self.adapter)
                )
                await scanner.start()
            except Exception as exc:  # BleakError, D-Bus errors, a missing adapter: all mean "not now"
                self.errors[f"{mode}_scan_failed"] += 1
                why = f"{type(exc).__name__}: {exc}"
                if mode == "passive":
                    self._warn.warning("passive", "passive scanning unavailable (%s); scanning actively", why)
                else:
                    self._warn.warning(
                        "start",
                        "cannot start scanning on adapter %s (%s); is bluetoothd running? retrying",
                        self.adapter or "default",
                        why,
                    )
                continue
            self.mode = mode
            log.info("scanning %sly on adapter %s", mode, self.adapter or "default")
            return scanner
        self.mode = "stopped"
        return None

    async def _stop(self, scanner: BleakScanner) -> None:
        try:
            await scanner.stop()
        except Exception as exc:  # stopping a scanner whose adapter vanished can fail; move on
            self.errors["stop_failed"] += 1
            log.warning("could not stop the scanner cleanly: %s", exc)
        self.mode = "stopped"

    async def _wait(self, seconds: float) -> None:
        """Sleep, but wake early when the scanning mode changes."""
        try:
            await asyncio.wait_for(self._restart.wait(), seconds)
        except TimeoutError:
            pass
