"""A private D-Bus system bus and a small fake `org.bluez` on it, so bleak's real BlueZ backend runs in tests.

The stand-in speaks the part of BlueZ's D-Bus API that bleak's scanner uses (see bleak's
`backends/bluezdbus/manager.py`): the object manager at `/` (GetManagedObjects, InterfacesAdded,
InterfacesRemoved), `Adapter1` (Powered, Discovering, SetDiscoveryFilter, StartDiscovery,
StopDiscovery), `Device1` objects whose RSSI, ManufacturerData and ServiceData change through
PropertiesChanged, and `AdvertisementMonitorManager1` (RegisterMonitor/UnregisterMonitor), which
delivers only what a registered monitor's or-patterns match, as bluetoothd does. What it cannot
show is the radio: real airtime, real BlueZ timing, kernel quirks; those need a real adapter.

It is driven from the test (advertise, power, remove the adapter, restart, stall) on the test's own
event loop, and it sends raw messages, so a test can also send what a broken bluetoothd might:
wrong types, truncated data.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

DBUS_DAEMON = shutil.which("dbus-daemon") or (
    "/usr/bin/dbus-daemon" if Path("/usr/bin/dbus-daemon").exists() else None
)

BLUEZ = "org.bluez"
ADAPTER = "org.bluez.Adapter1"
DEVICE = "org.bluez.Device1"
MONITOR_MANAGER = "org.bluez.AdvertisementMonitorManager1"
MONITOR = "org.bluez.AdvertisementMonitor1"
OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager"
PROPERTIES = "org.freedesktop.DBus.Properties"
BASE_UUID_TAIL = "-0000-1000-8000-00805f9b34fb"

# Policies for the private bus: everyone may do everything, or (to show the doctor a locked-down
# device) nobody may call bluetoothd.
OPEN_POLICY = (
    '<allow user="*"/><allow own="*"/><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/>'
)
LOCKED_POLICY = OPEN_POLICY + '<deny send_destination="org.bluez"/>'


class PrivateSystemBus:
    """A `dbus-daemon` of type system on a socket in a temporary folder."""

    def __init__(self, workdir: Path, policy: str = OPEN_POLICY) -> None:
        assert DBUS_DAEMON is not None
        socket = workdir / "system_bus_socket"
        self.address = f"unix:path={socket}"
        self.conf = workdir / "system.conf"
        self.conf.write_text(
            '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"\n'
            ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n'
            f"<busconfig><type>system</type><listen>{self.address}</listen><auth>EXTERNAL</auth>"
            f'<policy context="default">{policy}</policy></busconfig>\n'
        )
        self.socket = socket
        self.log = workdir / "dbus-daemon.log"
        self.start()

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [DBUS_DAEMON, f"--config-file={self.conf}", "--nofork", "--nopidfile", "--print-address=1"],
                stdout=subprocess.PIPE,
                stderr=log,
            )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # printed once the socket listens
        if not line:
            raise RuntimeError(f"dbus-daemon did not start: {self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.socket.unlink(missing_ok=True)

    def restart(self) -> None:
        """dbus-daemon restarts on the same socket: every connection to it is cut."""
        self.stop()
        self.start()


@contextlib.contextmanager
def private_system_bus(workdir: Path, policy: str = OPEN_POLICY) -> Iterator[PrivateSystemBus]:
    bus = PrivateSystemBus(workdir, policy)
    saved = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address  # read by dbus-fast, hence bleak
    try:
        yield bus
    finally:
        if saved is None:
            os.environ.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = saved
        bus.stop()


def device_path(adapter: str, address: str) -> str:
    return f"/org/bluez/{adapter}/dev_{address.replace(':', '_')}"


def uuid16(uuid: str) -> bytes | None:
    """A Bluetooth base UUID's 16-bit short form, little-endian as on air."""
    if uuid.startswith("0000") and uuid.endswith(BASE_UUID_TAIL):
        return int(uuid[4:8], 16).to_bytes(2, "little")
    return None


@dataclass
class Monitor:
    """A client's advertisement monitor: its or-patterns, once BlueZ has read them."""

    owner: str
    path: str
    patterns: list[tuple[int, int, bytes]] = field(default_factory=list)

    def matches(self, structures: list[tuple[int, bytes]]) -> bool:
        return any(
            ad_type == kind and content[start : start + len(value)] == value
            for start, kind, value in self.patterns
            for ad_type, content in structures
        )


