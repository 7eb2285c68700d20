"""Google Eddystone: UID, EID and TLM frames, carried as service data of UUID 0xFEAA.

The first byte names the frame type (github.com/google/eddystone, protocol-specification.md):

    UID  0x00  ranging data, 10-byte namespace, 6-byte instance, 2 reserved bytes
    EID  0x30  ranging data, 8-byte ephemeral id (rotates; only its registered resolver knows whose)
    TLM  0x20  version, battery, temperature, advertisement count, uptime; no identity at all
"""

from __future__ import annotations

from dataclasses import dataclass

from maitre.wire import eid_id

# bleak keys service data by the full 128-bit UUID: 0xFEAA on the Bluetooth base UUID.
EDDYSTONE_SERVICE_UUID = "0000feaa-0000-1000-8000-00805f9b34fb"
FRAME_UID = 0x00
FRAME_TLM = 0x20
FRAME_EID = 0x30

# Eddystone's ranging data is the power at 0 m, where iBeacon and AltBeacon state it at 1 m. The
# Eddystone-UID spec gives 41 dB as the loss over the first metre, so 1 m power = ranging - 41.
PATH_LOSS_AT_1M = 41

# The UID spec fixes 20 bytes, but notes that older beacons drop the 2 reserved bytes.
_UID_LENGTH = 18  # frame type + ranging + 10 namespace + 6 instance
_EID_LENGTH = 10  # frame type + ranging + 8 ephemeral id
_TLM_LENGTH = 14
_TLM_PLAIN = 0x00  # version 0x01 is the encrypted TLM of EID beacons, unreadable without the key
_TEMPERATURE_UNSUPPORTED = -0x8000  # -128 °C in 8.8 fixed point: "no sensor"


@dataclass(frozen=True, slots=True)
class Telemetry:
    """A beacon's health from an Eddystone TLM frame; None where the beacon has no sensor."""

    battery_mv: int | None
    temperature_c: float | None
    adv_count: int  # advertisements sent since power-on
    uptime_s: float  # since power-on, 0.1 s resolution


def decode_eddystone(data: bytes) -> tuple[str, int] | None:
    """Return (advertiser id, power at 1 m) for a UID or EID frame; None for TLM and anything else."""
    n = len(data)
    if n >= _UID_LENGTH and data[0] == FRAME_UID:
        ident = f"eddystone:{data[2:12].hex()}:{data[12:18].hex()}"
    elif n >= _EID_LENGTH and data[0] == FRAME_EID:
        ident = eid_id(data[2:10])
    else:
        return None
    ranging = data[1] - 256 if data[1] > 127 else data[1]
    return ident, ranging - PATH_LOSS_AT_1M


def decode_tlm(data: bytes) -> Telemetry | None:
    """Read an unencrypted TLM frame; None if this is not one."""
    if len(data) < _TLM_LENGTH or data[0] != FRAME_TLM or data[1] != _TLM_PLAIN:
        return None
    battery = int.from_bytes(data[2:4], "big")
    temperature = int.from_bytes(data[4:6], "big", signed=True)
    return Telemetry(
        battery_mv=battery or None,  # the spec zeroes it on mains-powered beacons
        temperature_c=None if temperature == _TEMPERATURE_UNSUPPORTED else temperature / 256,
        adv_count=int.from_bytes(data[6:10], "big"),
        uptime_s=int.from_bytes(data[10:14], "big") / 10,
    )


def encode_eddystone_uid(namespace: bytes, instance: bytes, power_1m: int) -> bytes:
    """Build the service data of a UID frame, reserved bytes included."""
    if len(namespace) != 10 or len(instance) != 6:
        raise ValueError("Eddystone-UID namespaces are 10 bytes and instances 6")
    return bytes((FRAME_UID, _ranging(power_1m))) + namespace + instance + b"\x00\x00"


def encode_eddystone_eid(ephemeral_id: bytes, power_1m: int) -> bytes:
    """Build the service data of an EID frame."""
    if len(ephemeral_id) != 8:
        raise ValueError("Eddystone ephemeral ids are 8 bytes")
    return bytes((FRAME_EID, _ranging(power_1m))) + ephemeral_id


def encode_eddystone_tlm(telemetry: Telemetry) -> bytes:
    """Build the service data of an unencrypted TLM frame."""
    temperature = (
        _TEMPERATURE_UNSUPPORTED if telemetry.temperature_c is None else round(telemetry.temperature_c * 256)
    )
    return (
        bytes((FRAME_TLM, _TLM_PLAIN))
        + (telemetry.battery_mv or 0).to_bytes(2, "big")
        + temperature.to_bytes(2, "big", signed=True)
        + telemetry.adv_count.to_bytes(4, "big")
        + round(telemetry.uptime_s * 10).to_bytes(4, "big")
    )


def _ranging(power_1m: int) -> int:
    return (power_1m + PATH_LOSS_AT_1M) & 0xFF
