"""The agent's hot path and batching: bad input is counted and skipped, never a crash or a bad batch."""

from __future__ import annotations

import math

import pytest

from maitre import wire
from maitre.gateway.ad import parse_advertising_data
from maitre.gateway.advertisement import Advertisement
from maitre.gateway.agent import GatewayAgent
from maitre.gateway.beacons import identify
from maitre.gateway.beacons.altbeacon import encode_altbeacon
from maitre.gateway.beacons.band import BAND_COMPANY_ID, encode_band
from maitre.gateway.beacons.cache import FrameCache
from maitre.gateway.beacons.eddystone import (
    EDDYSTONE_SERVICE_UUID,
    encode_eddystone_eid,
    encode_eddystone_tlm,
    encode_eddystone_uid,
)
from maitre.gateway.beacons.eddystone import Telemetry as Tlm
from maitre.gateway.beacons.ibeacon import APPLE_COMPANY_ID, encode_ibeacon
from maitre.gateway.settings import RunSettings
from maitre.mqtt import BrokerAddress

NOWHERE = BrokerAddress("127.0.0.1", 9)  # never connected: these tests stop before the network
T0 = 1_795_412_345.0
BAND = bytes.fromhex("38b4e652e44da7f2")
VENUE_UUID = "f7826da6-4fa2-4e98-8024-bc5b71e0893e"
OTHER_UUID = "e2c56db5-dffb-48d2-b060-d0f5a71096e0"


class FakeClock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def band_adv(rssi: float = -60, t: float = T0, ident: bytes = BAND) -> Advertisement:
    return Advertisement("AA:BB:CC:DD:EE:FF", rssi, t, {BAND_COMPANY_ID: encode_band(ident, -59)})


def ibeacon_adv(uuid: str, rssi: float = -70, t: float = T0) -> Advertisement:
    return Advertisement("11:22:33:44:55:66", rssi, t, {APPLE_COMPANY_ID: encode_ibeacon(uuid, 1, 2, -59)})


def agent(clock: FakeClock | None = None, settings: RunSettings | None = None) -> GatewayAgent:
    return GatewayAgent("bistro", "door", NOWHERE, settings, clock=clock or FakeClock())


def test_a_window_of_advertisements_becomes_one_numbered_batch_per_band() -> None:
    a = agent()
    for rssi in (-70, -60, -65):
        a.on_advertisement(band_adv(rssi))
    first = a.flush()
    a.on_advertisement(band_adv(-50))
    second = a.flush()
    assert first is not None and second is not None
    assert (first.seq, second.seq, first.boot) == (0, 1, second.boot)
    (s,) = first.sightings
    assert (s.id, s.n, s.rssi, s.rssi_max, s.tx) == (f"band:{BAND.hex()}", 3, -65.0, -60, -59)
    assert a.flush() is None  # nothing heard, nothing sent
    assert len(a.spool) == 2  # both wait in the spool for the broker


def test_truncated_and_unknown_frames_are_counted_and_skipped() -> None:
    a = agent()
    full = encode_ibeacon(VENUE_UUID, 1, 2, -59)
    for data in (full[:10], full[:22], b"", b"\x02"):  # cut off anywhere: not an iBeacon
        a.on_advertisement(Advertisement("x", -60, T0, {APPLE_COMPANY_ID: data}))
    a.on_advertisement(Advertisement("x", -60, T0, {0x0075: b"\x42\x04\x01\x80"}))  # Samsung, unknown
    a.on_advertisement(Advertisement("x", -60, T0, service_data={EDDYSTONE_SERVICE_UUID: b"\x00"}))
    assert a.stats.unknown == 6
    assert a.flush() is None


def test_a_malformed_advertisement_is_counted_and_the_next_one_still_counts() -> None:
    a = agent()
    # What a buggy source might hand over: data that is not bytes, an RSSI that is not a number.
    a.on_advertisement(Advertisement("x", -60, T0, {APPLE_COMPANY_ID: None}))  # type: ignore[dict-item]
    a.on_advertisement(Advertisement("x", "loud", T0, {BAND_COMPANY_ID: encode_band(BAND, -59)}))  # type: ignore[arg-type]
    a.on_advertisement(band_adv())
    assert a.stats.malformed == 2
    batch = a.flush()
    assert batch is not None and [s.n for s in batch.sightings] == [1]


def test_raw_advertising_data_that_overruns_its_length_is_refused_by_the_parser() -> None:
    # An AD structure claiming 26 bytes with only 4 left: a source reading raw HCI data gets a
    # ValueError naming the offset, never a frame built from bytes that were not there.
    with pytest.raises(ValueError, match="offset 3 declares 26 bytes"):
        parse_advertising_data(bytes.fromhex("0201061aff4c0002"))


@pytest.mark.parametrize("rssi", [99, 21, -128, -300, math.nan, math.inf])
def test_impossible_rssi_never_reaches_a_batch(rssi: float) -> None:
    a = agent()
    a.on_advertisement(band_adv(rssi))
    a.on_advertisement(band_adv(-60, ident=bytes(8)))
    batch = a.flush()
    assert batch is not None
    assert [s.id for s in batch.sightings] == [f"band:{bytes(8).hex()}"]
    assert a.window.rejected_rssi == 1
    wire.decode_batch(wire.encode(batch))  # still a valid batch on the wire


