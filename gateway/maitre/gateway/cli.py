"""The `maitre-gateway` command: run the agent in the field (or on a simulated crowd), decode by hand."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import re
import signal
import sqlite3
from pathlib import Path
from typing import Any

from maitre import wire
from maitre.gateway.ad import parse_advertising_data
from maitre.gateway.advertisement import Advertisement
from maitre.gateway.beacons import identify, telemetry
from maitre.gateway.settings import (
    DEFAULT_INTERVAL,
    DEFAULT_TELEMETRY_INTERVAL,
    DEFAULT_WATCHDOG_SECONDS,
    RunSettings,
)
from maitre.gateway.spool import DEFAULT_MAX_BATCHES
from maitre.mqtt import BrokerAddress

log = logging.getLogger("maitre.gateway")

_HEX_RE = re.compile(r"[0-9a-fA-F]*")


def default_spool() -> Path:
    """systemd's StateDirectory= when run as a service, else the user's state directory."""
    state = os.environ.get("STATE_DIRECTORY") or Path.home() / ".local" / "state" / "maitre-gateway"
    return Path(state) / "spool.sqlite3"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="maitre-gateway", description="Maître gateway agent")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="scan for bands and beacons and publish batches to the venue service")
    run.add_argument("--venue", required=True, help="venue name, as registered with the service")
    run.add_argument("--gateway", required=True, help="this gateway's name, as registered with the service")
    run.add_argument(
        "--mqtt-url",
        default=os.environ.get("MAITRE_MQTT_URL"),
        help="mqtt://[user:pass@]host[:port] or mqtts://… (env MAITRE_MQTT_URL); "
        "with --simulate and none given, an embedded broker",
    )
    run.add_argument(
        "--mqtt-ca-file",
        type=Path,
        default=os.environ.get("MAITRE_MQTT_CA_FILE"),
        help="for mqtts://: the private CA's certificate (ca.crt from `maitre gateways credentials`) "
        "to trust instead of the system's (env MAITRE_MQTT_CA_FILE)",
    )
    run.add_argument("--adapter", help="Bluetooth adapter, e.g. hci0 (default: the system's default)")
    run.add_argument(
        "--interval", type=float, default=DEFAULT_INTERVAL, help="batch window, seconds (default 0.5)"
    )
    run.add_argument(
        "--spool", type=Path, default=default_spool(), help="store-and-forward file (default %(default)s)"
    )
    run.add_argument(
        "--spool-max",
        type=int,
        default=DEFAULT_MAX_BATCHES,
        help="batches kept while the broker is away; beyond, the oldest go (default %(default)s)",
    )
    mode = run.add_mutually_exclusive_group()
    mode.add_argument(
        "--passive",
        dest="scanning",
        action="store_const",
        const="passive",
        help="listen only (default); falls back to active where the radio cannot",
    )
    mode.add_argument(
        "--active", dest="scanning", action="store_const", const="active", help="ask for scan responses"
    )
    run.add_argument(
        "--ibeacon-uuid", action="append", default=[], metavar="UUID", help="allow only these iBeacon UUIDs"
    )
    run.add_argument(
        "--eddystone-namespace",
        action="append",
        default=[],
        metavar="NS",
        help="allow only these Eddystone namespaces",
    )
    run.add_argument("--telemetry-interval", type=float, default=DEFAULT_TELEMETRY_INTERVAL, help="seconds")
    run.add_argument(
        "--watchdog",
        type=float,
        default=DEFAULT_WATCHDOG_SECONDS,
        metavar="SECONDS",
        help="restart a scan that heard nothing for this long (default %(default)s); counted in telemetry",
    )
    run.add_argument(
        "--packed",
        dest="encoding",
        action="store_const",
        const="packed",
        default="json",
        help="send sighting batches packed (columns of numbers, a quarter of JSON's bytes; "
        "the venue service must be this version or newer)",
    )
    run.add_argument(
        "--simulate", action="store_true", help="hear the simulated demo bistro's crowd instead of a radio"
    )
    run.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")

    decode = sub.add_parser("decode", help="decode raw advertising data, one JSON object per line")
    decode.add_argument(
        "hex", nargs="+", metavar="HEX", help="advertising data in hex, spaces and colons allowed"
    )

    doctor = sub.add_parser(
        "doctor", help="check what this device needs to run the gateway; print the fix for each problem"
    )
    doctor.add_argument("--adapter", help="Bluetooth adapter to check, e.g. hci0 (default: the first one)")
    doctor.add_argument(
        "--mqtt-url",
        default=os.environ.get("MAITRE_MQTT_URL"),
        help="the gateway's broker URL (env MAITRE_MQTT_URL)",
    )
    doctor.add_argument(
        "--spool", type=Path, default=default_spool(), help="spool file (default %(default)s)"
    )

    args = parser.parse_args(argv)
    if args.command == "decode":
        return _decode(args.hex)
    if args.command == "doctor":
        return _doctor(doctor, args)
    return _run(run, args)


# -- run ----------------------------------------------------------------------------------------------


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for option, name in (("--venue", args.venue), ("--gateway", args.gateway)):
        if not wire.is_valid_name(name):
            parser.error(f"{option} {name!r}: use 1-64 of A-Z a-z 0-9 _ -")
    try:
        settings = RunSettings(
            interval=args.interval,
            scanning=args.scanning or "passive",
            ibeacon_uuids=tuple(args.ibeacon_uuid),
            eddystone_namespaces=tuple(args.eddystone_namespace),
            telemetry_interval=args.telemetry_interval,
            encoding=args.encoding,
        )
        settings.filters()
    except ValueError as exc:
        parser.error(f"{_option_for(str(exc))}: {exc}")
    if args.spool_max < 1:
        parser.error("--spool-max: keep at least one batch")
    if not args.watchdog > 0:
        parser.error("--watchdog: give a positive number of seconds")

    broker: BrokerAddress | None = None
    if args.mqtt_url:
        try:
            broker = BrokerAddress.parse(args.mqtt_url)
        except ValueError as exc:
            parser.error(f"--mqtt-url: {exc}")
        if args.mqtt_ca_file is not None:
            if not broker.tls:
                parser.error("--mqtt-ca-file is for mqtts:// URLs only")
            if not Path(args.mqtt_ca_file).is_file():
                parser.error(f"--mqtt-ca-file {args.mqtt_ca_file}: no such file")
            broker = dataclasses.replace(broker, ca_file=str(args.mqtt_ca_file))
    elif not args.simulate:
        parser.error("--mqtt-url (or MAITRE_MQTT_URL) is required")

    from maitre.gateway.spool import Spool

    source, air = _source(parser, args)
    try:
        spool = Spool(args.spool, max_batches=args.spool_max)
    except (OSError, sqlite3.Error) as exc:
        parser.error(f"--spool {args.spool}: {exc}")

    embedded: Any = None
    if broker is None:
        embedded, broker = _embedded_broker(parser)
    try:
        log.info(
            "gateway %s/%s: broker %s, spool %s (%d waiting), %s",
            args.venue,
            args.gateway,
            broker.url(),
            args.spool,
            len(spool),
            "simulated crowd" if air else f"adapter {args.adapter or 'default'}",
        )
        asyncio.run(_serve(args, broker, settings, spool, source, air))
    except KeyboardInterrupt:
        pass
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


async def _serve(
    args: argparse.Namespace,
    broker: BrokerAddress,
    settings: RunSettings,
    spool: Any,
    source: Any,
    air: Any,
) -> None:
    from maitre.gateway.agent import GatewayAgent

    agent = GatewayAgent(args.venue, args.gateway, broker, settings, spool=spool)
    agent.on_telemetry = _print_telemetry
    if air is not None:
        agent.on_batch = _print_batch
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    # systemd stops a service with SIGTERM: finish like Ctrl-C, spooling the last window.
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, main.cancel)
    tasks = [asyncio.create_task(agent.run(source))]
    if air is not None:
        tasks.append(asyncio.create_task(air.run()))
    try:
        await asyncio.gather(*tasks)
    except asyncio.CancelledError:
        pass
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _source(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[Any, Any]:
    if args.simulate:
        from maitre.sim.demo_evening import demo_air, placements
        from maitre.sim.source import SimulatedSource

        air = demo_air(args.venue)
        if args.gateway not in placements(air):
            parser.error(f"--gateway {args.gateway!r}: with --simulate, one of {', '.join(placements(air))}")
        return SimulatedSource(air, args.gateway), air
    try:
        from maitre.gateway.sources.ble import BleakSource
    except ImportError as exc:
        parser.error(f"BLE scanning needs bleak: install maitre[gateway] ({exc})")
    scanning: wire.ScanningMode = args.scanning or "passive"
    return BleakSource(adapter=args.adapter, scanning=scanning, watchdog=args.watchdog), None


def _embedded_broker(parser: argparse.ArgumentParser) -> tuple[Any, BrokerAddress]:
    try:
        from maitre.broker import free_port, start_embedded_broker
    except ImportError:
        parser.error("--mqtt-url is required (no embedded broker installed: it comes with maitre[service])")
    return start_embedded_broker(free_port())


def _option_for(message: str) -> str:
    """Which command-line option a settings error is about."""
    for word, option in (
        ("telemetry", "--telemetry-interval"),
        ("interval", "--interval"),
        ("iBeacon", "--ibeacon-uuid"),
        ("Eddystone", "--eddystone-namespace"),
    ):
        if word in message:
            return option
    return "settings"


def _print_telemetry(t: wire.GatewayTelemetry) -> None:
    dropped = ", ".join(f"{k} {v}" for k, v in sorted(t.dropped.items())) or "none"
    errors = ", ".join(f"{k} {v}" for k, v in sorted(t.errors.items()))
    log.info(
        "%.0f adv/s, %d advertisers, %d batches, queue %d, scanning %s; dropped: %s%s",
        t.adv_rate,
        t.advertisers,
        t.batches,
        t.queue,
        t.scanning,
        dropped,
        f"; errors: {errors}" if errors else "",
    )


def _print_batch(batch: wire.SightingBatch) -> None:
    heard = ", ".join(f"{s.id} {s.rssi:.0f} dBm ×{s.n}" for s in batch.sightings)
    log.info("batch %d: %s", batch.seq, heard)


# -- doctor -------------------------------------------------------------------------------------------


def _doctor(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Print every check's finding; 1 if any is a problem (FAIL), for scripts and provisioning."""
    from maitre.gateway.doctor import Device, examine, render

    broker = None
    if args.mqtt_url:
        try:
            broker = BrokerAddress.parse(args.mqtt_url)
        except ValueError as exc:
            parser.error(f"--mqtt-url: {exc}")
    findings = asyncio.run(examine(Device(args.adapter, broker, args.spool)))
    print(render(findings), end="")
    return 1 if any(f.status == "FAIL" for f in findings) else 0


