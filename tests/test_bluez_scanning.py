"""The gateway on bleak's real BlueZ backend: a private system bus, a stand-in bluetoothd, a real broker.

Frames go in as D-Bus signals (what bluetoothd sends bleak), batches come out on MQTT. What only a
real adapter can prove (airtime, a real controller's stalls, BlueZ's own timing) is listed in the
gateway guide's BlueZ section.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from dbus_fast import Variant

from maitre import wire
from maitre.gateway.agent import GatewayAgent
from maitre.gateway.beacons.band import BAND_COMPANY_ID, encode_band
from maitre.gateway.settings import RunSettings
from maitre.gateway.sources.ble import OR_PATTERNS, BleakSource
from maitre.mqtt import BrokerAddress
from tests.bluez_standin import DBUS_DAEMON, BlueZStandin, PrivateSystemBus, private_system_bus
from tests.conftest import MqttRecorder, missing, wait_until

pytestmark = pytest.mark.e2e  # a dbus-daemon per test

VENUE, GATEWAY = "bistro", "door"
SIGHTINGS = wire.sightings_topic(VENUE, GATEWAY)
TELEMETRY = wire.telemetry_topic(VENUE, GATEWAY)


def band(n: int) -> tuple[str, dict[int, bytes]]:
    """A band's address and manufacturer data."""
    ident = n.to_bytes(8, "big")
    return f"C4:7C:8D:{n >> 16 & 0xFF:02X}:{n >> 8 & 0xFF:02X}:{n & 0xFF:02X}", {
        BAND_COMPANY_ID: encode_band(ident, power=-59)
    }


def band_id(n: int) -> str:
    return wire.band_id(n.to_bytes(8, "big"))


@pytest.fixture(autouse=True)
def forget_bleaks_bus() -> Iterator[None]:
    """Drop bleak's D-Bus connection of the test's closed loop, and collect it now.

    bleak keeps one per event loop and lets go of it only when the next loop asks for one. A
    connection cut under dbus-fast (dbus-daemon stopped) holds a failed write in a reference
    cycle; collected here, its "exception never retrieved" log is this test's, not a later one's,
    and never lands in the middle of an import, where CPython 3.11's AST checker trips on it.
    """
    yield
    from bleak.backends.bluezdbus import manager

    for loop in [loop for loop in manager._global_instances if loop.is_closed()]:
        del manager._global_instances[loop]
    gc.collect()


@pytest.fixture
def system_bus(tmp_path: Path) -> Iterator[PrivateSystemBus]:
    if DBUS_DAEMON is None:
        missing("dbus-daemon is not installed (Debian package dbus)")
    with private_system_bus(tmp_path) as bus:
        yield bus


@pytest.fixture
async def bluez(system_bus: PrivateSystemBus) -> AsyncIterator[BlueZStandin]:
    standin = BlueZStandin(system_bus.address)
    await standin.start()
    yield standin
    standin.stop()


@contextlib.asynccontextmanager
async def gateway(broker: BrokerAddress, source: BleakSource) -> AsyncIterator[GatewayAgent]:
    """The agent running `source`, batching every 0.1 s, telemetry every second."""
    settings = RunSettings(interval=0.1, telemetry_interval=1, scanning=source.wanted)
    agent = GatewayAgent(VENUE, GATEWAY, broker, settings)
    task = asyncio.create_task(agent.run(source))
    try:
        yield agent
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def scanning(source: BleakSource, mode: str, timeout: float = 20) -> None:
    await wait_until(lambda: source.mode == mode, timeout=timeout, what=f"scanning {mode}")


async def paced(n: int) -> None:
    """Let the bus drain every 50 messages: dbus-fast drops a connection whose socket is ever full."""
    if n % 50 == 49:
        await asyncio.sleep(0.001)


async def keep_advertising(bluez: BlueZStandin, bands: range, until: asyncio.Event) -> None:
    """Every band advertises every 50 ms, like a crowd in range, until told to stop."""
    while not until.is_set():
        for n in bands:
            address, data = band(n)
            bluez.advertise(address, -55 - n % 20, data)
        await asyncio.sleep(0.05)


def heard(recorder: MqttRecorder) -> set[str]:
    return {s.id for p in recorder.payloads(SIGHTINGS) for s in wire.decode_batch(p).sightings}


