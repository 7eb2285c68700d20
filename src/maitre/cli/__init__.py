"""The `maitre` command: one module per subcommand, each adding its parser and the function it runs."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from maitre.cli import calibrate, db, demo, evaluate, gateways, plan, schemas, serve, staff, token
from maitre.observability.logs import configure_logging

# In the order `maitre --help` lists them. Each module imports what its command needs only when it
# runs, so `maitre token` does not wait for the presence engine's compiled loops to load.
COMMANDS = (demo, serve, db, evaluate, token, staff, gateways, calibrate, plan, schemas)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="maitre", description="Maître venue service")
    top.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = top.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configure_logging(
        logging.DEBUG if args.verbose else logging.INFO, os.environ.get("MAITRE_LOG_FORMAT", "text")
    )
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