@pytest.mark.parametrize("t", [math.nan, -1.0, math.inf, 1e12])
def test_impossible_timestamps_never_reach_a_batch(t: float) -> None:
    a = agent()
    a.on_advertisement(band_adv(t=t))
    assert a.flush() is None
    assert a.window.rejected_time == 1
    assert a.telemetry().dropped == {"bad_time": 1}


def test_a_clock_step_back_is_counted_and_no_sighting_claims_to_come_after_its_batch() -> None:
    clock = FakeClock()
    a = agent(clock)
    a.tick()
    a.on_advertisement(band_adv(t=T0))  # heard just before NTP steps the clock back an hour
    clock.t = T0 - 3600
    batch = a.tick()
    assert a.stats.clock_jumps == 1
    assert batch is not None
    assert batch.sightings[0].t <= batch.sent == T0 - 3600
    assert a.telemetry().errors["clock_jump"] == 1
    a.on_advertisement(band_adv(t=clock.t + 0.2))
    assert a.tick() is not None  # and the agent carries on


def test_allow_lists_keep_only_the_venues_beacons_and_every_band() -> None:
    a = agent(settings=RunSettings(ibeacon_uuids=(VENUE_UUID.replace("-", ""),)))
    a.on_advertisement(ibeacon_adv(VENUE_UUID))
    a.on_advertisement(ibeacon_adv(OTHER_UUID))
    a.on_advertisement(band_adv())
    batch = a.flush()
    assert batch is not None
    assert sorted(s.id for s in batch.sightings) == [f"band:{BAND.hex()}", f"ibeacon:{VENUE_UUID}:1:2"]
    assert a.stats.filtered == 1


def test_the_frame_cache_answers_exactly_like_identify() -> None:
    ns, inst = bytes.fromhex("edd1ebeac04e5defa017"), bytes.fromhex("0badc0ffee01")
    tlm = Tlm(battery_mv=3000, temperature_c=21.5, adv_count=10, uptime_s=5.0)
    advertisements = [
        band_adv(),
        band_adv(ident=bytes(8)),
        Advertisement("x", -60, T0, {BAND_COMPANY_ID: encode_band(BAND, -59, rotating=True)}),
        ibeacon_adv(VENUE_UUID),
        Advertisement("x", -60, T0, {0x0118: encode_altbeacon(bytes(range(16)), 1, 2, -59)}),
        Advertisement("x", -60, T0, {APPLE_COMPANY_ID: bytes.fromhex("1005031c0f7a5e")}),  # Continuity
        Advertisement(
            "x", -60, T0, service_data={EDDYSTONE_SERVICE_UUID: encode_eddystone_uid(ns, inst, -59)}
        ),
        Advertisement("x", -60, T0, service_data={EDDYSTONE_SERVICE_UUID: encode_eddystone_eid(BAND, -59)}),
        Advertisement("x", -60, T0, service_data={EDDYSTONE_SERVICE_UUID: encode_eddystone_tlm(tlm)}),
        Advertisement("x", -60, T0),
    ]
    cache = FrameCache()
    for _ in range(2):  # first from the decoders, then from memory
        assert [cache.identify(adv) for adv in advertisements] == [identify(adv) for adv in advertisements]
    assert len(cache) == 7  # the recognised frames, and nothing else


def test_telemetry_counts_rates_advertisers_and_the_spooled_queue() -> None:
    a = agent()
    for _ in range(4):
        a.on_advertisement(band_adv())
    a.on_advertisement(ibeacon_adv(VENUE_UUID))
    a.on_advertisement(Advertisement("x", -60, T0, {0x0075: b"\x01"}))
    a.flush()
    report = a.telemetry()
    assert (report.advertisers, report.queue, report.batches) == (2, 1, 1)
    assert report.adv_rate > 0
    assert report.dropped == {"unknown_frame": 1}
    assert (report.version, report.boot, report.interval) == ("0.1.0", a.boot, 0.5)
    wire.decode_telemetry(wire.encode(report))
    assert a.telemetry().advertisers == 0  # each report covers the period since the last


def test_a_spool_that_cannot_be_written_costs_the_batch_not_the_gateway() -> None:
    a = agent()
    a.spool.close()  # as good as a full or failing SD card: every write raises
    a.on_advertisement(band_adv())
    batch = a.tick()
    assert batch is not None and batch.seq == 0
    assert a.telemetry().dropped == {"spool_failed": 1}
    a.on_advertisement(band_adv())
    assert a.tick() is not None  # still hearing, still numbering


def test_a_remote_config_switches_the_batches_to_packed_and_back() -> None:
    from maitre.ingest import packed

    a = agent()
    a.settings = a.local.overlay(b'{"v":1,"revision":3,"encoding":"packed"}')
    a.on_advertisement(band_adv(-61.26))
    a.on_advertisement(ibeacon_adv(VENUE_UUID))
    sent = a.flush()
    a.settings = a.local.overlay(b"")  # the retained config deleted: the command line's JSON again
    a.on_advertisement(band_adv(-50))
    a.flush()
    first, second = (b.payload for b in a.spool.after(0, 10))
    assert sent is not None and wire.is_packed(first) and not wire.is_packed(second)
    decoded = packed.decode(first)
    in_order = sorted(sent.sightings, key=lambda s: s.id.startswith("band:"))  # packed ones last
    assert decoded.header.sightings + decoded.sightings() == in_order
    assert wire.decode_batch(second).sightings[0].rssi == -50
    with pytest.raises(ValueError, match="encoding"):
        RunSettings(encoding="xml")  # type: ignore[arg-type]
