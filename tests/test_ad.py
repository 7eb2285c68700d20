"""Raw advertising data into Advertisements, and the `maitre-gateway decode` command built on it."""

from __future__ import annotations

import json

import pytest

from maitre.gateway.ad import parse_advertising_data
from maitre.gateway.cli import main

# AOSP packages/modules/Bluetooth, framework/tests/unit/src/android/bluetooth/le/ScanRecordTest.java
# (LineageOS/android_packages_modules_Bluetooth mirror), testParser: flags, 16-bit service UUIDs
# 0x110b and 0x110a, name "Ped", TX power level, service data of 0x110b, manufacturer data of 0x00e0,
# and an unknown AD type 0x50.
AOSP_SCAN_RECORD = (
    "02011a" + "05020b110a11" + "0409506564" + "020aec" + "05160b115064" + "05ffe0000215" + "03500102"
)
# Same file, testParserMultipleManufacturerSpecificData: two structures for company 0x00e0.
AOSP_TWO_MANUFACTURER = (
    "02011a"
    + "05020b110a11"
    + "0409506564"
    + "020aec"
    + "05160b115064"
    + "05ffe0000215"
    + "05ffe0000416"
    + "03500102"
)
# Same file, RECORD_IBEACON and RECORD_TLM: "Example raw beacons captured from a Blue Charm BC011",
# zero-padded the way Android hands out scan records.
BLUE_CHARM_IBEACON = (
    "0201061AFF4C000215426C7565436861726D426561636F6E730EFE1355C5091"
    "68020691E0EFE13551109426C7565436861726D5F31363936383500000000"
)
BLUE_CHARM_TLM = (
    "0201060303AAFE1116AAFE20000BF017000008874803FB93540916802069080"
    "EFE13551109426C7565436861726D5F313639363835000000000000000000"
)
# AltBeacon/android-beacon-library, BeaconParserTest.testReEncodesBeaconForEddystoneTelemetry: the
# service data structure declares 0x15 bytes but only 17 follow (that library tolerates it).
ABL_SHORT_TLM = "0201060303aafe1516aafe2001021203130414243405152535"
# citruz/beacontools, tests/test_parser.py test_eddystone_tlm: one stray byte after the last structure.
BEACONTOOLS_TLM = "0201060303aafe1116aafe20000b18130000001467" + "00002ac4" + "e4"


def test_manufacturer_and_service_data_are_read_and_other_types_skipped() -> None:
    # AOSP ScanRecordTest.testParser: manufacturer data of 0x00E0 is 0215, service data of 0x110B is 5064.
    adv = parse_advertising_data(bytes.fromhex(AOSP_SCAN_RECORD))
    assert adv.manufacturer_data == {0x00E0: b"\x02\x15"}
    assert adv.service_data == {"0000110b-0000-1000-8000-00805f9b34fb": b"\x50\x64"}
    assert (adv.address, adv.rssi) == ("unknown", 0)


def test_a_later_structure_for_the_same_company_replaces_the_earlier() -> None:
    # AOSP ScanRecordTest.testParserMultipleManufacturerSpecificData: Android concatenates the two
    # (0215 0416); a dict keyed by company keeps the last, so a beacon frame is never glued to another.
    adv = parse_advertising_data(bytes.fromhex(AOSP_TWO_MANUFACTURER))
    assert adv.manufacturer_data == {0x00E0: b"\x04\x16"}


def test_zero_padding_ends_the_data() -> None:
    # AOSP ScanRecordTest RECORD_IBEACON (Blue Charm BC011): the record ends in zero bytes.
    adv = parse_advertising_data(bytes.fromhex(BLUE_CHARM_IBEACON), address="dd:34:02:05:5c:4d", rssi=-60)
    assert adv.manufacturer_data == {0x004C: bytes.fromhex("0215426c7565436861726d426561636f6e730efe1355c5")}
    assert adv.service_data == {"00002080-0000-1000-8000-00805f9b34fb": bytes.fromhex("691e0efe1355")}
    assert (adv.address, adv.rssi) == ("dd:34:02:05:5c:4d", -60)


