"""What the gateway accepts from BlueZ before bleak reads it, and which bus signals restart the scan."""

from __future__ import annotations

from typing import Any

import pytest
from dbus_fast import Message, Variant

from maitre.gateway.sources.bluez_values import property_problem
from maitre.gateway.sources.bluez_watch import adapter_change

GOOD: dict[str, Any] = {
    "Address": "C4:7C:8D:6A:3E:01",
    "Alias": "C4-7C-8D-6A-3E-01",
    "RSSI": -61,
    "ManufacturerData": {0xFFFF: b"\x4d\x01"},
    "ServiceData": {"0000feaa-0000-1000-8000-00805f9b34fb": b"\x00"},
    "UUIDs": ["0000feaa-0000-1000-8000-00805f9b34fb"],
}


def test_a_device_as_bluez_documents_it_is_usable_and_rssi_may_be_absent() -> None:
    assert property_problem(GOOD) is None
    assert property_problem({k: v for k, v in GOOD.items() if k != "RSSI"}) is None


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"RSSI": "-61"}, "bluez_bad_rssi"),
        ({"RSSI": True}, "bluez_bad_rssi"),
        ({"RSSI": 400}, "bluez_rssi_out_of_range"),
        ({"RSSI": -128}, "bluez_rssi_out_of_range"),
        ({"ManufacturerData": "ffff4d01"}, "bluez_bad_manufacturer_data"),
        ({"ManufacturerData": {0x10000: b"\x01"}}, "bluez_bad_manufacturer_data"),
        ({"ManufacturerData": {0xFFFF: "x"}}, "bluez_bad_manufacturer_data"),
        ({"ServiceData": {"feaa": 7}}, "bluez_bad_service_data"),
        ({"UUIDs": "feaa"}, "bluez_bad_uuids"),
        ({"Address": None}, "bluez_bad_address"),
    ],
)
def test_a_value_of_the_wrong_type_or_range_is_named(change: dict[str, Any], problem: str) -> None:
    assert property_problem({**GOOD, **change}) == problem


def signal(path: str, interface: str, member: str, signature: str, body: list[Any]) -> Message:
    return Message.new_signal(path, interface, member, signature, body)


def test_bluetoothd_coming_and_going_and_the_adapters_power_restart_the_scan() -> None:
    owner = "org.freedesktop.DBus"
    gone = signal("/org/freedesktop/DBus", owner, "NameOwnerChanged", "sss", ["org.bluez", ":1.4", ""])
    back = signal("/org/freedesktop/DBus", owner, "NameOwnerChanged", "sss", ["org.bluez", "", ":1.9"])
    off = signal(
        "/org/bluez/hci0",
        "org.freedesktop.DBus.Properties",
        "PropertiesChanged",
        "sa{sv}as",
        ["org.bluez.Adapter1", {"Powered": Variant("b", False)}, []],
    )
    assert adapter_change(gone, None) == "bluetoothd left the system bus"
    assert adapter_change(back, None) == "bluetoothd joined the system bus"
    assert adapter_change(off, "hci0") == "adapter hci0 powered off"
    assert adapter_change(off, "hci1") is None  # another adapter's business


def test_devices_and_other_adapter_properties_do_not_restart_the_scan() -> None:
    manager = "org.freedesktop.DBus.ObjectManager"
    device = signal(
        "/",
        manager,
        "InterfacesAdded",
        "oa{sa{sv}}",
        ["/org/bluez/hci0/dev_C4_7C_8D_6A_3E_01", {"org.bluez.Device1": {}}],
    )
    discovering = signal(
        "/org/bluez/hci0",
        "org.freedesktop.DBus.Properties",
        "PropertiesChanged",
        "sa{sv}as",
        ["org.bluez.Adapter1", {"Discovering": Variant("b", False)}, []],
    )
    plugged = signal(
        "/", manager, "InterfacesAdded", "oa{sa{sv}}", ["/org/bluez/hci1", {"org.bluez.Adapter1": {}}]
    )
    assert adapter_change(device, None) is None
    assert adapter_change(discovering, None) is None
    assert adapter_change(plugged, None) == "adapter hci1 appeared"
