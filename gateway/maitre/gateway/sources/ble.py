"""An advertisement source on a real radio, through bleak: passive on BlueZ where it can, else active."""

from __future__ import annotations

import asyncio
import contextlib
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
from maitre.gateway.settings import DEFAULT_WATCHDOG_SECONDS
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
# A radio that fails to start (adapter unplugged, bluetoothd restarting) is tried again this often;
# on BlueZ the watch on bluetoothd and the adapter usually wakes the retry sooner.
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
        *,
        watchdog: float = DEFAULT_WATCHDOG_SECONDS,
        retry: float = RETRY_SECONDS,
        platform: str = sys.platform,
    ) -> None:
        if watchdog <= 0 or retry <= 0:
            raise ValueError("the watchdog and the retry need a positive number of seconds")
        self.adapter = adapter
        self.wanted: ScanningMode = scanning
        self.mode = "stopped"  # what the radio really does now
        self.errors: Counter[str] = Counter()
        self.clock = clock
        self.watchdog = watchdog
        self.retry = retry
        self.heard = 0  # advertisements bleak handed over, any frame: the watchdog's pulse
        self._bluez = backend is None and platform == "linux"
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
        self.heard += 1
        try:
            adv = Advertisement(
                device.address, data.rssi, self.clock(), data.manufacturer_data, data.service_data
            )
        except Exception:  # a backend quirk must cost one advertisement, not the scanner
            self.errors["bad_advertisement"] += 1
            self._warn.warning("convert", "skipped an advertisement bleak could not describe: %r", data)
            return
        sink(adv)

    def on_bluez_change(self, reason: str) -> None:
        """bluetoothd or the adapter changed under the scanner: start again (or retry now)."""
        log.info("%s; restarting the scan", reason)
        self._restart.set()

    def on_bad_value(self, kind: str, where: str) -> None:
        """BlueZ sent a value bleak cannot use: count it, skip it."""
        self.errors[kind] += 1
        self._warn.warning(kind, "skipped a BlueZ device update (%s): %s", kind, where)

    async def run(self, sink: AdvertisementSink) -> None:
        self._sink = sink
        helpers: list[asyncio.Task[None]] = []
        hush: logging.Filter | None = None
        dbus_log = logging.getLogger("dbus_fast.message_bus")
        if self._bluez:
            from maitre.gateway.sources.bluez_values import HandlerErrors
            from maitre.gateway.sources.bluez_watch import BlueZWatch

            watch = BlueZWatch(self.on_bluez_change, self.adapter, self.retry)
            helpers.append(asyncio.create_task(watch.run()))
            hush = HandlerErrors(self.on_bad_value)
            dbus_log.addFilter(hush)
        try:
            while True:
                self._restart.clear()
                scanner = await self._start()
                if scanner is None:
                    await self._wait(self.retry)
                    continue
                try:
                    await self._scan()
                finally:
                    await self._stop(scanner)
        finally:
            self._sink = None
            self.mode = "stopped"
            for task in helpers:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if hush is not None:
                dbus_log.removeFilter(hush)

    async def _scan(self) -> None:
        """Wait while the scan runs; return when it should restart: asked to, or stalled (the watchdog)."""
        heard, quiet_since = self.heard, time.monotonic()
        check = min(self.watchdog / 4, 10.0)
        while not self._restart.is_set():
            await self._wait(check)
            if self.heard != heard:
                heard, quiet_since = self.heard, time.monotonic()
            elif time.monotonic() - quiet_since >= self.watchdog:
                self.errors["watchdog_restarts"] += 1
                self._warn.warning(
                    "watchdog",
                    "no advertisement for %.0f s on adapter %s; restarting the scan",
                    self.watchdog,
                    self.adapter or "default",
                )
                return

    async def _start(self) -> BleakScanner | None:
        """Start scanning in the wanted mode, passive falling back to active; None if neither starts."""
        modes: list[ScanningMode] = ["passive", "active"] if self.wanted == "passive" else ["active"]
        for mode in modes:
            try:
                scanner = BleakScanner(self.on_detection, **self._scanner_args(mode))
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

    def _scanner_args(self, mode: ScanningMode) -> dict[str, Any]:
        args = scanner_kwargs(mode, self.adapter)
        if self._bluez:
            from maitre.gateway.sources.bluez_values import CheckedBlueZScanner

            args.update(backend=CheckedBlueZScanner, on_bad_value=self.on_bad_value)
        else:
            args["backend"] = self._backend
        return args

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
