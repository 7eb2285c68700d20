"""`maitre-gateway doctor`: what an installer must get right on a device, each problem with its fix."""

from __future__ import annotations

import asyncio
import ctypes
import getpass
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from maitre.mqtt import BrokerAddress, make_client

Status = Literal["ok", "warn", "FAIL"]

BLUEZ = "org.bluez"
ADAPTER = "org.bluez.Adapter1"
MONITOR_MANAGER = "org.bluez.AdvertisementMonitorManager1"
# BlueZ's advertisement monitor, which passive scanning needs, arrived in 5.56.
PASSIVE_BLUEZ = (5, 56)
# Long enough for a broker across a venue's Wi-Fi, short enough for an installer waiting.
BROKER_TIMEOUT_SECONDS = 5.0
BLUETOOTHD_PATHS = ("/usr/libexec/bluetooth/bluetoothd", "/usr/lib/bluetooth/bluetoothd")
# adjtimex(2) answers TIME_ERROR while the kernel's clock is not synchronised (no NTP yet).
TIME_ERROR = 5


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's outcome; `fix` is the exact command that mends a problem."""

    check: str
    status: Status
    detail: str
    fix: str = ""


@dataclass(frozen=True, slots=True)
class Device:
    """What to examine: the adapter, broker and spool the gateway will run with."""

    adapter: str | None
    broker: BrokerAddress | None
    spool: Path
    user: str = ""  # whose permissions are checked; the current user when empty


def render(findings: list[Finding]) -> str:
    """The report an installer reads: one line per check, a `fix:` line under each problem."""
    problems = sum(f.status == "FAIL" for f in findings)
    warnings = sum(f.status == "warn" for f in findings)
    head = "maitre-gateway doctor: " + (
        "all good" if not problems and not warnings else f"{problems} problem(s), {warnings} warning(s)"
    )
    lines = [head, ""]
    for f in findings:
        lines.append(f"{f.status:<5} {f.check:<12} {f.detail}")
        for command in f.fix.splitlines():
            lines.append(f"{'':<5} {'':<12} fix: {command}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class HostFacts:
    """What the doctor reads from the host outside D-Bus and the network; tests give their own."""

    bluez_version: Callable[[], tuple[int, int] | None]
    clock_synchronised: Callable[[], bool | None]
    is_root: Callable[[], bool]


async def examine(device: Device, host: HostFacts | None = None) -> list[Finding]:
    """Every check, in the order an installer fixes things: bus, bluetoothd, adapter, broker, clock, spool."""
    host = host or HostFacts(installed_bluez_version, kernel_clock_synchronised, lambda: os.geteuid() == 0)
    user = device.user or getpass.getuser()
    findings = await _bluetooth(device.adapter, host.bluez_version(), user)
    findings.append(_user(user, host.is_root()))
    findings.append(await _run_in_thread(lambda: check_broker(device.broker)))
    findings.append(_clock(host.clock_synchronised()))
    findings.append(check_spool(device.spool, user))
    return findings


# -- Bluetooth ------------------------------------------------------------------------------------------


async def _bluetooth(adapter: str | None, version: tuple[int, int] | None, user: str) -> list[Finding]:
    from dbus_fast import BusType, Message, MessageType
    from dbus_fast.aio import MessageBus

    address = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS") or "unix:path=/run/dbus/system_bus_socket"
    try:
        bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
    except Exception as exc:
        return [
            Finding(
                "system bus",
                "FAIL",
                f"cannot connect to {address}: {exc}",
                "sudo systemctl enable --now dbus",
            )
        ]
    try:
        findings = [Finding("system bus", "ok", address)]
        owner = await bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="NameHasOwner",
                signature="s",
                body=[BLUEZ],
            )
        )
        if owner is None or owner.message_type == MessageType.ERROR or not owner.body[0]:
            findings.append(
                Finding(
                    "bluetoothd",
                    "FAIL",
                    "bluetoothd is not on the system bus",
                    "sudo systemctl enable --now bluetooth",
                )
            )
            return findings
        findings.append(_version(version))
        reply = await bus.call(
            Message(
                destination=BLUEZ,
                path="/",
                interface="org.freedesktop.DBus.ObjectManager",
                member="GetManagedObjects",
            )
        )
        if reply is None or reply.message_type == MessageType.ERROR:
            error = reply.error_name if reply is not None else "no reply"
            if error == "org.freedesktop.DBus.Error.AccessDenied":
                findings.append(
                    Finding(
                        "permissions",
                        "FAIL",
                        f"the D-Bus policy does not let {user} talk to bluetoothd",
                        f"sudo usermod -aG bluetooth {user}   # then log in again, or restart the service",
                    )
                )
            else:
                findings.append(
                    Finding(
                        "bluetoothd",
                        "FAIL",
                        f"bluetoothd did not answer: {error}",
                        "sudo systemctl restart bluetooth",
                    )
                )
            return findings
        findings.append(Finding("permissions", "ok", f"the D-Bus policy lets {user} talk to bluetoothd"))
        findings += _adapter(reply.body[0], adapter, version)
        return findings
    finally:
        bus.disconnect()


