"""The gateway agent: advertisements in, numbered sighting batches out through the spool to MQTT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable

from maitre import wire
from maitre.gateway.advertisement import Advertisement
from maitre.gateway.beacons.cache import FrameCache
from maitre.gateway.lograte import RateLimitedLog
from maitre.gateway.settings import ConfigRefused, RunSettings
from maitre.gateway.sources import AdvertisementSource, ScanningSource
from maitre.gateway.spool import Spool
from maitre.gateway.uplink import Uplink
from maitre.gateway.window import Window
from maitre.mqtt import BrokerAddress

log = logging.getLogger("maitre.gateway")

VERSION = "0.1.0"
# Wall clock and monotonic clock may disagree by scheduling jitter between two ticks; more than
# this means the wall clock was stepped (NTP after boot, an operator, a dead RTC battery).
CLOCK_JUMP_SECONDS = 2.0


class GatewayStats:
    """Counters since boot; the agent's telemetry reports them."""

    __slots__ = (
        "advertisements",
        "batches",
        "clock_jumps",
        "config_refused",
        "filtered",
        "malformed",
        "sightings",
        "spool_failed",
        "unknown",
    )

    def __init__(self) -> None:
        self.advertisements = 0
        self.unknown = 0  # no beacon frame we know
        self.filtered = 0  # a beacon the venue's allow-lists exclude
        self.malformed = 0  # the source handed over something that is not an advertisement
        self.batches = 0
        self.sightings = 0
        self.clock_jumps = 0
        self.config_refused = 0
        self.spool_failed = 0  # batches lost because the spool could not be written (disk full)


