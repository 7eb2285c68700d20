"""The `maitre` command: demo, serve, token, schemas."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

SCHEMA_DIR = Path("docs/schemas")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="maitre", description="Maître venue service")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run broker, service, demo data and simulated crowd in one process")
    demo.add_argument("--mqtt-url", help="use this broker instead of the embedded one (env MAITRE_MQTT_URL)")
    demo.add_argument("--database-url", help=f"default: a fresh sqlite:///{'maitre-demo.db'} each run")
    demo.add_argument("--port", type=int, help="HTTP port (default 8000, env MAITRE_HTTP_PORT)")
    demo.add_argument(
        "--duration", type=float, help="stop after this many seconds (default: run until Ctrl-C)"
    )

    serve = sub.add_parser("serve", help="run the venue service (settings from MAITRE_* variables)")
    serve.add_argument("--port", type=int, help="HTTP port (env MAITRE_HTTP_PORT)")

    evaluate = sub.add_parser(
        "eval", help="score presence engines on simulated evenings against ground truth"
    )
    evaluate.add_argument(
        "scenarios", nargs="+", metavar="SCENARIO", help="a name in firmware_sim/scenarios/ or a path"
    )

    token = sub.add_parser("token", help="print a staff screen token (signed with MAITRE_SECRET_KEY)")
    token.add_argument("--venue", required=True, help="venue slug")
    token.add_argument("--role", required=True, choices=["host", "kitchen", "manager"])
    token.add_argument("--hours", type=float, default=12.0, help="valid for this long (default 12)")

    schemas = sub.add_parser("schemas", help="print or write the wire contract's JSON Schema files")
    schemas.add_argument("--write", action="store_true", help=f"write them to {SCHEMA_DIR}/")

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "schemas":
        return _schemas(args.write)
    if args.command == "token":
        return _token(args.venue, args.role, args.hours)
    if args.command == "eval":
        from maitre.evaluation.runner import main as evaluate_main

        try:
            return evaluate_main(args.scenarios)
        except FileNotFoundError as exc:
            print(f"maitre: {exc}", file=sys.stderr)
            return 2

    from pydantic import ValidationError

    from maitre.config import Settings

    overrides: dict[str, object] = {}
    if getattr(args, "mqtt_url", None):
        overrides["mqtt_url"] = args.mqtt_url
    if getattr(args, "port", None) is not None:
        overrides["http_port"] = args.port
    fresh_db = False
    if args.command == "demo":
        if args.database_url:
            overrides["database_url"] = args.database_url
        elif "MAITRE_DATABASE_URL" not in os.environ:
            overrides["database_url"] = "sqlite:///maitre-demo.db"
            fresh_db = True
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        print(f"maitre: bad setting: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "demo":
            from maitre.demo import run_demo

            asyncio.run(run_demo(settings, args.duration, fresh_db))
        else:
            return _serve(settings)
    except KeyboardInterrupt:
        pass
    except (OSError, ValueError) as exc:
        print(f"maitre: {exc}", file=sys.stderr)
        return 1
    return 0


def _serve(settings: object) -> int:
    import uvicorn

    from maitre.api.app import create_app
    from maitre.broker import start_embedded_broker
    from maitre.config import EMBEDDED, Settings
    from maitre.mqtt import BrokerAddress

    assert isinstance(settings, Settings)
    broker = None
    if settings.mqtt_url == EMBEDDED:
        broker, address = start_embedded_broker(settings.embedded_mqtt_port)
    else:
        address = BrokerAddress.parse(settings.mqtt_url)
    try:
        uvicorn.run(create_app(settings, address), host=settings.http_host, port=settings.http_port)
    finally:
        if broker is not None:
            broker.stop()
    return 0


def _token(venue: str, role: str, hours: float) -> int:
    from maitre.auth import StaffRole, TokenSigner

    secret = os.environ.get("MAITRE_SECRET_KEY")
    if not secret:
        print(
            "maitre: set MAITRE_SECRET_KEY to the service's key (a service without one signs with a "
            "random key that no other process knows)",
            file=sys.stderr,
        )
        return 2
    if not 0 < hours <= 24 * 31:
        print("maitre: --hours must be between 0 and 744", file=sys.stderr)
        return 2
    try:
        print(TokenSigner(secret.encode()).issue(venue, StaffRole(role), hours))
    except ValueError as exc:
        print(f"maitre: {exc}", file=sys.stderr)
        return 2
    return 0


def _schemas(write: bool) -> int:
    from maitre.wire import json_schemas

    for name, schema in json_schemas().items():
        text = json.dumps(schema, indent=2, sort_keys=True) + "\n"
        if write:
            SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
            (SCHEMA_DIR / f"{name}.schema.json").write_text(text)
            print(f"wrote {SCHEMA_DIR / f'{name}.schema.json'}")
        else:
            print(f"# {name}\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
