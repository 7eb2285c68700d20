"""The bleak adapter: real BLEDevice / AdvertisementData objects in, the same agent path as the simulator.

There is no BlueZ on a test machine, so the radio is replaced through bleak's own `backend=` hook: a
BaseBleakScanner subclass that starts (or fails to) and delivers advertisements the way a platform
backend does, through `call_detection_callbacks`.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from bleak.args.bluez import OrPattern
from bleak.assigned_numbers import AdvertisementDataType
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakError

from maitre.gateway.agent import GatewayAgent
from maitre.gateway.beacons.altbeacon import encode_altbeacon
from maitre.gateway.beacons.band import BAND_COMPANY_ID, encode_band
from maitre.gateway.beacons.eddystone import EDDYSTONE_SERVICE_UUID, encode_eddystone_uid
from maitre.gateway.beacons.ibeacon import APPLE_COMPANY_ID, encode_ibeacon
from maitre.gateway.sources.ble import OR_PATTERNS, BleakSource, scanner_kwargs
from maitre.mqtt import BrokerAddress
from tests.conftest import wait_until

NOWHERE = BrokerAddress("127.0.0.1", 9)
T0 = 1_795_412_345.0
UUID = "f7826da6-4fa2-4e98-8024-bc5b71e0893e"
BAND = bytes.fromhex("38b4e652e44da7f2")


def advertisement(
    rssi: int = -61, manufacturer: dict[int, bytes] | None = None, service: dict[str, bytes] | None = None
) -> tuple[BLEDevice, AdvertisementData]:
    """What bleak hands a detection callback, built the way its BlueZ backend builds it."""
    device = BLEDevice("C4:7C:8D:6A:3E:01", None, details={"path": "/org/bluez/hci0/dev_C4_7C_8D_6A_3E_01"})
    data = AdvertisementData(
        local_name=None,
        manufacturer_data=manufacturer or {},
        service_data=service or {},
        service_uuids=list(service or {}),
        tx_power=None,
        rssi=rssi,
        platform_data=(),
    )
    return device, data


class FakeRadio(BaseBleakScanner):
    """A bleak backend without hardware: records how it was started, can refuse passive scanning."""

    started: ClassVar[list[FakeRadio]] = []
    passive_works: ClassVar[bool] = True
    any_works: ClassVar[bool] = True

    def __init__(
        self, detection_callback: Any, service_uuids: Any, scanning_mode: str, *, bluez: Any, **kwargs: Any
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self.mode = scanning_mode
        self.bluez = bluez
        self.running = False

    async def start(self) -> None:
        if not self.any_works:
            raise BleakError("No Bluetooth adapters found.")
        if self.mode == "passive" and not self.passive_works:
            raise BleakError("passive scanning on Linux requires BlueZ >= 5.56 with --experimental enabled")
        self.running = True
        FakeRadio.started.append(self)

    async def stop(self) -> None:
        self.running = False

    def hear(self, device: BLEDevice, data: AdvertisementData) -> None:
        self.call_detection_callbacks(device, data)


def fresh_radio(passive_works: bool = True, any_works: bool = True) -> type[FakeRadio]:
    FakeRadio.started = []
    FakeRadio.passive_works = passive_works
    FakeRadio.any_works = any_works
    return FakeRadio


def test_bleak_advertisements_become_sightings_through_the_agent() -> None:
    agent = GatewayAgent("bistro", "door", NOWHERE, clock=lambda: T0)
    source = BleakSource(clock=lambda: T0)
    source._sink = agent.on_advertisement  # what run() does before the scanner starts
    ns, inst = bytes.fromhex("edd1ebeac04e5defa017"), bytes.fromhex("0badc0ffee01")
    source.on_detection(*advertisement(-61, {APPLE_COMPANY_ID: encode_ibeacon(UUID, 100, 7, -59)}))
    source.on_detection(*advertisement(-71, {APPLE_COMPANY_ID: encode_ibeacon(UUID, 100, 7, -59)}))
    source.on_detection(*advertisement(-50, {BAND_COMPANY_ID: encode_band(BAND, -59)}))
    source.on_detection(
        *advertisement(-80, service={EDDYSTONE_SERVICE_UUID: encode_eddystone_uid(ns, inst, -20)})
    )
    source.on_detection(*advertisement(-80, {0x0006: bytes.fromhex("010920021a")}))  # Microsoft CDP: unknown
    batch = agent.flush()
    assert batch is not None
    by_id = {s.id: s for s in batch.sightings}
    beacon = by_id[f"ibeacon:{UUID}:100:7"]
    assert (beacon.n, beacon.rssi, beacon.rssi_max, beacon.tx, beacon.t) == (2, -66.0, -61, -59, T0)
    assert by_id[f"band:{BAND.hex()}"].rssi == -50
    assert by_id[f"eddystone:{ns.hex()}:{inst.hex()}"].tx == -20
    assert agent.stats.unknown == 1


def test_passive_scanning_on_linux_asks_bluez_for_exactly_the_frames_we_decode() -> None:
    kwargs = scanner_kwargs("passive", "hci1", platform="linux")
    assert kwargs["scanning_mode"] == "passive"
    assert kwargs["bluez"]["adapter"] == "hci1"
    patterns: list[OrPattern] = kwargs["bluez"]["or_patterns"]
    # Each frame, as the AD structure BlueZ matches against: type, then data (company id first).
    frames = {
        "ibeacon": (
            AdvertisementDataType.MANUFACTURER_SPECIFIC_DATA,
            b"\x4c\x00" + encode_ibeacon(UUID, 1, 2, -59),
        ),
        "band": (AdvertisementDataType.MANUFACTURER_SPECIFIC_DATA, b"\xff\xff" + encode_band(BAND, -59)),
        "altbeacon": (
            AdvertisementDataType.MANUFACTURER_SPECIFIC_DATA,
            b"\x18\x01" + encode_altbeacon(bytes(16), 1, 2, -59),
        ),
        "eddystone": (
            AdvertisementDataType.SERVICE_DATA_UUID16,
            b"\xaa\xfe" + encode_eddystone_uid(bytes(10), bytes(6), -59),
        ),
    }

    def matches(kind: AdvertisementDataType, data: bytes) -> bool:
        return any(
            p.ad_data_type == kind and data[p.start_position :].startswith(p.content_of_pattern)
            for p in patterns
        )

    assert {name for name, frame in frames.items() if matches(*frame)} == set(frames)
    assert not matches(
        AdvertisementDataType.MANUFACTURER_SPECIFIC_DATA, b"\x4c\x00\x10\x05\x03\x1c"
    )  # Continuity
    assert len(patterns) == len(OR_PATTERNS)


def test_active_scanning_and_other_platforms_need_no_or_patterns() -> None:
    assert scanner_kwargs("active", None, platform="linux") == {"scanning_mode": "active", "bluez": {}}
    assert "or_patterns" not in scanner_kwargs("passive", None, platform="win32")["bluez"]


async def test_advertisements_flow_from_a_running_scanner_to_the_sink() -> None:
    radio = fresh_radio()
    heard: list[object] = []
    source = BleakSource(adapter="hci0", backend=radio)
    task = asyncio.create_task(source.run(heard.append))
    try:
        await wait_until(lambda: radio.started, what="the scanner to start")
        (scanner,) = radio.started
        assert (scanner.mode, scanner.bluez["adapter"], source.mode) == ("passive", "hci0", "passive")
        scanner.hear(*advertisement(-61, {APPLE_COMPANY_ID: encode_ibeacon(UUID, 1, 2, -59)}))
        assert len(heard) == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert not scanner.running and source.mode == "stopped"


async def test_passive_scanning_falls_back_to_active_where_bluez_cannot() -> None:
    radio = fresh_radio(passive_works=False)
    source = BleakSource(backend=radio)
    task = asyncio.create_task(source.run(lambda adv: None))
    try:
        await wait_until(lambda: source.mode == "active", what="the active fallback")
        assert [s.mode for s in radio.started] == ["active"]
        assert source.errors["passive_scan_failed"] == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_scanning_mode_change_restarts_the_scanner_in_the_new_mode() -> None:
    radio = fresh_radio()
    source = BleakSource(backend=radio)
    task = asyncio.create_task(source.run(lambda adv: None))
    try:
        await wait_until(lambda: source.mode == "passive", what="passive scanning")
        source.set_scanning("active")
        await wait_until(lambda: source.mode == "active", what="active scanning")
        first, second = radio.started
        assert (first.mode, first.running, second.mode, second.running) == ("passive", False, "active", True)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_radio_that_will_not_start_is_counted_and_retried_never_abandoned() -> None:
    radio = fresh_radio(any_works=False)
    source = BleakSource(backend=radio)
    task = asyncio.create_task(source.run(lambda adv: None))
    try:
        await wait_until(lambda: source.errors["active_scan_failed"] >= 1, what="the failure")
        assert not task.done()  # waiting to retry, not stopped
        assert source.mode == "stopped"
        radio.any_works = True
        source.set_scanning("active")  # a config change wakes it early
        await wait_until(lambda: source.mode == "active", what="the retry")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_an_advertisement_bleak_cannot_describe_is_counted_not_raised() -> None:
    source = BleakSource()
    heard: list[object] = []
    source._sink = heard.append
    device, _ = advertisement()
    source.on_detection(device, object())  # type: ignore[arg-type]
    assert source.errors["bad_advertisement"] == 1 and heard == []