class GatewayAgent:
    """Decodes and aggregates advertisements; every interval, spools a batch and pumps the spool."""

    def __init__(
        self,
        venue: str,
        gateway: str,
        broker: BrokerAddress,
        settings: RunSettings | None = None,
        *,
        spool: Spool | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not wire.is_valid_name(venue) or not wire.is_valid_name(gateway):
            raise ValueError("venue and gateway names must be 1-64 of A-Z a-z 0-9 _ -")
        self.venue = venue
        self.gateway = gateway
        self.clock = clock
        self.local = settings or RunSettings()  # the command line's settings
        self.settings = self.local  # what is in force: local, or a remote config on top
        self.boot = secrets.token_hex(6)
        self.seq = 0
        self.stats = GatewayStats()
        self.window = Window()
        self.spool = spool if spool is not None else Spool()
        self.uplink = Uplink(venue, gateway, broker, self.spool, self._online_status, self._on_config)
        self.source: AdvertisementSource | None = None
        self._frames = FrameCache()
        self._filters = self.local.filters()
        self._sightings_topic = wire.sightings_topic(venue, gateway)
        self._telemetry_topic = wire.telemetry_topic(venue, gateway)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._warn = RateLimitedLog(log)
        self._started = time.monotonic()
        self._last_tick: tuple[float, float] | None = None  # (wall, monotonic)
        self._telemetry_due = 0.0
        self._period_start = (time.monotonic(), 0)  # (monotonic, advertisements so far)
        self._period_advertisers: set[str] = set()
        # Progress hooks for the command line; the service never needs them.
        self.on_batch: Callable[[wire.SightingBatch], None] | None = None
        self.on_telemetry: Callable[[wire.GatewayTelemetry], None] | None = None

    @property
    def interval(self) -> float:
        return self.settings.interval

    # -- source side: the hot path, once per advertisement -----------------------------------------

    def on_advertisement(self, adv: Advertisement) -> None:
        """The source's callback: decode, drop unknown frames early, aggregate the rest."""
        stats = self.stats
        stats.advertisements += 1
        try:
            frame = self._frames.identify(adv)
            if frame is None:
                stats.unknown += 1
                return
            ident = frame[1]
            filters = self._filters
            if filters is not None and not filters.accept(ident):
                stats.filtered += 1
                return
            self.window.add(ident, adv.rssi, adv.t, frame[2])
        except Exception as exc:  # a malformed advertisement must never stop the radio's callback
            stats.malformed += 1
            self._warn.warning("malformed", "skipped a malformed advertisement from %s: %r", adv.address, exc)

    # -- timer side: once per interval ------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background (paho retries until the broker answers)."""
        with contextlib.suppress(RuntimeError):
            self._loop = asyncio.get_running_loop()
        self._started = time.monotonic()
        self.uplink.start()

    def tick(self) -> wire.SightingBatch | None:
        """One interval's work: notice clock steps, spool the window, pump the spool, report."""
        self._check_clock()
        batch = self.flush()
        try:
            self.uplink.pump()
        except sqlite3.Error as exc:  # the spool's file went bad: keep hearing, say so, try again
            self._warn.warning("spool", "cannot read the spool %s: %s", self.spool.path, exc)
        if time.monotonic() >= self._telemetry_due:
            self.publish_telemetry()
        return batch

    def flush(self) -> wire.SightingBatch | None:
        """Spool what the window holds as the next numbered batch; None if it is empty."""
        if not len(self.window):
            return None
        now = self.clock()
        sightings = self.window.drain(now)
        batch = wire.SightingBatch(
            v=1,
            venue=self.venue,
            gateway=self.gateway,
            boot=self.boot,
            seq=self.seq,
            sent=now,
            window=self.interval,
            sightings=sightings,
        )
        try:
            payload = wire.encode_packed(batch) if self.settings.encoding == "packed" else wire.encode(batch)
            self.spool.put(self._sightings_topic, self.boot, self.seq, payload)
        except sqlite3.Error as exc:  # disk full, card failing: lose this batch, not the gateway
            self.stats.spool_failed += 1
            self._warn.warning("spool", "cannot write the spool %s: %s; batch dropped", self.spool.path, exc)
        self.seq += 1
        self.stats.batches += 1
        self.stats.sightings += len(sightings)
        self._period_advertisers.update(s.id for s in sightings)
        if self.on_batch is not None:
            self.on_batch(batch)
        return batch

    def stop(self) -> None:
        """Spool the last window, give the broker a moment for what is in flight, say offline."""
        self.flush()
        self.uplink.stop(wire.encode(self._status("offline")))
        if len(self.spool):
            log.info("%d batches wait in the spool %s for the broker", len(self.spool), self.spool.path)
        self.spool.close()

    async def run(self, source: AdvertisementSource) -> None:
        """Run the source and the batch timer until cancelled."""
        self.source = source
        self._apply_scanning()
        self.start()
        task = asyncio.create_task(source.run(self.on_advertisement))
        try:
            while not task.done():
                await asyncio.sleep(self.interval)
                self.tick()
            task.result()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.stop()

    # -- telemetry ----------------------------------------------------------------------------------

    def telemetry(self) -> wire.GatewayTelemetry:
        """How the gateway is doing, over the period since the last call."""
        mono = time.monotonic()
        since, adv_before = self._period_start
        period = max(mono - since, 1e-9)
        stats = self.stats
        report = wire.GatewayTelemetry(
            v=1,
            boot=self.boot,
            version=VERSION,
            t=self.clock(),
            uptime=round(mono - self._started, 3),
            period=round(period, 3),
            adv_rate=round((stats.advertisements - adv_before) / period, 1),
            advertisers=len(self._period_advertisers),
            queue=self.uplink.queue_depth,
            batches=stats.batches,
            dropped=self._dropped(),
            errors=self._errors(),
            scanning=str(getattr(self.source, "mode", "none")),
            interval=self.interval,
            config_revision=self.settings.revision,
        )
        self._period_start = (mono, stats.advertisements)
        self._period_advertisers = set()
        return report

    def publish_telemetry(self) -> None:
        self._telemetry_due = time.monotonic() + self.settings.telemetry_interval
        report = self.telemetry()
        self.uplink.publish_now(self._telemetry_topic, wire.encode(report))
        if self.on_telemetry is not None:
            self.on_telemetry(report)

    def _dropped(self) -> dict[str, int]:
        stats, window = self.stats, self.window
        counts = {
            "unknown_frame": stats.unknown,
            "filtered": stats.filtered,
            "malformed": stats.malformed,
            "bad_rssi": window.rejected_rssi,
            "bad_time": window.rejected_time,
            "spool_full": self.spool.dropped,
            "spool_failed": stats.spool_failed,
        }
        return {k: v for k, v in counts.items() if v}

    def _errors(self) -> dict[str, int]:
        counts = {
            "clock_jump": self.stats.clock_jumps,
            "config_refused": self.stats.config_refused,
            "connect_refused": self.uplink.refusals,
            "publish_failed": self.uplink.publish_errors,
        }
        counts.update(getattr(self.source, "errors", {}))
        return {k: v for k, v in counts.items() if v}

    # -- remote config ------------------------------------------------------------------------------

    def apply_config(self, payload: bytes) -> wire.GatewayConfigResult:
        """Apply a remote config on top of the local settings, or refuse it and keep the last good one."""
        try:
            settings = self.local.overlay(payload)
        except ConfigRefused as exc:
            self.stats.config_refused += 1
            log.warning("refused remote config (revision %s): %s", exc.revision, exc)
            result = self._config_result(ok=False, revision=exc.revision, error=str(exc))
        else:
            self.settings = settings
            self._filters = settings.filters()
            self._apply_scanning()
            log.info("applied remote config revision %s: %s", settings.revision, settings)
            result = self._config_result(ok=True, revision=settings.revision)
        self.uplink.report_config(wire.encode(result))
        return result

    def _config_result(self, ok: bool, revision: int | None, error: str = "") -> wire.GatewayConfigResult:
        return wire.GatewayConfigResult(
            v=1, ok=ok, revision=revision, t=self.clock(), in_force=self.settings.as_config(), error=error
        )

    def _on_config(self, payload: bytes) -> None:
        """From paho's thread: apply on the agent's own loop, where the hot path reads the settings."""
        if self._loop is None:
            self.apply_config(payload)
            return
        with contextlib.suppress(RuntimeError):  # the loop is closing: we are shutting down
            self._loop.call_soon_threadsafe(self.apply_config, payload)

    def _apply_scanning(self) -> None:
        if isinstance(self.source, ScanningSource):
            self.source.set_scanning(self.settings.scanning)

    # -- clock ----------------------------------------------------------------------------------------

    def _check_clock(self) -> None:
        wall, mono = self.clock(), time.monotonic()
        if self._last_tick is not None:
            last_wall, last_mono = self._last_tick
            step = (wall - last_wall) - (mono - last_mono)
            if abs(step) > CLOCK_JUMP_SECONDS:
                self.stats.clock_jumps += 1
                self._warn.warning(
                    "clock", "gateway clock stepped by %+.1f s; sightings are stamped in the new time", step
                )
        self._last_tick = (wall, mono)

    def _status(self, state: str) -> wire.GatewayStatus:
        return wire.GatewayStatus(v=1, state=state, boot=self.boot, version=VERSION, t=self.clock())  # type: ignore[arg-type]

    def _online_status(self) -> bytes:
        return wire.encode(self._status("online"))