async def test_active_scanning_turns_d_bus_advertisements_into_batches_on_mqtt(
    broker: BrokerAddress, bluez: BlueZStandin
) -> None:
    recorder = MqttRecorder(broker, SIGHTINGS, TELEMETRY)
    await wait_until(lambda: recorder.subscribed, what="the recorder")
    source = BleakSource(scanning="active", watchdog=30, retry=0.2)
    done = asyncio.Event()
    try:
        async with gateway(broker, source):
            await scanning(source, "active")
            (asked,) = bluez.filters.values()
            assert asked == {"Transport": "le", "DuplicateData": False}  # every advertisement, LE only
            crowd = asyncio.create_task(keep_advertising(bluez, range(1, 4), done))
            await wait_until(lambda: heard(recorder) >= {band_id(n) for n in (1, 2, 3)}, what="three bands")
            await wait_until(
                lambda: any(
                    wire.decode_telemetry(p).scanning == "active" for p in recorder.payloads(TELEMETRY)
                ),
                what="telemetry saying the radio scans actively",
            )
            done.set()
            await crowd
    finally:
        recorder.close()
    assert bluez.calls[:3] == ["GetManagedObjects", "SetDiscoveryFilter", "StartDiscovery"]
    batches = [wire.decode_batch(p) for p in recorder.payloads(SIGHTINGS)]
    assert [b.seq for b in batches] == list(range(len(batches)))
    assert all(-75 <= s.rssi <= -55 for b in batches for s in b.sightings)
    assert "StopDiscovery" in bluez.calls  # the agent's stop ends the discovery it started


async def test_passive_scanning_registers_the_or_patterns_and_hears_only_what_they_match(
    broker: BrokerAddress, bluez: BlueZStandin
) -> None:
    source = BleakSource(scanning="passive", watchdog=30, retry=0.2)
    async with gateway(broker, source) as agent:
        await scanning(source, "passive")
        await wait_until(lambda: bluez.active_monitors, what="the monitor's patterns read by BlueZ")
        (monitor,) = bluez.active_monitors
        address, data = band(7)
        for _ in range(5):
            assert bluez.advertise(address, -60, data)
            # A frame no pattern names never leaves bluetoothd in passive mode.
            assert not bluez.advertise("11:22:33:44:55:66", -60, {0x0006: b"\x01\x09\x20\x02"})
            await asyncio.sleep(0.02)
        await wait_until(lambda: agent.stats.advertisements >= 5, what="five band advertisements")
    assert monitor.patterns == [(p.start_position, p.ad_data_type, p.content_of_pattern) for p in OR_PATTERNS]
    assert bluez.sessions == set()  # no discovery session: passive only
    assert agent.stats.unknown == 0
    assert "UnregisterMonitor" in bluez.calls


async def test_passive_falls_back_to_active_with_a_log_line_when_bluez_has_no_monitor_manager(
    broker: BrokerAddress, system_bus: PrivateSystemBus, caplog: pytest.LogCaptureFixture
) -> None:
    bluez = BlueZStandin(system_bus.address, monitor_manager=False)  # BlueZ without --experimental
    await bluez.start()
    source = BleakSource(scanning="passive", watchdog=30, retry=0.2)
    with caplog.at_level(logging.WARNING, logger="maitre.gateway"):
        async with gateway(broker, source) as agent:
            await scanning(source, "active")
            address, data = band(3)
            assert bluez.advertise(address, -60, data)
            await wait_until(lambda: agent.stats.advertisements == 1, what="the band, heard actively")
            report = agent.telemetry()
    bluez.stop()
    assert report.scanning == "active"
    assert report.errors["passive_scan_failed"] == 1
    (line,) = [r.getMessage() for r in caplog.records if "passive scanning unavailable" in r.getMessage()]
    assert "BlueZ >= 5.56 with --experimental" in line and "scanning actively" in line