def test_empty_data_is_an_empty_advertisement() -> None:
    # No external source: the degenerate case.
    adv = parse_advertising_data(b"")
    assert adv.manufacturer_data == {} and adv.service_data == {}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        # android-beacon-library BeaconParserTest.testReEncodesBeaconForEddystoneTelemetry.
        pytest.param(
            ABL_SHORT_TLM, "AD structure at offset 7 declares 21 bytes but only 17 follow", id="abl-tlm"
        ),
        # citruz/beacontools test_eddystone_tlm: the stray 0xe4 reads as a length with nothing after it.
        pytest.param(
            BEACONTOOLS_TLM, "AD structure at offset 25 declares 228 bytes but only 0 follow", id="stray"
        ),
        # Constructed, no source: manufacturer data with one byte of its company id.
        pytest.param(
            "02ff4c", "manufacturer data at offset 0 is too short for its 2-byte id", id="company-id"
        ),
        # Constructed, no source: 16-bit service data with no UUID at all.
        pytest.param("020106" + "0116", "service data at offset 3 is too short for its 2-byte id", id="uuid"),
    ],
)
def test_malformed_data_raises_a_value_error_naming_the_offset(raw: str, message: str) -> None:
    # Sources per parameter, above.
    with pytest.raises(ValueError, match=message):
        parse_advertising_data(bytes.fromhex(raw))


@pytest.mark.parametrize("raw", [AOSP_SCAN_RECORD, BLUE_CHARM_IBEACON, BLUE_CHARM_TLM])
def test_truncation_at_every_length_parses_or_raises_value_error(raw: str) -> None:
    # Records from AOSP ScanRecordTest (testParser, RECORD_IBEACON, RECORD_TLM) cut at every length:
    # a clear ValueError or a result, never an IndexError.
    data = bytes.fromhex(raw)
    for n in range(len(data)):
        try:
            parse_advertising_data(data[:n])
        except ValueError as exc:
            assert "offset" in str(exc)


def test_decode_prints_one_json_object_per_advertisement(capsys: pytest.CaptureFixture[str]) -> None:
    # AOSP ScanRecordTest RECORD_IBEACON and RECORD_TLM, captured from a Blue Charm BC011.
    assert main(["decode", BLUE_CHARM_IBEACON, BLUE_CHARM_TLM]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines == [
        {
            "hex": BLUE_CHARM_IBEACON,
            "frame": "ibeacon",
            "id": "ibeacon:426c7565-4368-6172-6d42-6561636f6e73:3838:4949",
            "power_1m": -59,
        },
        {
            "hex": BLUE_CHARM_TLM,
            "frame": "eddystone-tlm",
            "battery_mv": 3056,
            "temperature_c": 23.0,
            "adv_count": 558920,
            "uptime_s": 6681890.0,
        },
    ]


def test_decode_accepts_spaces_and_colons(capsys: pytest.CaptureFixture[str]) -> None:
    # citruz/beacontools tests/test_parser.py test_eddystone_eid, written as a sniffer would print it.
    text = "02:01:06 03:03:aa:fe 0d:16:aa:fe:30:e3:45:49:44:5f:74:65:73:74"
    assert main(["decode", text]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "hex": text,
        "frame": "eddystone-eid",
        "id": "eid:4549445f74657374",
        "power_1m": -70,
    }


def test_decode_reports_errors_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    # android-beacon-library BeaconParserTest.testReEncodesBeaconForEddystoneTelemetry (truncated),
    # AOSP ScanRecordTest.testParser (no beacon frame in it), then text that is not hex.
    assert main(["decode", ABL_SHORT_TLM, AOSP_SCAN_RECORD, "02 01 0g", BLUE_CHARM_IBEACON]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0] == {
        "hex": ABL_SHORT_TLM,
        "error": "AD structure at offset 7 declares 21 bytes but only 17 follow",
    }
    assert lines[1]["error"] == (
        "no known beacon frame in manufacturer data of company 0x00e0, service data of UUID 0x110b"
    )
    assert lines[2]["error"].startswith("not hex")
    assert lines[3]["id"] == "ibeacon:426c7565-4368-6172-6d42-6561636f6e73:3838:4949"