class BlueZStandin:
    """A fake bluetoothd on the private bus: one adapter, devices that advertise on command."""

    def __init__(self, address: str, adapter: str = "hci0", monitor_manager: bool = True) -> None:
        self.address = address
        self.adapter = adapter
        self.adapter_path = f"/org/bluez/{adapter}"
        self.monitor_manager = monitor_manager  # BlueZ with --experimental (or 5.56+ with it on)
        self.bus: MessageBus | None = None
        self.objects: dict[str, dict[str, dict[str, Variant]]] = {}
        self.sessions: set[str] = set()  # clients that called StartDiscovery
        self.filters: dict[str, dict[str, Any]] = {}  # SetDiscoveryFilter, by client
        self.monitors: dict[tuple[str, str], Monitor] = {}
        self.stalled = False  # discovery "on" but the controller reports nothing, until restarted
        self.calls: list[str] = []  # method names, in order, for tests that check what bleak asked

    # -- life cycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, take the name org.bluez and announce the adapter, as bluetoothd does on start."""
        bus = await MessageBus(bus_address=self.address).connect()
        bus.add_message_handler(self._on_message)
        await self._call(
            bus,
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "AddMatch",
            "s",
            [f"type='signal',interface='{OBJECT_MANAGER}',member='InterfacesAdded'"],
        )
        self.bus = bus
        await bus.request_name(BLUEZ)
        self.add_adapter()

    def stop(self) -> None:
        """bluetoothd exits: its name leaves the bus, and with it every object and session."""
        if self.bus is not None:
            self.bus.disconnect()
            self.bus = None
        self.objects.clear()
        self.sessions.clear()
        self.filters.clear()
        self.monitors.clear()

    async def restart(self) -> None:
        self.stop()
        await asyncio.sleep(0.05)
        await self.start()

    # -- the adapter -----------------------------------------------------------------------------

    def add_adapter(self, powered: bool = True) -> None:
        interfaces: dict[str, dict[str, Variant]] = {
            ADAPTER: {
                "Address": Variant("s", "00:1A:7D:DA:71:13"),
                "Name": Variant("s", "maitre-gw"),
                "Alias": Variant("s", "maitre-gw"),
                "Powered": Variant("b", powered),
                "Discovering": Variant("b", False),
                "Roles": Variant("as", ["central", "peripheral"]),
            }
        }
        if self.monitor_manager:
            interfaces[MONITOR_MANAGER] = {
                "SupportedMonitorTypes": Variant("as", ["or_patterns"]),
                "SupportedFeatures": Variant("as", []),
            }
        self.objects[self.adapter_path] = interfaces
        self._signal("/", OBJECT_MANAGER, "InterfacesAdded", "oa{sa{sv}}", [self.adapter_path, interfaces])

    def remove_adapter(self) -> None:
        """The adapter is unplugged: it and every device under it go."""
        for path in [p for p in self.objects if p.startswith(self.adapter_path + "/")]:
            self.remove_device_path(path)
        interfaces = self.objects.pop(self.adapter_path, {})
        self.sessions.clear()
        self.filters.clear()
        self._signal("/", OBJECT_MANAGER, "InterfacesRemoved", "oas", [self.adapter_path, list(interfaces)])

    def set_powered(self, powered: bool) -> None:
        """Power the adapter off (rfkill, `bluetoothctl power off`) or on; off ends every discovery."""
        changed = {"Powered": Variant("b", powered)}
        if not powered:
            self.sessions.clear()
            changed["Discovering"] = Variant("b", False)
        self._set_adapter(changed)

    @property
    def powered(self) -> bool:
        adapter = self.objects.get(self.adapter_path, {}).get(ADAPTER)
        return bool(adapter and adapter["Powered"].value)

    @property
    def active_monitors(self) -> list[Monitor]:
        return [m for m in self.monitors.values() if m.patterns]

    # -- devices -----------------------------------------------------------------------------------

    def advertise(
        self,
        address: str,
        rssi: int = -60,
        manufacturer: dict[int, bytes] | None = None,
        service: dict[str, bytes] | None = None,
        *,
        raw: dict[str, Variant] | None = None,
    ) -> bool:
        """One advertisement heard by the controller; False if nobody asked to hear it.

        `raw` replaces the properties sent, for values a broken stack might send.
        """
        if self.bus is None or not self.powered or self.stalled:
            return False
        manufacturer = manufacturer or {}
        service = service or {}
        if not self.sessions and not self._monitored(manufacturer, service):
            return False
        props = raw or {
            "RSSI": Variant("n", rssi),
            "ManufacturerData": Variant("a{qv}", {k: Variant("ay", v) for k, v in manufacturer.items()}),
            "ServiceData": Variant("a{sv}", {k: Variant("ay", v) for k, v in service.items()}),
        }
        path = device_path(self.adapter, address)
        known = self.objects.get(path)
        if known is None:
            device = {
                "Address": Variant("s", address),
                "AddressType": Variant("s", "random"),
                "Alias": Variant("s", address.replace(":", "-")),
                "Adapter": Variant("o", self.adapter_path),
                "Paired": Variant("b", False),
                "Connected": Variant("b", False),
                "UUIDs": Variant("as", list(service)),
                **props,
            }
            self.objects[path] = {DEVICE: device}
            self._signal("/", OBJECT_MANAGER, "InterfacesAdded", "oa{sa{sv}}", [path, {DEVICE: device}])
        else:
            known[DEVICE].update(props)
            self._signal(path, PROPERTIES, "PropertiesChanged", "sa{sv}as", [DEVICE, props, []])
        return True

    def announce(self, address: str, props: dict[str, Variant]) -> None:
        """A new device object with exactly these properties (a broken bluetoothd's, say)."""
        path = device_path(self.adapter, address)
        self.objects[path] = {DEVICE: props}
        self._signal("/", OBJECT_MANAGER, "InterfacesAdded", "oa{sa{sv}}", [path, {DEVICE: props}])

    def change(self, address: str, props: dict[str, Variant]) -> None:
        """Send a PropertiesChanged for a device, known or not (one that vanished mid-update)."""
        self._signal(
            device_path(self.adapter, address),
            PROPERTIES,
            "PropertiesChanged",
            "sa{sv}as",
            [DEVICE, props, []],
        )

    def remove_device(self, address: str) -> None:
        self.remove_device_path(device_path(self.adapter, address))

    def remove_device_path(self, path: str) -> None:
        """BlueZ forgets a device (its temporary timeout): InterfacesRemoved."""
        interfaces = self.objects.pop(path, None)
        if interfaces is not None:
            self._signal("/", OBJECT_MANAGER, "InterfacesRemoved", "oas", [path, list(interfaces)])

    def device_count(self) -> int:
        return sum(1 for interfaces in self.objects.values() if DEVICE in interfaces)

    # -- D-Bus ---------------------------------------------------------------------------------------

    def _monitored(self, manufacturer: dict[int, bytes], service: dict[str, bytes]) -> bool:
        structures = [(0xFF, company.to_bytes(2, "little") + data) for company, data in manufacturer.items()]
        for uuid, data in service.items():
            short = uuid16(uuid)
            if short is not None:
                structures.append((0x16, short + data))
        return any(m.matches(structures) for m in self.active_monitors)

    def _set_adapter(self, changed: dict[str, Variant]) -> None:
        adapter = self.objects.get(self.adapter_path, {}).get(ADAPTER)
        if adapter is None:
            return
        adapter.update(changed)
        self._signal(self.adapter_path, PROPERTIES, "PropertiesChanged", "sa{sv}as", [ADAPTER, changed, []])

    def _signal(self, path: str, interface: str, member: str, signature: str, body: list[Any]) -> None:
        self._send(Message.new_signal(path, interface, member, signature, body))

    def _send(self, msg: Message) -> None:
        if self.bus is not None:
            # A write on a bus that has just died fails; bluetoothd would not care either.
            self.bus.send(msg).add_done_callback(lambda f: f.cancelled() or f.exception())

    async def _call(
        self,
        bus: MessageBus,
        destination: str,
        path: str,
        interface: str,
        member: str,
        sig: str,
        body: list[Any],
    ) -> Message | None:
        return await bus.call(
            Message(
                destination=destination,
                path=path,
                interface=interface,
                member=member,
                signature=sig,
                body=body,
            )
        )

    def _on_message(self, msg: Message) -> Message | bool | None:
        if msg.message_type == MessageType.SIGNAL:
            if msg.member == "InterfacesAdded" and msg.sender != (self.bus and self.bus.unique_name):
                self._monitor_exported(msg)
            return None
        if msg.message_type != MessageType.METHOD_CALL:
            return None
        self.calls.append(msg.member)
        try:
            return self._answer(msg)
        except _Refused as exc:
            return Message.new_error(msg, exc.name, exc.text)

    def _answer(self, msg: Message) -> Message | None:
        member, path, interface = msg.member, msg.path, msg.interface
        if interface == OBJECT_MANAGER and member == "GetManagedObjects" and path == "/":
            return Message.new_method_return(msg, "a{oa{sa{sv}}}", [self.objects])
        interfaces = self.objects.get(path or "")
        if interfaces is None:
            raise _Refused("org.freedesktop.DBus.Error.UnknownObject", f"no object {path}")
        if interface == PROPERTIES and member in ("Get", "GetAll"):
            props = interfaces.get(msg.body[0])
            if props is None:
                raise _Refused("org.freedesktop.DBus.Error.InvalidArgs", f"no interface {msg.body[0]}")
            if member == "GetAll":
                return Message.new_method_return(msg, "a{sv}", [props])
            if msg.body[1] not in props:
                raise _Refused("org.freedesktop.DBus.Error.InvalidArgs", f"no property {msg.body[1]}")
            return Message.new_method_return(msg, "v", [props[msg.body[1]]])
        if interface == ADAPTER and ADAPTER in interfaces:
            return self._adapter_call(msg)
        if interface == MONITOR_MANAGER and MONITOR_MANAGER in interfaces:
            return self._monitor_call(msg)
        # What GDBus answers bluetoothd's callers for an interface the object does not have.
        raise _Refused(
            "org.freedesktop.DBus.Error.UnknownMethod",
            f"Method {member} with signature {msg.signature} on interface {interface} doesn't exist",
        )

    def _adapter_call(self, msg: Message) -> Message:
        sender = msg.sender or ""
        if not self.powered and msg.member in ("SetDiscoveryFilter", "StartDiscovery", "StopDiscovery"):
            raise _Refused("org.bluez.Error.NotReady", "Resource Not Ready")
        if msg.member == "SetDiscoveryFilter":
            self.filters[sender] = {k: v.value for k, v in msg.body[0].items()}
        elif msg.member == "StartDiscovery":
            self.sessions.add(sender)
            self.stalled = False  # a fresh scan is what clears a stuck controller
            self._set_adapter({"Discovering": Variant("b", True)})
        elif msg.member == "StopDiscovery":
            if sender not in self.sessions:
                raise _Refused("org.bluez.Error.Failed", "No discovery started")
            self.sessions.discard(sender)
            if not self.sessions:
                self._set_adapter({"Discovering": Variant("b", False)})
        else:
            raise _Refused("org.freedesktop.DBus.Error.UnknownMethod", f"no method {msg.member}")
        return Message.new_method_return(msg)

    def _monitor_call(self, msg: Message) -> Message:
        key = (msg.sender or "", msg.body[0])
        if msg.member == "RegisterMonitor":
            if key in self.monitors:
                raise _Refused("org.bluez.Error.AlreadyExists", "Already Exists")
            self.monitors[key] = Monitor(*key)
        elif msg.member == "UnregisterMonitor":
            if self.monitors.pop(key, None) is None:
                raise _Refused("org.bluez.Error.DoesNotExist", "Does Not Exist")
        else:
            raise _Refused("org.freedesktop.DBus.Error.UnknownMethod", f"no method {msg.member}")
        return Message.new_method_return(msg)

    def _monitor_exported(self, msg: Message) -> None:
        """A client exported the monitor it registered: read its or-patterns and activate it."""
        path, interfaces = msg.body
        monitor = self.monitors.get((msg.sender or "", path))
        props = interfaces.get(MONITOR)
        if monitor is None or props is None:
            return
        if props["Type"].value != "or_patterns":
            return
        monitor.patterns = [(start, kind, bytes(value)) for start, kind, value in props["Patterns"].value]
        self._send(Message(destination=monitor.owner, path=path, interface=MONITOR, member="Activate"))


class _Refused(Exception):
    def __init__(self, name: str, text: str) -> None:
        super().__init__(text)
        self.name = name
        self.text = text
