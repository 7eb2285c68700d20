"""`maitre plan check`: how a venue's plan and gateways will greet, and where one more gateway helps."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from maitre.cli.settings import load_settings

if TYPE_CHECKING:
    from maitre.floorplan import VenueModel

Plan = tuple["VenueModel", dict[str, str]]  # the plan, and each gateway's role by name


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plan = sub.add_parser(
        "plan", help="predict how a venue's plan will greet guests, and where one more gateway helps"
    )
    actions = plan.add_subparsers(dest="plan_command", required=True)
    check = actions.add_parser(
        "check",
        help="play simulated evenings in the venue as registered; rank places for one more gateway",
        description="Reads the venue's layout and gateways from the database (MAITRE_DATABASE_URL), "
        "or from --file before anything is installed, plays short evenings in it under radios drawn "
        "as rough as real venues' (gains the engine is not told), and prints what Maître's engine "
        "would do: parties greeted within 3 s of crossing the door, latency, wrong names. With advice "
        "(the default) it plays the same evenings with one more gateway at each of a few places. "
        "Takes a few minutes: every evening is simulated (docs/operate/placement.md).",
    )
    check.add_argument("venue", nargs="?", help="venue slug (omit with --file)")
    check.add_argument(
        "--file",
        type=Path,
        help='a plan not yet registered: JSON {"layout": <as PUT /api/venues/{slug}/layout>, '
        '"gateways": [{"name": ..., "x": ..., "y": ..., "role": "door|approach|inside"}]}',
    )
    check.add_argument(
        "--radios", type=int, default=4, help="simulated evenings, one drawn radio each (default 4)"
    )
    check.add_argument("--no-advice", action="store_true", help="predict the plan as it is, only")
    check.add_argument(
        "--advertising",
        type=float,
        metavar="SECONDS",
        help="the bands' advertising interval, when known (default: drawn per evening, 0.1-1 s)",
    )
    check.add_argument(
        "--evening-seconds",
        type=float,
        default=360.0,
        help="length of each simulated evening (default 360; 12 parties arrive in it, whatever its length)",
    )
    check.add_argument("--json", action="store_true", help="print the report as one JSON object")
    check.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """0 with the prediction printed; 2: no plan to check."""
    from maitre.evaluation.plan_check import main as check_main

    if not 1 <= args.radios <= 40:
        print("maitre: --radios must be between 1 and 40", file=sys.stderr)
        return 2
    if args.advertising is not None and not 0.02 <= args.advertising <= 10.0:
        print("maitre: --advertising must be between 0.02 and 10 seconds", file=sys.stderr)
        return 2
    if not 150.0 <= args.evening_seconds <= 3600.0:
        print("maitre: --evening-seconds must be between 150 and 3600", file=sys.stderr)
        return 2
    if (args.venue is None) == (args.file is None):
        print("maitre: name a venue, or give --file with a plan (not both)", file=sys.stderr)
        return 2
    loaded: Plan | None
    if args.file is not None:
        loaded = _from_file(args.file)
        label = args.file.name
    else:
        loaded = _from_database(args.venue)
        label = args.venue
    if loaded is None:
        return 2
    model, roles = loaded
    return check_main(
        label,
        model,
        roles,
        args.radios,
        not args.no_advice,
        args.advertising,
        args.json,
        args.evening_seconds,
    )


def _from_database(slug: str) -> Plan | None:
    from maitre.db import make_engine, session_scope
    from maitre.hospitality.directory import PlanMissing, registered_plan

    settings = load_settings()
    if settings is None:
        return None
    with session_scope(make_engine(settings.database_url)) as session:
        try:
            return registered_plan(session, slug)
        except PlanMissing as exc:
            print(f"maitre: {exc}", file=sys.stderr)
            return None


def _from_file(path: Path) -> Plan | None:
    from pydantic import BaseModel, ValidationError

    from maitre.hospitality.directory import venue_model
    from maitre.models import GatewayRole, VenueLayout

    class PlannedGateway(BaseModel):
        name: str
        x: float
        y: float
        role: GatewayRole

    class PlanFile(BaseModel):
        layout: VenueLayout
        gateways: list[PlannedGateway]

    try:
        plan = PlanFile.model_validate(json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        print(f"maitre: cannot read the plan in {path}: {exc}", file=sys.stderr)
        return None
    if not plan.gateways:
        print(f"maitre: the plan in {path} has no gateways", file=sys.stderr)
        return None
    model = venue_model(plan.layout.model_dump(), {g.name: (g.x, g.y) for g in plan.gateways})
    return model, {g.name: g.role.value for g in plan.gateways}