async def test_the_adapter_missing_powered_off_and_back_is_followed_without_a_restart(
    broker: BrokerAddress, system_bus: PrivateSystemBus
) -> None:
    bluez = BlueZStandin(system_bus.address)
    await bluez.start()
    bluez.remove_adapter()  # the gateway boots before the dongle is plugged in
    # The retry is long: only the watch on the bus can bring scanning back this fast.
    source = BleakSource(scanning="active", watchdog=30, retry=30)
    address, data = band(5)
    async with gateway(broker, source) as agent:
        await wait_until(lambda: source.errors["active_scan_failed"] >= 1, what="a failed start")
        assert source.mode == "stopped"

        bluez.add_adapter()
        await scanning(source, "active")
        assert bluez.advertise(address, -60, data)
        await wait_until(lambda: agent.stats.advertisements == 1, what="the band after plug-in")

        bluez.set_powered(False)
        await wait_until(lambda: source.mode == "stopped", what="scanning to stop with the power")
        assert not bluez.advertise(address, -60, data)

        bluez.set_powered(True)
        await scanning(source, "active")
        await wait_until(lambda: bluez.sessions, what="a new discovery session")
        assert bluez.advertise(address, -60, data)
        await wait_until(lambda: agent.stats.advertisements == 2, what="the band after power on")
    bluez.stop()


async def test_bluetoothd_restarting_is_followed_and_scanning_resumes(
    broker: BrokerAddress, bluez: BlueZStandin
) -> None:
    source = BleakSource(scanning="passive", watchdog=30, retry=30)
    address, data = band(9)
    async with gateway(broker, source) as agent:
        await wait_until(lambda: bluez.active_monitors, what="the first monitor")
        assert bluez.advertise(address, -60, data)
        await wait_until(lambda: agent.stats.advertisements == 1, what="a band before the restart")

        await bluez.restart()  # systemctl restart bluetooth: every monitor and session is gone
        assert not bluez.monitors
        await wait_until(lambda: bluez.active_monitors, what="the monitor registered again")
        assert bluez.advertise(address, -61, data)
        await wait_until(lambda: agent.stats.advertisements == 2, what="the band after the restart")
        assert source.mode == "passive"


async def test_the_system_bus_restarting_is_followed_and_scanning_resumes(
    broker: BrokerAddress, system_bus: PrivateSystemBus, bluez: BlueZStandin
) -> None:
    source = BleakSource(scanning="active", watchdog=30, retry=0.2)
    address, data = band(4)
    async with gateway(broker, source) as agent:
        await scanning(source, "active")
        assert bluez.advertise(address, -60, data)
        await wait_until(lambda: agent.stats.advertisements == 1, what="a band before the restart")

        system_bus.restart()  # dbus-daemon restarts: bleak's connection and bluetoothd's are cut
        await bluez.restart()
        await wait_until(lambda: bluez.sessions, what="discovery started on the new bus")
        assert bluez.advertise(address, -61, data)
        await wait_until(lambda: agent.stats.advertisements == 2, what="the band after the restart")
    assert source.errors["watchdog_restarts"] == 0  # the watch brought it back, not the watchdog


async def test_a_stalled_scan_is_restarted_by_the_watchdog_and_counted_in_telemetry(
    broker: BrokerAddress, bluez: BlueZStandin
) -> None:
    recorder = MqttRecorder(broker, TELEMETRY)
    await wait_until(lambda: recorder.subscribed, what="the recorder")
    source = BleakSource(scanning="active", watchdog=0.6, retry=0.2)
    done = asyncio.Event()
    try:
        async with gateway(broker, source) as agent:
            await scanning(source, "active")
            crowd = asyncio.create_task(keep_advertising(bluez, range(1, 3), done))
            await wait_until(lambda: agent.stats.advertisements > 0, what="a first band")
            bluez.stalled = True  # discovery still "on", the controller silent
            await wait_until(lambda: source.errors["watchdog_restarts"] >= 1, what="the watchdog", timeout=5)
            before = agent.stats.advertisements
            await wait_until(lambda: agent.stats.advertisements > before, what="bands after the restart")

            def counted() -> bool:
                reports = [wire.decode_telemetry(p) for p in recorder.payloads(TELEMETRY)]
                return any(r.errors.get("watchdog_restarts", 0) >= 1 for r in reports)

            await wait_until(counted, what="the restart in telemetry", timeout=5)
            done.set()
            await crowd
    finally:
        recorder.close()
    # Each restart is a fresh discovery (a starved test machine may add a second one).
    assert bluez.calls.count("StartDiscovery") == 1 + source.errors["watchdog_restarts"]


