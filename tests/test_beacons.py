"""Beacon decoders against byte-level examples published by specifications and other projects."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from maitre.gateway.ad import parse_advertising_data
from maitre.gateway.advertisement import Advertisement
from maitre.gateway.beacons import Filters, Telemetry, decode, identify, telemetry
from maitre.gateway.beacons.altbeacon import decode_altbeacon, encode_altbeacon
from maitre.gateway.beacons.band import BAND_COMPANY_ID, decode_band, encode_band
from maitre.gateway.beacons.eddystone import (
    EDDYSTONE_SERVICE_UUID,
    decode_eddystone,
    decode_tlm,
    encode_eddystone_eid,
    encode_eddystone_tlm,
    encode_eddystone_uid,
)
from maitre.gateway.beacons.ibeacon import APPLE_COMPANY_ID, decode_ibeacon, encode_ibeacon

# AOSP packages/modules/Bluetooth, framework/tests/unit/src/android/bluetooth/le/ScanRecordTest.java
# (read in the LineageOS/android_packages_modules_Bluetooth mirror): "Example raw beacons captured
# from a Blue Charm BC011", one device interleaving iBeacon, Eddystone-UID, -URL and -TLM frames.
BLUE_CHARM_IBEACON = (
    "0201061AFF4C000215426C7565436861726D426561636F6E730EFE1355C5091"
    "68020691E0EFE13551109426C7565436861726D5F31363936383500000000"
)
BLUE_CHARM_UID = (
    "0201060303AAFE1716AAFE00EE626C7565636861726D3100000000000100000"
    "9168020691E0EFE13551109426C7565436861726D5F313639363835000000"
)
BLUE_CHARM_URL = (
    "0201060303AAFE1716AAFE10EE01626C7565636861726D626561636F6E730"
    "009168020691E0EFE13551109426C7565436861726D5F313639363835000000"
)
BLUE_CHARM_TLM = (
    "0201060303AAFE1116AAFE20000BF017000008874803FB93540916802069080"
    "EFE13551109426C7565436861726D5F313639363835000000000000000000"
)
# Same file: "Example Eddystone E2EE-EID beacon from design doc" (frame type 0x40).
E2EE_EID = "0201061816AAFE400000000000000000000000000000000000000000"

# citruz/beacontools, tests/test_parser.py: test_ibeacon, test_eddystone_uid, test_eddystone_eid.
BEACONTOOLS_IBEACON = "0201061aff4c000215" + "41424344454647484940414243444546" + "00010002f8"
BEACONTOOLS_UID = "0201060303aafe1716aafe00e3" + "12345678901234678901" + "000000000001" + "0000"
BEACONTOOLS_EID = "0201060303aafe0d16aafe30e3" + b"EID_test".hex()

# AltBeacon/android-beacon-library, lib/src/test/java/org/altbeacon/beacon/AltBeaconParserTest.java,
# testRecognizeBeacon: Radius Networks' company id 0x0118, the AltBeacon spec's reference layout.
ABL_ALTBEACON = "02011a1bff1801beac2f234454cf6d4a0fadf2f4911ba9ffa600010002c50900"


def _adv(raw_hex: str) -> Advertisement:
    return parse_advertising_data(bytes.fromhex(raw_hex))


def _payload(raw_hex: str) -> bytes:
    """The one manufacturer or Eddystone service payload of a captured advertisement."""
    adv = _adv(raw_hex)
    return next(iter(adv.manufacturer_data.values()), None) or adv.service_data[EDDYSTONE_SERVICE_UUID]


def test_blue_charm_ibeacon_decodes_to_its_uuid_major_minor_and_power() -> None:
    # AOSP ScanRecordTest RECORD_IBEACON; theengs/decoder tests/BLE/test_ble.cpp decodes the same
    # manufacturer data ("BlueCharm_135727") to major 3838, minor 4949, txpower -59.
    assert decode(_adv(BLUE_CHARM_IBEACON)) == ("ibeacon:426c7565-4368-6172-6d42-6561636f6e73:3838:4949", -59)


def test_beacontools_ibeacon_decodes() -> None:
    # citruz/beacontools tests/test_parser.py test_ibeacon: uuid 41424344-..., major 1, minor 2, -8 dBm.
    assert decode(_adv(BEACONTOOLS_IBEACON)) == ("ibeacon:41424344-4546-4748-4940-414243444546:1:2", -8)


def test_eddystone_uid_power_is_ranging_data_less_41_db() -> None:
    # AOSP ScanRecordTest RECORD_UUID: the same Blue Charm says -18 dBm at 0 m in its UID frame and
    # -59 dBm at 1 m in its iBeacon frame, the 41 dB the Eddystone-UID spec gives for the first metre.
    assert identify(_adv(BLUE_CHARM_UID)) == (
        "eddystone-uid",
        "eddystone:626c7565636861726d31:000000000001",
        -59,
    )


def test_beacontools_eddystone_uid_decodes() -> None:
    # citruz/beacontools tests/test_parser.py test_eddystone_uid: namespace 12345678901234678901,
    # instance 000000000001, tx_power -29 at 0 m.
    assert decode(_adv(BEACONTOOLS_UID)) == ("eddystone:12345678901234678901:000000000001", -70)


def test_eddystone_uid_without_reserved_bytes_decodes() -> None:
    # AltBeacon/android-beacon-library GattBeaconTest.testDetectsEddystoneUID: service data length
    # 0x15, the older UID layout without the 2 reserved bytes that the Eddystone-UID spec still accepts.
    raw = "0201060303aafe1516aafe00e700010203040506070809010203040506" + "00" * 40
    assert decode(_adv(raw)) == ("eddystone:00010203040506070809:010203040506", -66)


def test_eddystone_eid_decodes_to_an_eid_id() -> None:
    # citruz/beacontools tests/test_parser.py test_eddystone_eid: eid b"EID_test", tx_power -29 at 0 m.
    assert identify(_adv(BEACONTOOLS_EID)) == ("eddystone-eid", "eid:4549445f74657374", -70)


def test_altbeacon_decodes_with_its_three_identifiers() -> None:
    # android-beacon-library AltBeaconParserTest.testRecognizeBeacon; the ids as that file's
    # testParsesBeaconMissingDataField asserts them: 2f234454-cf6d-4a0f-adf2-f4911ba9ffa6, 1, 2, -59.
    assert identify(_adv(ABL_ALTBEACON)) == (
        "altbeacon",
        "altbeacon:2f234454cf6d4a0fadf2f4911ba9ffa6:1:2",
        -59,
    )


def test_altbeacon_is_recognised_under_any_company_id() -> None:
    # android-beacon-library BeaconParserTest.testRecognizeBeaconCapturedManufacturer: company 0xbbaa.
    raw = "0201061bffaabbbeace2c56db5dffb48d2b060d0f5a71096e000010004c5" + "00" * 33
    assert decode(_adv(raw)) == ("altbeacon:e2c56db5dffb48d2b060d0f5a71096e0:1:4", -59)


def test_altbeacon_without_the_reserved_byte_decodes() -> None:
    # android-beacon-library AltBeaconParserTest.testParsesBeaconMissingDataField: AD length 0x1a.
    raw = "02011a1aff1801beac2f234454cf6d4a0fadf2f4911ba9ffa600010002c5000000"
    assert decode(_adv(raw)) == ("altbeacon:2f234454cf6d4a0fadf2f4911ba9ffa6:1:2", -59)


def test_wrong_beacon_code_is_not_an_altbeacon() -> None:
    # android-beacon-library AltBeaconParserTest.testParseWrongFormatReturnsNothing: code 0xffff
    # (its manufacturer data only; that record has a stray trailing byte after the AD structures).
    data = bytes.fromhex("ffff2f234454cf6d4a0fadf2f4911ba9ffa600010002c5")
    assert decode_altbeacon(data) is None
    assert decode(Advertisement("unknown", 0, 0, {0x0118: data})) is None


def test_manufacturer_structure_cut_short_by_its_length_decodes_to_nothing() -> None:
    # android-beacon-library BeaconParserTest.testParseManufacturerIdentifierThatRunsOverPduLength and
    # doesNotCashWithOverflowingByteCodeComparisonOnPdu: both must give no beacon and no exception.
    assert decode(_adv("02011a16ff1801beac2f234454cf6d4a0fadf2f4911ba9ffa600010002c509000000")) is None
    assert decode(_adv("02010604ffe000be")) is None


def test_eddystone_tlm_reads_telemetry_but_gives_no_advertiser_id() -> None:
    # AOSP ScanRecordTest RECORD_TLM (Blue Charm BC011): 0x0bf0 mV, 0x1700 = 23.0 °C in 8.8 fixed point,
    # 0x00088748 advertisements, 0x03fb9354 tenths of a second since power-on.
    adv = _adv(BLUE_CHARM_TLM)
    assert decode(adv) is None
    assert telemetry(adv) == Telemetry(
        battery_mv=3056, temperature_c=23.0, adv_count=558920, uptime_s=6681890.0
    )


def test_beacontools_tlm_decodes() -> None:
    # citruz/beacontools tests/test_parser.py test_eddystone_tlm: voltage 2840, temperature 19,
    # advertising_count 5223, seconds_since_boot 10948 (beacontools' name for the raw counter, which
    # the Eddystone-TLM spec counts in 0.1 s, so 1094.8 s). Service data only: that packet ends in a
    # stray byte that no AD structure holds.
    data = bytes.fromhex("2000" + "0b18" + "1300" + "00001467" + "00002ac4")
    assert decode_tlm(data) == Telemetry(battery_mv=2840, temperature_c=19.0, adv_count=5223, uptime_s=1094.8)


def test_encrypted_tlm_is_not_read() -> None:
    # citruz/beacontools tests/test_parser.py test_eddystone_tlm_enc: version 0x01, 12 encrypted bytes,
    # salt, MIC (service data only; the packet's AD length byte is one short of it).
    data = bytes.fromhex("2001" + "41" * 12 + "deadbeff")
    assert decode_tlm(data) is None
    assert decode_eddystone(data) is None


def test_tlm_without_sensors_reports_none() -> None:
    # Eddystone-TLM spec (google/eddystone eddystone-tlm/tlm-plain.md): battery 0 and temperature 0x8000
    # mean the beacon has no such sensor.
    reading = decode_tlm(bytes.fromhex("2000" + "0000" + "8000" + "00000001" + "0000000a"))
    assert reading == Telemetry(battery_mv=None, temperature_c=None, adv_count=1, uptime_s=1.0)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(BLUE_CHARM_URL, id="aosp-eddystone-url"),
        pytest.param(E2EE_EID, id="aosp-e2ee-eid"),
        # citruz/beacontools tests/test_parser.py test_bad_packets: Eddystone frame type 0x01.
        pytest.param(BEACONTOOLS_UID.replace("aafe00e3", "aafe01e3"), id="beacontools-frame-0x01"),
    ],
)
def test_eddystone_frames_without_identity_decode_to_nothing(raw: str) -> None:
    # Sources per parameter: AOSP ScanRecordTest RECORD_URL and RECORD_E2EE_EID; beacontools test_bad_packets.
    assert decode(_adv(raw)) is None


def test_ibeacon_payload_under_an_unknown_company_decodes_to_nothing() -> None:
    # AOSP ScanRecordTest RECORD_IBEACON's payload, keyed under Samsung's 0x0075 instead of Apple's 0x004C.
    data = _payload(BLUE_CHARM_IBEACON)
    assert decode(Advertisement("unknown", 0, 0, {0x0075: data})) is None
    assert decode(Advertisement("unknown", 0, 0, {APPLE_COMPANY_ID: data})) is not None


def test_power_outside_the_wire_bounds_is_dropped_but_the_beacon_kept() -> None:
    # theengs/decoder tests/BLE/test_ble.cpp, iBeacon "NRF51822": the last byte 0x1a is +26 dBm, which
    # no beacon radiates at 1 m (Theengs reads it as 2.6 V); maitre.wire.TxPower rejects it.
    # Theengs gives the manufacturer data with its company id first: 4c00, then 0215...
    data = bytes.fromhex("0215fda50693a4e24fb1afcfc6eb07647825000100021a")
    found = decode(Advertisement("unknown", 0, 0, {APPLE_COMPANY_ID: data}))
    assert found == ("ibeacon:fda50693-a4e2-4fb1-afcf-c6eb07647825:1:2", None)


@pytest.mark.parametrize(
    ("decoder", "frame", "needed"),
    [
        pytest.param(decode_ibeacon, _payload(BLUE_CHARM_IBEACON), 23, id="ibeacon"),
        pytest.param(decode_altbeacon, _payload(ABL_ALTBEACON), 23, id="altbeacon"),
        pytest.param(decode_eddystone, _payload(BLUE_CHARM_UID), 18, id="eddystone-uid"),
        pytest.param(decode_eddystone, _payload(BEACONTOOLS_EID), 10, id="eddystone-eid"),
        pytest.param(decode_tlm, _payload(BLUE_CHARM_TLM), 14, id="eddystone-tlm"),
        pytest.param(decode_band, encode_band(bytes(range(8)), -59, 80), 12, id="band"),
    ],
)
def test_truncated_frames_of_every_length_decode_to_nothing(
    decoder: Callable[[bytes], object], frame: bytes, needed: int
) -> None:
    # Frames from AOSP ScanRecordTest (Blue Charm), android-beacon-library AltBeaconParserTest and
    # beacontools test_eddystone_eid, cut at every length short of the fields each decoder reads.
    assert decoder(frame) is not None
    for n in range(needed):
        assert decoder(frame[:n]) is None, n


def test_filters_drop_ibeacon_uuids_not_on_the_list() -> None:
    # Blue Charm iBeacon from AOSP ScanRecordTest; the other iBeacon from beacontools test_ibeacon.
    filters = Filters(ibeacon_uuids=["426C7565-4368-6172-6D42-6561636F6E73"])
    assert decode(_adv(BLUE_CHARM_IBEACON), filters) is not None
    assert decode(_adv(BEACONTOOLS_IBEACON), filters) is None
    assert decode(_adv(BEACONTOOLS_UID), filters) is not None  # no namespace list: Eddystone unfiltered


def test_filters_drop_eddystone_namespaces_not_on_the_list() -> None:
    # Eddystone-UID frames from AOSP ScanRecordTest (Blue Charm) and beacontools test_eddystone_uid.
    filters = Filters(eddystone_namespaces=["626c7565636861726d31"])
    assert decode(_adv(BLUE_CHARM_UID), filters) is not None
    assert decode(_adv(BEACONTOOLS_UID), filters) is None
    assert decode(_adv(BEACONTOOLS_IBEACON), filters) is not None  # no UUID list: iBeacon unfiltered


def test_filters_always_let_bands_through() -> None:
    # Maître's own band frame (gateway/beacons/band.py), static and rotating.
    filters = Filters(ibeacon_uuids=["426c7565436861726d426561636f6e73"], eddystone_namespaces=["00" * 10])
    for rotating in (False, True):
        adv = Advertisement("unknown", 0, 0, {BAND_COMPANY_ID: encode_band(bytes(8), -59, rotating=rotating)})
        assert decode(adv, filters) is not None


def test_filters_reject_malformed_configuration() -> None:
    # Configuration values, not frames: no external source.
    with pytest.raises(ValueError, match="iBeacon UUID"):
        Filters(ibeacon_uuids=["not-a-uuid"])
    with pytest.raises(ValueError, match="Eddystone namespace"):
        Filters(eddystone_namespaces=["626c7565"])


def test_encoders_build_the_published_frames() -> None:
    # Payloads of AOSP ScanRecordTest (Blue Charm), android-beacon-library AltBeaconParserTest and
    # beacontools test_eddystone_eid, rebuilt from their decoded fields.
    assert encode_ibeacon("426c7565-4368-6172-6d42-6561636f6e73", 3838, 4949, -59) == _payload(
        BLUE_CHARM_IBEACON
    )
    assert encode_eddystone_uid(b"bluecharm1", (1).to_bytes(6, "big"), -59) == _payload(BLUE_CHARM_UID)
    assert encode_eddystone_eid(b"EID_test", -70) == _payload(BEACONTOOLS_EID)
    assert encode_eddystone_tlm(Telemetry(3056, 23.0, 558920, 6681890.0)) == _payload(BLUE_CHARM_TLM)
    altbeacon = encode_altbeacon(bytes.fromhex("2f234454cf6d4a0fadf2f4911ba9ffa6"), 1, 2, -59, reserved=9)
    assert altbeacon == _payload(ABL_ALTBEACON)
