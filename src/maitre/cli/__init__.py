"""The `maitre` command: demo, serve, db, token, schemas."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

from maitre.cli import access as access_commands
from maitre.observability.logs import configure_logging

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

    db = sub.add_parser("db", help="the database: upgrade, current, seed-demo, stamp, revision")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="migrate MAITRE_DATABASE_URL to this version's schema")
    upgrade.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    upgrade.add_argument(
        "--seed-demo", metavar="VENUE", default="", help="then as `db seed-demo --venue VENUE` (empty: no)"
    )
    db_sub.add_parser("current", help="print the database's revision and this version's")
    seed_demo = db_sub.add_parser(
        "seed-demo",
        help="book the simulated gateways' crowd: the demo bistro, its gateways and guests (once)",
    )
    seed_demo.add_argument("--venue", default="bistro", help="slug, as given to maitre-gateway --venue")
    seed_demo.add_argument("--guests", type=int, default=60, help="arriving guests to book (one every 12 s)")
    stamp = db_sub.add_parser("stamp", help="record a revision without running it (tables made by hand)")
    stamp.add_argument("revision")
    revision = db_sub.add_parser("revision", help="write a migration for the models' changes (developers)")
    revision.add_argument("-m", "--message", required=True, help="what changed, e.g. 'guest check-in'")

    evaluate = sub.add_parser(
        "eval", help="score presence engines on simulated evenings against ground truth"
    )
    evaluate.add_argument(
        "scenarios", nargs="+", metavar="SCENARIO", help="a name in firmware_sim/scenarios/ or a path"
    )
    evaluate.add_argument(
        "--seed-offset",
        type=int,
        default=0,
        help="add this to every scenario's seed: tune on other evenings than the published ones",
    )
    evaluate.add_argument(
        "--layout",
        help="evaluate in this layout instead of the scenario's own: bistro (the default), "
        "bistro-lintel (a sixth gateway over the door), bistro-facade (the first installations' "
        "gateway placement) or a layout JSON file",
    )
    evaluate.add_argument(
        "--calibrate",
        action="store_true",
        help="walk the calibration route in each scenario's venue first, and give Maître's engine "
        "the venue's measured sigma (docs/presence.md, 'Calibrating a venue')",
    )

    token = sub.add_parser("token", help="print a staff screen token (signed with MAITRE_SECRET_KEY)")
    token.add_argument("--venue", required=True, help="venue slug")
    token.add_argument("--role", required=True, choices=["host", "kitchen", "manager"])
    token.add_argument("--hours", type=float, default=12.0, help="valid for this long (default 12)")

    access_commands.add_parsers(sub)  # staff add, gateways credentials
    calibrate = sub.add_parser(
        "calibrate",
        help="walk a route with a band: how far the venue's signals stray from its plan",
        description="Needs the venue's layout and gateway places (MAITRE_DATABASE_URL), its gateways "
        "running, and the broker they publish to (MAITRE_MQTT_URL; the embedded one of a running "
        "`maitre serve` by default). Wear one band that advertises its fixed id (band:...), walk to "
        "each place the command names, press Enter on arrival and stand still while it counts "
        "(docs/presence.md, 'Calibrating a venue').",
    )
    calibrate.add_argument("--venue", required=True, help="venue slug")
    calibrate.add_argument(
        "--band", required=True, help="the walker's band as on the wire: band:0011223344556677"
    )
    calibrate.add_argument(
        "--stand-seconds", type=float, default=15.0, help="seconds at each stop (default 15)"
    )
    calibrate.add_argument(
        "--save", action="store_true", help="store the measured sigma with the venue's layout"
    )

    schemas = sub.add_parser("schemas", help="print or write the wire contract's JSON Schema files")
    schemas.add_argument("--write", action="store_true", help=f"write them to {SCHEMA_DIR}/")

    args = parser.parse_args(argv)
    configure_logging(
        logging.DEBUG if args.verbose else logging.INFO, os.environ.get("MAITRE_LOG_FORMAT", "text")
    )
    if args.command in ("staff", "gateways"):
        return access_commands.run(args)
    if args.command == "schemas":
        return _schemas(args.write)
    if args.command == "token":
        return _token(args.venue, args.role, args.hours)
    if args.command == "db":
        from maitre.cli.db import run_db_command

        return run_db_command(args)
    if args.command == "eval":
        from maitre.evaluation.runner import main as evaluate_main
        from maitre.sim.scenario import ScenarioError

        try:
            return evaluate_main(args.scenarios, args.seed_offset, args.layout, args.calibrate)
        except (FileNotFoundError, ScenarioError) as exc:
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
    if args.command == "calibrate":
        from maitre.cli.calibrate import run as run_calibrate

        return run_calibrate(args, settings)
    try:
        if args.command == "demo":
            from maitre.demo.run import run_demo

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
    from maitre.api.screen_socket import PER_MESSAGE_DEFLATE, ScreenSocketProtocol
    from maitre.broker import start_embedded_broker
    from maitre.config import EMBEDDED, Settings
    from maitre.mqtt import BrokerAddress
    from maitre.runtime.preflight import StartupRefused, check_broker, check_venue_claims, open_database
    from maitre.runtime.service import settle_heap

    assert isinstance(settings, Settings)
    broker = None
    try:
        engine = open_database(settings.database_url)
        check_venue_claims(engine, settings.venues, settings.standby_venues, settings.mqtt_client_id)
        if settings.mqtt_url != EMBEDDED:
            try:
                address = BrokerAddress.parse(settings.mqtt_url)
            except ValueError as exc:
                raise StartupRefused(f"MAITRE_MQTT_URL: {exc}") from exc
            check_broker(address)
    except StartupRefused as exc:
        print(f"maitre: not starting: {exc}", file=sys.stderr)
        return 1
    if settings.mqtt_url == EMBEDDED:
        broker, address = start_embedded_broker(settings.embedded_mqtt_port)
    try:
        app = create_app(settings, address, engine=engine)
        settle_heap()
        uvicorn.run(
            app,
            host=settings.http_host,
            port=settings.http_port,
            ssl_certfile=settings.http_ssl_certfile,
            ssl_keyfile=settings.http_ssl_keyfile,
            ws=ScreenSocketProtocol,
            ws_per_message_deflate=PER_MESSAGE_DEFLATE,
            # JSON logs: uvicorn's loggers go through the root handler instead of their own format.
            log_config=None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
        )
    finally:
        if broker is not None:
            broker.stop()
    return 0


def _token(venue: str, role: str, hours: float) -> int:
    from maitre.security.tokens import StaffRole, TokenSigner

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