# -- decode -------------------------------------------------------------------------------------------


def _decode(texts: list[str]) -> int:
    """Print what each advertisement carries; 1 if any could not be read or held no known frame."""
    failed = False
    for text in texts:
        record = _describe(text)
        failed = failed or "error" in record
        print(json.dumps(record))
    return 1 if failed else 0


def _describe(text: str) -> dict[str, object]:
    record: dict[str, object] = {"hex": text}
    digits = re.sub(r"[\s:]", "", text)
    if not _HEX_RE.fullmatch(digits) or len(digits) % 2:
        record["error"] = "not hex: give pairs of hex digits, optionally separated by spaces or colons"
        return record
    try:
        adv = parse_advertising_data(bytes.fromhex(digits))
    except ValueError as exc:
        record["error"] = str(exc)
        return record
    frame = identify(adv)
    tlm = telemetry(adv)
    if frame is not None:
        record.update(frame=frame.kind, id=frame.ident, power_1m=frame.power)
    if tlm is not None:
        record.setdefault("frame", "eddystone-tlm")
        record.update(dataclasses.asdict(tlm))
    if frame is None and tlm is None:
        record["error"] = f"no known beacon frame in {_contents(adv)}"
    return record


def _contents(adv: Advertisement) -> str:
    parts = [f"manufacturer data of company 0x{company:04x}" for company in adv.manufacturer_data]
    parts += [f"service data of UUID 0x{uuid[4:8]}" for uuid in adv.service_data]
    return ", ".join(parts) or "an advertisement without manufacturer or service data"
