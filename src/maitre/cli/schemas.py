"""`maitre schemas`: print or write the wire contract's JSON Schema files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

SCHEMA_DIR = Path("docs/schemas")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    schemas = sub.add_parser("schemas", help="print or write the wire contract's JSON Schema files")
    schemas.add_argument("--write", action="store_true", help=f"write them to {SCHEMA_DIR}/")
    schemas.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from maitre.wire import json_schemas

    for name, schema in json_schemas().items():
        text = json.dumps(schema, indent=2, sort_keys=True) + "\n"
        if args.write:
            SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
            (SCHEMA_DIR / f"{name}.schema.json").write_text(text)
            print(f"wrote {SCHEMA_DIR / f'{name}.schema.json'}")
        else:
            print(f"# {name}\n{text}")
    return 0
