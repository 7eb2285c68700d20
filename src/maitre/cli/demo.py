"""`maitre demo`: broker, service, demo data and a simulated crowd, all in one process."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
from pathlib import Path

from maitre.cli.settings import load_settings

DEMO_DATABASE = "sqlite:///maitre-demo.db"  # fresh each run unless a database is named
DEMO_KEY_FILE = "maitre-demo.secret"  # the demo's signing key, made once, beside its database


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="run broker, service, demo data and simulated crowd in one process")
    demo.add_argument("--mqtt-url", help="use this broker instead of the embedded one (env MAITRE_MQTT_URL)")
    demo.add_argument("--database-url", help=f"default: a fresh {DEMO_DATABASE} each run")
    demo.add_argument("--port", type=int, help="HTTP port (default 8000, env MAITRE_HTTP_PORT)")
    demo.add_argument(
        "--duration", type=float, help="stop after this many seconds (default: run until Ctrl-C)"
    )
    demo.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    fresh_db = not args.database_url and "MAITRE_DATABASE_URL" not in os.environ
    settings = load_settings(
        mqtt_url=args.mqtt_url,
        http_port=args.port,
        database_url=DEMO_DATABASE if fresh_db else args.database_url,
    )
    if settings is None:
        return 2
    if settings.signing_key() is None:
        # Screens' links survive a restart of the demo: its own key, kept beside its database.
        settings.secret_key_file = demo_secret(Path(DEMO_KEY_FILE))
    from maitre.demo.run import run_demo

    try:
        asyncio.run(run_demo(settings, args.duration, fresh_db))
    except KeyboardInterrupt:
        pass
    except (OSError, ValueError) as exc:
        print(f"maitre: {exc}", file=sys.stderr)
        return 1
    return 0


def demo_secret(path: Path) -> Path:
    """The demo's signing key file, made (readable by its owner only) if it does not exist yet."""
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32) + "\n")
    return path