def _version(version: tuple[int, int] | None) -> Finding:
    if version is None:
        return Finding(
            "bluez",
            "warn",
            "bluetoothd answers, but its version is unknown (no bluetoothctl)",
            "sudo apt-get install -y bluez",
        )
    text = f"BlueZ {version[0]}.{version[1]}"
    if version < PASSIVE_BLUEZ:
        return Finding(
            "bluez",
            "warn",
            f"{text}: passive scanning needs 5.56 or later; the gateway will scan actively",
            "sudo apt-get update && sudo apt-get install --only-upgrade -y bluez",
        )
    return Finding("bluez", "ok", f"{text}, bluetoothd on the system bus")


def _adapter(objects: dict[str, Any], wanted: str | None, version: tuple[int, int] | None) -> list[Finding]:
    adapters = {path: interfaces for path, interfaces in objects.items() if ADAPTER in interfaces}
    if wanted is not None:
        path = f"/org/bluez/{wanted}"
        adapters = {path: adapters[path]} if path in adapters else {}
    if not adapters:
        which = wanted or "any adapter"
        return [
            Finding(
                "adapter",
                "FAIL",
                f"bluetoothd knows no {which}: unplugged, blocked by rfkill, or no driver",
                "sudo rfkill unblock bluetooth && sudo systemctl restart bluetooth",
            )
        ]
    path, interfaces = sorted(adapters.items())[0]
    name = path.rsplit("/", 1)[-1]
    powered = interfaces[ADAPTER].get("Powered")
    findings = []
    if powered is None or not powered.value:
        findings.append(
            Finding(
                "adapter",
                "FAIL",
                f"{name} is powered off",
                "sudo rfkill unblock bluetooth && "
                f"busctl set-property org.bluez {path} {ADAPTER} Powered b true",
            )
        )
    else:
        findings.append(Finding("adapter", "ok", f"{name} present and powered"))
    if MONITOR_MANAGER in interfaces:
        findings.append(
            Finding("passive", "ok", f"{name} offers BlueZ's advertisement monitor: passive scanning works")
        )
    elif version is not None and version < PASSIVE_BLUEZ:
        findings.append(
            Finding(
                "passive",
                "warn",
                "no advertisement monitor before BlueZ 5.56: the gateway will scan actively",
            )
        )
    else:
        findings.append(
            Finding(
                "passive",
                "warn",
                "bluetoothd runs without --experimental: no advertisement monitor, "
                "the gateway will scan actively",
                _experimental_fix(),
            )
        )
    return findings


def _experimental_fix() -> str:
    bluetoothd = next((p for p in BLUETOOTHD_PATHS if Path(p).exists()), BLUETOOTHD_PATHS[0])
    drop_in = "/etc/systemd/system/bluetooth.service.d/experimental.conf"
    return (
        f"sudo mkdir -p {Path(drop_in).parent} && printf '[Service]\\nExecStart=\\nExecStart={bluetoothd} "
        f"--experimental\\n' | sudo tee {drop_in}\n"
        "sudo systemctl daemon-reload && sudo systemctl restart bluetooth"
    )


