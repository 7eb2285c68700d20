"""Watches bluetoothd and the adapter on the system bus, so the scanner restarts when they change under it.

bleak keeps scanning state in bluetoothd: when bluetoothd restarts, or the adapter is powered off
or unplugged, the discovery session or monitor bleak set up is gone, and nothing tells bleak's
scanner. Without this watch the gateway would hear nothing until the watchdog noticed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus

log = logging.getLogger("maitre.gateway")

BLUEZ = "org.bluez"
ADAPTER_INTERFACE = "org.bluez.Adapter1"
MATCH_RULES = (
    "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
    f"member='NameOwnerChanged',arg0='{BLUEZ}'",
    "type='signal',interface='org.freedesktop.DBus.ObjectManager',member='InterfacesAdded',arg0path='/org/bluez/'",
    "type='signal',interface='org.freedesktop.DBus.ObjectManager',member='InterfacesRemoved',arg0path='/org/bluez/'",
    "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
    f"arg0='{ADAPTER_INTERFACE}'",
)


def adapter_change(msg: Message, adapter: str | None) -> str | None:
    """What a signal means for scanning on `adapter` (None: any), or None if it changes nothing."""
    if msg.message_type != MessageType.SIGNAL:
        return None
    member, body = msg.member, msg.body
    try:
        if member == "NameOwnerChanged":
            return "bluetoothd joined the system bus" if body[2] else "bluetoothd left the system bus"
        if member == "PropertiesChanged":
            path = msg.path or ""
            powered = body[1].get("Powered")
            if powered is None or not _ours(path, adapter):
                return None
            return f"adapter {_name(path)} powered {'on' if powered.value else 'off'}"
        if member in ("InterfacesAdded", "InterfacesRemoved"):
            path, interfaces = body
            if ADAPTER_INTERFACE not in interfaces or not _ours(path, adapter):
                return None
            return f"adapter {_name(path)} {'appeared' if member == 'InterfacesAdded' else 'was removed'}"
    except (AttributeError, IndexError, TypeError, ValueError):  # a signal not shaped like BlueZ's
        return None
    return None


def _ours(path: str, adapter: str | None) -> bool:
    if path.count("/") != 3:  # /org/bluez/hciN; devices sit below their adapter
        return False
    return adapter is None or path == f"/org/bluez/{adapter}"


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


class BlueZWatch:
    """Calls `on_change` with a reason whenever bluetoothd or the adapter comes, goes or powers on or off."""

    def __init__(self, on_change: Callable[[str], None], adapter: str | None, retry: float) -> None:
        self.on_change = on_change
        self.adapter = adapter
        self.retry = retry
        self.connected = False

    async def run(self) -> None:
        """Watch until cancelled; a lost system bus is reconnected every `retry` seconds."""
        warned = lost = False
        while True:
            bus: MessageBus | None = None
            try:
                bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
                bus.add_message_handler(self._on_message)
                for rule in MATCH_RULES:
                    await self._add_match(bus, rule)
                self.connected, warned = True, False
                if lost:  # dbus-daemon restarted: bleak reconnects only when its scan starts again
                    self.on_change("the system bus is back")
                await bus.wait_for_disconnect()
                lost = True
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # no system bus (yet): the scanner's own retries still run
                if not warned:
                    log.warning("cannot watch bluetoothd on the system bus (%s); retrying", exc)
                    warned = True
            finally:
                self.connected = False
                if bus is not None:
                    with contextlib.suppress(Exception):
                        bus.disconnect()
            await asyncio.sleep(self.retry)

    def _on_message(self, msg: Message) -> None:
        reason = adapter_change(msg, self.adapter)
        if reason is not None:
            self.on_change(reason)

    @staticmethod
    async def _add_match(bus: MessageBus, rule: str) -> None:
        reply: Any = await bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="AddMatch",
                signature="s",
                body=[rule],
            )
        )
        if reply is None or reply.message_type == MessageType.ERROR:
            raise RuntimeError(f"the bus refused to watch {rule!r}: {reply and reply.body}")
