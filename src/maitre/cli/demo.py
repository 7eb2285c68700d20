"""`maitre demo`: broker, service, demo data and a simulated crowd, all in one process."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from pydantic import SecretStr

from maitre.cli.settings import load_settings

DEMO_DATABASE = "sqlite:///maitre-demo.db"  # fresh each run unless a database is named


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
    from maitre.demo.folder import DemoRunning, demo_secret, lock_folder, port_free

    folder = Path.cwd()
    try:
        # Before anything in the folder is touched: a running demo's database is not ours to reset.
        lock = lock_folder(folder, f"http://{settings.http_host}:{settings.http_port}")
    except DemoRunning as exc:
        print(f"maitre: {exc}", file=sys.stderr)
        return 1
    try:
        if not port_free(settings.http_host, settings.http_port):
            print(
                f"maitre: port {settings.http_port} is in use; start the demo with --port and a free one",
                file=sys.stderr,
            )
            return 1
        if settings.signing_key() is None:
            settings = settings.model_copy(update={"secret_key": SecretStr(demo_secret(folder))})
        from maitre.demo.run import run_demo

        asyncio.run(run_demo(settings, args.duration, fresh_db))
    except KeyboardInterrupt:
        pass
    except (OSError, ValueError) as exc:
        print(f"maitre: {exc}", file=sys.stderr)
        return 1
    finally:
        lock.release()
    return 0
