"""The `maitre-gateway` command: decode raw advertisements by hand."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re

from gateway.ad import parse_advertising_data
from gateway.advertisement import Advertisement
from gateway.beacons import identify, telemetry

_HEX_RE = re.compile(r"[0-9a-fA-F]*")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="maitre-gateway", description="Maître gateway agent")
    sub = parser.add_subparsers(dest="command", required=True)

    decode = sub.add_parser("decode", help="decode raw advertising data, one JSON object per line")
    decode.add_argument(
        "hex", nargs="+", metavar="HEX", help="advertising data in hex, spaces and colons allowed"
    )

    # The agent's `run` subcommand (issue 3) is still to come: declare it here, dispatch on args.command.
    args = parser.parse_args(argv)
    return _decode(args.hex)


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
