"""`maitre-gateway doctor` against the BlueZ stand-in on a private system bus and a real broker."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from maitre.gateway.doctor import Device, Finding, HostFacts, examine, render
from maitre.mqtt import BrokerAddress
from tests.bluez_standin import (
    DBUS_DAEMON,
    LOCKED_POLICY,
    BlueZStandin,
    PrivateSystemBus,
    private_system_bus,
)
from tests.conftest import MOSQUITTO, MosquittoProcess, missing

pytestmark = pytest.mark.e2e  # a dbus-daemon per test

# A Raspberry Pi OS Bookworm device, synchronised, the service's own user.
BOOKWORM = HostFacts(bluez_version=lambda: (5, 66), clock_synchronised=lambda: True, is_root=lambda: False)


@pytest.fixture
def system_bus(tmp_path: Path) -> Iterator[PrivateSystemBus]:
    if DBUS_DAEMON is None:
        missing("dbus-daemon is not installed (Debian package dbus)")
    with private_system_bus(tmp_path) as bus:
        yield bus


async def diagnose(
    bus: PrivateSystemBus,
    broker: BrokerAddress | None,
    spool: Path,
    host: HostFacts = BOOKWORM,
    **standin: bool,
) -> dict[str, Finding]:
    bluez = BlueZStandin(bus.address, monitor_manager=standin.pop("monitor_manager", True))
    await bluez.start()
    if not standin.pop("powered", True):
        bluez.set_powered(False)
    try:
        findings = await examine(Device("hci0", broker, spool, user="maitre"), host)
    finally:
        bluez.stop()
    print(render(findings))  # what the gateway guide shows
    return {f.check: f for f in findings}


def problems(findings: dict[str, Finding]) -> dict[str, str]:
    return {name: f.status for name, f in findings.items() if f.status != "ok"}


async def test_a_healthy_device_gets_all_good_and_no_fixes(
    system_bus: PrivateSystemBus, broker: BrokerAddress, tmp_path: Path
) -> None:
    findings = await diagnose(system_bus, broker, tmp_path / "spool.sqlite3")
    assert problems(findings) == {}
    assert list(findings) == [
        "system bus",
        "bluez",
        "permissions",
        "adapter",
        "passive",
        "user",
        "broker",
        "clock",
        "spool",
    ]
    assert render(list(findings.values())).startswith("maitre-gateway doctor: all good\n")


async def test_an_adapter_powered_off_is_named_with_the_command_that_powers_it(
    system_bus: PrivateSystemBus, broker: BrokerAddress, tmp_path: Path
) -> None:
    findings = await diagnose(system_bus, broker, tmp_path / "spool.sqlite3", powered=False)
    assert problems(findings) == {"adapter": "FAIL"}
    assert findings["adapter"].detail == "hci0 is powered off"
    assert findings["adapter"].fix == (
        "sudo rfkill unblock bluetooth && "
        "busctl set-property org.bluez /org/bluez/hci0 org.bluez.Adapter1 Powered b true"
    )


async def test_bluez_without_experimental_features_is_a_warning_with_the_drop_in_that_turns_them_on(
    system_bus: PrivateSystemBus, broker: BrokerAddress, tmp_path: Path
) -> None:
    findings = await diagnose(system_bus, broker, tmp_path / "spool.sqlite3", monitor_manager=False)
    assert problems(findings) == {"passive": "warn"}
    assert "--experimental" in findings["passive"].detail
    assert "bluetooth.service.d/experimental.conf" in findings["passive"].fix
    assert "systemctl restart bluetooth" in findings["passive"].fix


async def test_old_bluez_is_told_to_upgrade_not_to_turn_on_what_it_lacks(
    system_bus: PrivateSystemBus, broker: BrokerAddress, tmp_path: Path
) -> None:
    old = HostFacts(bluez_version=lambda: (5, 53), clock_synchronised=lambda: True, is_root=lambda: False)
    findings = await diagnose(system_bus, broker, tmp_path / "spool.sqlite3", old, monitor_manager=False)
    assert problems(findings) == {"bluez": "warn", "passive": "warn"}
    assert "--only-upgrade" in findings["bluez"].fix
    assert findings["passive"].fix == ""


async def test_a_broker_refusing_the_gateways_credentials_is_a_problem(
    system_bus: PrivateSystemBus, tmp_path: Path
) -> None:
    if MOSQUITTO is None:
        missing("mosquitto is not installed")
    mosquitto = MosquittoProcess(tmp_path, anonymous=False)
    mosquitto.start()
    try:
        address = BrokerAddress("127.0.0.1", mosquitto.port, username="door", password="wrong")
        findings = await diagnose(system_bus, address, tmp_path / "spool.sqlite3")
    finally:
        mosquitto.stop()
    assert problems(findings) == {"broker": "FAIL"}
    assert "refused door" in findings["broker"].detail
    assert "gateway-door.env" in findings["broker"].fix


async def test_an_unreachable_broker_and_an_unsynchronised_clock_and_an_unwritable_spool_are_each_named(
    system_bus: PrivateSystemBus, tmp_path: Path
) -> None:
    (tmp_path / "not-a-folder").write_text("")
    drifting = HostFacts(
        bluez_version=lambda: (5, 66), clock_synchronised=lambda: False, is_root=lambda: False
    )
    findings = await diagnose(
        system_bus, BrokerAddress("127.0.0.1", 9), tmp_path / "not-a-folder" / "spool.sqlite3", drifting
    )
    assert problems(findings) == {"broker": "FAIL", "clock": "FAIL", "spool": "FAIL"}
    assert findings["clock"].fix == "sudo timedatectl set-ntp true && timedatectl timesync-status"
    assert findings["spool"].fix == f"sudo install -d -o maitre -g maitre {tmp_path / 'not-a-folder'}"


async def test_a_d_bus_policy_that_shuts_the_user_out_of_bluetoothd_says_which_group_to_join(
    tmp_path: Path, broker: BrokerAddress
) -> None:
    if DBUS_DAEMON is None:
        missing("dbus-daemon is not installed (Debian package dbus)")
    with private_system_bus(tmp_path, LOCKED_POLICY) as bus:
        findings = await diagnose(bus, broker, tmp_path / "spool.sqlite3")
    assert problems(findings) == {"permissions": "FAIL"}
    assert findings["permissions"].fix.startswith("sudo usermod -aG bluetooth maitre")


async def test_no_bluetoothd_on_the_bus_is_named_with_the_command_that_starts_it(
    system_bus: PrivateSystemBus, broker: BrokerAddress, tmp_path: Path
) -> None:
    findings = await examine(Device(None, broker, tmp_path / "spool.sqlite3", user="maitre"), BOOKWORM)
    by_check = {f.check: f for f in findings}
    assert by_check["bluetoothd"].status == "FAIL"
    assert by_check["bluetoothd"].fix == "sudo systemctl enable --now bluetooth"


async def test_the_command_prints_the_report_and_fails_when_something_must_be_fixed(
    system_bus: PrivateSystemBus, broker: BrokerAddress, tmp_path: Path
) -> None:
    bluez = BlueZStandin(system_bus.address)
    await bluez.start()
    bluez.set_powered(False)
    command = [
        sys.executable,
        "-c",
        "from maitre.gateway.cli import main; raise SystemExit(main())",
        *[
            "doctor",
            "--adapter",
            "hci0",
            "--mqtt-url",
            broker.url(),
            "--spool",
            str(tmp_path / "spool.sqlite3"),
        ],
    ]
    try:
        # The stand-in answers on this loop, so the command runs beside it, not blocking it.
        proc = await asyncio.create_subprocess_exec(
            *command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        bluez.stop()
    report = out.decode()
    assert proc.returncode == 1, report
    assert "FAIL  adapter      hci0 is powered off" in report
    assert "fix: sudo rfkill unblock bluetooth && busctl set-property org.bluez /org/bluez/hci0" in report
    assert "ok    broker" in report and "ok    spool" in report