async def test_malformed_property_values_are_counted_and_skipped_and_good_ones_still_flow(
    broker: BrokerAddress, bluez: BlueZStandin
) -> None:
    source = BleakSource(scanning="active", watchdog=30, retry=0.2)
    good_address, good = band(1)
    manufacturer = Variant("a{qv}", {k: Variant("ay", v) for k, v in good.items()})
    async with gateway(broker, source) as agent:
        await scanning(source, "active")
        bad: list[tuple[str, dict[str, Variant]]] = [
            ("RSSI", {"RSSI": Variant("s", "-60"), "ManufacturerData": manufacturer}),
            ("RSSI", {"RSSI": Variant("n", 400), "ManufacturerData": manufacturer}),
            ("data", {"RSSI": Variant("n", -60), "ManufacturerData": Variant("s", "ffff4d01")}),
            (
                "data",
                {
                    "RSSI": Variant("n", -60),
                    "ManufacturerData": Variant("a{qv}", {0xFFFF: Variant("s", "x")}),
                },
            ),
            ("data", {"RSSI": Variant("n", -60), "ServiceData": Variant("a{sv}", {"feaa": Variant("u", 7)})}),
        ]
        for n, (_, props) in enumerate(bad, start=10):
            assert bluez.advertise(band(n)[0], raw=props)
        # Truncated band data: BlueZ's types, but not a frame we can read.
        assert bluez.advertise(band(20)[0], -60, {BAND_COMPANY_ID: good[BAND_COMPANY_ID][:5]})
        # A device object without its Adapter (bleak's own handler raises) ...
        bluez.announce(
            "DE:AD:00:00:00:01", {"Address": Variant("s", "DE:AD:00:00:00:01"), "RSSI": Variant("n", -60)}
        )
        # ... and one that vanishes while its update is on the way.
        assert bluez.advertise(band(21)[0], -60, band(21)[1])
        bluez.remove_device(band(21)[0])
        bluez.change(band(21)[0], {"RSSI": Variant("n", -62)})
        assert bluez.advertise(good_address, -60, good)
        await wait_until(lambda: agent.stats.sightings or len(agent.window), what="the good band")
        await wait_until(lambda: source.errors["bluez_signal_failed"] == 1, what="bleak's failure counted")
        report = agent.telemetry()
    assert source.mode == "stopped"  # stopped cleanly, not crashed
    assert report.errors["bluez_bad_rssi"] == 1
    assert report.errors["bluez_rssi_out_of_range"] == 1
    assert report.errors["bluez_bad_manufacturer_data"] == 2
    assert report.errors["bluez_bad_service_data"] == 1
    assert report.errors["bluez_signal_failed"] == 1
    assert report.dropped["unknown_frame"] == 1  # the truncated frame
    assert agent.stats.advertisements == 3  # the truncated one, band 21 once, the good band


async def test_a_flood_of_thousands_of_devices_is_heard_whole_in_bounded_memory(
    broker: BrokerAddress, bluez: BlueZStandin
) -> None:
    per_round, rounds = 2000, 3
    source = BleakSource(scanning="active", watchdog=30, retry=0.2)
    held: list[int] = []  # traced bytes with a round's devices known
    used: list[int] = []  # and after BlueZ forgot them
    tracemalloc.start()
    try:
        async with gateway(broker, source) as agent:
            await scanning(source, "active")
            for r in range(rounds):
                # A crowd of phones and bands with fresh random addresses, each one a new Device1 ...
                for n in range(r * per_round, (r + 1) * per_round):
                    address, data = band(n)
                    assert bluez.advertise(address, -70, data)
                    await paced(n)
                total = (r + 1) * per_round
                await wait_until(
                    lambda total=total: agent.stats.advertisements == total,
                    timeout=60,
                    what=f"{total} devices",
                )
                held.append(tracemalloc.get_traced_memory()[0])
                # ... which BlueZ forgets after its temporary timeout.
                for n in range(r * per_round, (r + 1) * per_round):
                    bluez.remove_device(band(n)[0])
                    await paced(n)
                await wait_until(lambda: len(agent.window) == 0, what="the window drained")
                await wait_until(
                    lambda peak=held[-1]: tracemalloc.get_traced_memory()[0] < peak / 4,
                    timeout=30,
                    what="the forgotten devices' memory given back",
                )
                used.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert bluez.device_count() == 0
    assert agent.stats.sightings == per_round * rounds
    # 2000 devices known cost megabytes (bleak mirrors BlueZ's objects); forgotten, they are given
    # back (waited for above), and round after round neither the peak nor the rest grows.
    assert held[-1] - held[0] < 1_000_000, held
    assert used[-1] - used[0] < 1_000_000, used
