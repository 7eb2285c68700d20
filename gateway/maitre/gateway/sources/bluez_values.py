"""bleak's BlueZ scanner with a check first: values bluetoothd should never send are counted and skipped.

bleak reads a device's D-Bus properties as they come (`bytes(v)` of every manufacturer-data
value, the RSSI as given). A wrong type raises inside bleak's D-Bus handler, where dbus-fast logs
and drops it; an impossible RSSI would reach the batches. Here each is named and counted instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from bleak.backends.bluezdbus.scanner import BleakScannerBlueZDBus

# What a BLE controller can report: HCI's RSSI is -127..+20 dBm (127 means "not available").
RSSI_MIN, RSSI_MAX = -127, 20


def property_problem(props: Mapping[str, Any]) -> str | None:
    """The first problem with a Device1's advertising properties, as a counter name; None if usable."""
    if not isinstance(props.get("Address"), str) or not isinstance(props.get("Alias"), str):
        return "bluez_bad_address"
    rssi = props.get("RSSI")
    if rssi is not None:
        if type(rssi) is not int:
            return "bluez_bad_rssi"
        if not RSSI_MIN <= rssi <= RSSI_MAX:
            return "bluez_rssi_out_of_range"
    manufacturer = props.get("ManufacturerData", {})
    if not isinstance(manufacturer, dict) or not all(
        type(k) is int and 0 <= k <= 0xFFFF and isinstance(v, bytes | bytearray)
        for k, v in manufacturer.items()
    ):
        return "bluez_bad_manufacturer_data"
    service = props.get("ServiceData", {})
    if not isinstance(service, dict) or not all(
        isinstance(k, str) and isinstance(v, bytes | bytearray) for k, v in service.items()
    ):
        return "bluez_bad_service_data"
    uuids = props.get("UUIDs", [])
    if not isinstance(uuids, list) or not all(isinstance(u, str) for u in uuids):
        return "bluez_bad_uuids"
    return None


class CheckedBlueZScanner(BleakScannerBlueZDBus):
    """The BlueZ backend, handing bleak only devices whose properties have the types BlueZ documents."""

    def __init__(self, *args: Any, on_bad_value: Callable[[str, str], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_bad_value = on_bad_value

    def _handle_advertising_data(self, path: str, props: Any) -> None:
        problem = property_problem(props)
        if problem is not None:
            self._on_bad_value(problem, path)
            return
        super()._handle_advertising_data(path, props)


class HandlerErrors(logging.Filter):
    """Counts what bleak's D-Bus signal handlers raised (dbus-fast logs and drops those), and hushes the log.

    Attached to dbus-fast's logger while a scanner runs; the source logs a rate-limited line instead.
    """

    def __init__(self, on_error: Callable[[str, str], None]) -> None:
        super().__init__()
        self.on_error = on_error

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and str(record.msg).startswith("A message handler raised"):
            self.on_error("bluez_signal_failed", record.getMessage())
            return False
        return True