def installed_bluez_version() -> tuple[int, int] | None:
    """BlueZ's version, as bluetoothctl tells it (bleak asks it the same way); None if it cannot."""
    program = shutil.which("bluetoothctl")
    if program is None:
        return None
    try:
        out = subprocess.run(  # noqa: S603 - bluetoothctl from PATH, a fixed argument
            [program, "--version"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"(\d+)\.(\d+)", out)
    return (int(match[1]), int(match[2])) if match else None


def _user(user: str, is_root: bool) -> Finding:
    if is_root:
        return Finding(
            "user",
            "warn",
            "running as root: the service's user may lack what root has (D-Bus policy, the spool)",
            "sudo -u maitre /opt/maitre-gateway/bin/maitre-gateway doctor",
        )
    return Finding(
        "user", "ok", f"{user}; no capabilities needed (the gateway scans through bluetoothd, not raw HCI)"
    )


# -- broker, clock, spool ------------------------------------------------------------------------------


def check_broker(broker: BrokerAddress | None) -> Finding:
    """Connect with the gateway's own credentials and wait for the broker's answer."""
    if broker is None:
        return Finding(
            "broker",
            "FAIL",
            "no broker URL (--mqtt-url or MAITRE_MQTT_URL)",
            "echo 'MAITRE_MQTT_URL=mqtts://GATEWAY:SECRET@VENUE-SERVER:8883' "
            "| sudo tee -a /etc/maitre-gateway.env",
        )
    answered = threading.Event()
    outcome: list[str] = []

    def on_connect(client: Any, userdata: object, flags: Any, reason: Any, properties: Any) -> None:
        outcome.append("" if not reason.is_failure else str(reason))
        answered.set()

    client = make_client(broker, client_id=f"maitre-doctor-{os.getpid()}")
    client.on_connect = on_connect
    where = f"{broker.host}:{broker.port}"
    try:
        client.connect(broker.host, broker.port, keepalive=10)
    except (OSError, ValueError) as exc:
        return Finding(
            "broker",
            "FAIL",
            f"cannot reach {where}: {exc}",
            f"nc -vz {broker.host} {broker.port}   # on the venue server: sudo systemctl restart mosquitto",
        )
    client.loop_start()
    try:
        if not answered.wait(BROKER_TIMEOUT_SECONDS):
            return Finding(
                "broker",
                "FAIL",
                f"{where} did not answer within {BROKER_TIMEOUT_SECONDS:.0f} s",
                f"nc -vz {broker.host} {broker.port}",
            )
    finally:
        client.disconnect()
        client.loop_stop()
    if outcome[0]:
        who = broker.username or "anonymous"
        return Finding(
            "broker",
            "FAIL",
            f"{where} refused {who}: {outcome[0]}",
            f"cat /etc/mosquitto/maitre/gateway-{who}.env   # on the venue server, from `maitre gateways "
            "credentials`; its MAITRE_MQTT_URL goes into /etc/maitre-gateway.env here",
        )
    return Finding(
        "broker", "ok", f"{where} accepts {broker.username or 'anonymous'}{' over TLS' if broker.tls else ''}"
    )


def kernel_clock_synchronised() -> bool | None:
    """The kernel's own word (adjtimex), as timedatectl reads it; None where it cannot be asked."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        timex = ctypes.create_string_buffer(512)  # struct timex, zeroed: modes 0 only reads
        state = libc.adjtimex(timex)
    except (OSError, AttributeError):
        return None
    return None if state < 0 else state != TIME_ERROR


def _clock(synchronised: bool | None) -> Finding:
    if synchronised is None:
        return Finding(
            "clock", "warn", "cannot ask the kernel whether the clock is synchronised", "timedatectl status"
        )
    if not synchronised:
        return Finding(
            "clock",
            "FAIL",
            "not synchronised: sightings would carry a wrong time and the service ignores them",
            "sudo timedatectl set-ntp true && timedatectl timesync-status",
        )
    return Finding("clock", "ok", "synchronised (NTP)")


def check_spool(path: Path, user: str) -> Finding:
    """Can the agent write its spool: take the file's write lock, or create a file in its folder."""
    folder = path.parent
    try:
        if path.exists():
            db = sqlite3.connect(path, timeout=2)
            try:
                db.execute("BEGIN IMMEDIATE")  # the write lock, then nothing written
                db.rollback()
            finally:
                db.close()
        else:
            tempfile.TemporaryFile(dir=folder).close()
    except (OSError, sqlite3.Error) as exc:
        fix = (
            f"sudo chown {user}: {path}" if path.exists() else f"sudo install -d -o {user} -g {user} {folder}"
        )
        return Finding("spool", "FAIL", f"cannot write {path}: {exc}", fix)
    return Finding("spool", "ok", f"{path} is writable" if path.exists() else f"{folder} is writable")


async def _run_in_thread(work: Callable[[], Finding]) -> Finding:
    return await asyncio.get_running_loop().run_in_executor(None, work)
