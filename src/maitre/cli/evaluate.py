"""`maitre eval`: score presence engines on simulated evenings against ground truth."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    evaluate = sub.add_parser(
        "eval", help="score presence engines on simulated evenings against ground truth"
    )
    evaluate.add_argument(
        "scenarios", nargs="*", metavar="SCENARIO", help="a name in maitre.sim's scenarios/ or a path"
    )
    evaluate.add_argument(
        "--family",
        choices=["tune", "test"],
        help="instead of scenarios: venues drawn from the family (maitre.sim.family), the tuning "
        "split or the published test split, which nothing is tuned on",
    )
    evaluate.add_argument(
        "--count", type=int, default=12, help="with --family: how many venues (default 12, kinds in turn)"
    )
    evaluate.add_argument(
        "--radio",
        choices=["gauss-markov", "spatial"],
        help="with --family: every venue on this radio model (default: each venue draws one)",
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
        "the venue's measured sigma (docs/operate/calibration.md)",
    )
    evaluate.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from maitre.evaluation.runner import main as evaluate_main
    from maitre.sim.scenario import ScenarioError

    if args.family:
        if args.scenarios or args.layout or args.calibrate or args.seed_offset:
            print(
                "maitre: --family draws its own venues: no scenarios, --layout, --calibrate or "
                "--seed-offset with it",
                file=sys.stderr,
            )
            return 2
        from maitre.evaluation.family import main as family_main

        try:
            return family_main(args.family, args.count, args.radio)
        except ValueError as exc:
            print(f"maitre: {exc}", file=sys.stderr)
            return 2
    if not args.scenarios:
        print("maitre: name at least one scenario, or --family tune|test", file=sys.stderr)
        return 2
    try:
        return evaluate_main(args.scenarios, args.seed_offset, args.layout, args.calibrate)
    except (FileNotFoundError, ScenarioError) as exc:
        print(f"maitre: {exc}", file=sys.stderr)
        return 2
