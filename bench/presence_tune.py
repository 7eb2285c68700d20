"""Score presence-engine settings on recorded evenings: record each scenario once, replay many configs.

    uv run python bench/presence_tune.py [--seed-offset 1000,3000,4000] [--scenarios hard-shadowing ...]
        [--variants defaults,evidence-0.8] [--jobs 2] [--layout bistro-facade]
    uv run python bench/presence_tune.py --variants cal+0.5,cal+0.5:door_agree_llr=none  # any field

Recording (simulate ▸ gateway decode ▸ aggregate ▸ encode) is the slow part, so each scenario's
batches are cached in the temp directory (maitre-presence-tune/, ~40 MB an evening), keyed by
name, seed and layout; scoring a config is a replay through the real `Ingest` and `runner.score`,
exactly as `maitre eval` does it. Tune on a seed offset (default 1000), never on the shipped
seeds: those are for the published table.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import msgspec

from maitre.evaluation import runner
from maitre.presence import PresenceConfig, PresenceEngine
from maitre.sim.scenario import build, load_scenario

CACHE = Path(tempfile.gettempdir()) / "maitre-presence-tune"  # outside the work tree: big files
HARD = ["hard-shadowing", "crowded-door", "slow-advertising", "gateway-dies"]

# Each variant is a set of PresenceConfig overrides on top of the defaults: the ones the defaults
# were chosen against (see docs/evaluation/2026-11-27-presence.md).
VARIANTS: dict[str, dict[str, object]] = {
    "defaults": {},
    "evidence-0.6": {"evidence_weight": 0.6},
    "evidence-0.8": {"evidence_weight": 0.8},
    "evidence-1.0": {"evidence_weight": 1.0},
    "dwell-0.5": {"track_dwell": 0.5},
    "dwell-0.3": {"track_dwell": 0.3},
    "dwell-0.15": {"track_dwell": 0.15},
    "p-0.8-dwell": {"p_enter": 0.8, "track_dwell": 0.15},
    "p-0.7-dwell": {"p_enter": 0.7, "track_dwell": 0.15},
    "p-0.6-dwell": {"p_enter": 0.6, "track_dwell": 0.15},
    "q-6": {"accel_noise": 6.0},
    "p-enter-0.93": {"p_enter": 0.93},
    "p-enter-0.88": {"p_enter": 0.88},
    "p-enter-0.85": {"p_enter": 0.85},
    "p-enter-0.8": {"p_enter": 0.8},
    "sigma-6": {"model_sigma_db": 6.0},
    "sigma-7": {"model_sigma_db": 7.0},
    "sigma-9": {"model_sigma_db": 9.0},
    # Calibrated by the venue's walk, with another margin than calibration.MARGIN_DB.
    "cal+0": {"calibration_margin_db": 0.0},
    "cal+0.5": {"calibration_margin_db": 0.5},
    "cal+1": {"calibration_margin_db": 1.0},
    "cal+1-p-0.85": {"calibration_margin_db": 1.0, "p_enter": 0.85},
    "cal+0.5-p-0.88": {"calibration_margin_db": 0.5, "p_enter": 0.88},
    "cal+0.5-walk-1.0": {"calibration_margin_db": 0.5, "walk_speed": 1.0},
    "cal+0.5-walk-2.0": {"calibration_margin_db": 0.5, "walk_speed": 2.0},
    # For batches every 0.25 s (--interval 0.25): fresher, noisier levels at each step, weighed less.
    "cal+0.5-evidence-0.5": {"calibration_margin_db": 0.5, "evidence_weight": 0.5},
}

Batches = list[tuple[float, str, bytes]]


def overrides_of(variant: str) -> dict[str, object]:
    """A named variant, or one spelled field by field: `cal+0.5:door_agree_llr=1:track_hold=2`."""
    name, *fields = variant.split(":")
    out = dict(VARIANTS[name])
    words: dict[str, object] = {"true": True, "false": False, "none": None}
    for field in fields:
        key, _, value = field.partition("=")
        out[key] = words[value.lower()] if value.lower() in words else float(value)
    return out


def recording(
    name: str, offset: int, layout: str | None = None, interval: float = runner.BATCH_INTERVAL
) -> runner.Recording:
    scenario = runner.with_layout(runner.with_seed_offset(load_scenario(name), offset), layout)
    every = "" if interval == runner.BATCH_INTERVAL else f"-every-{interval:g}s"
    layout_key = scenario.layout.replace("/", "_")  # a layout may be a file's path
    path = CACHE / f"{Path(name).stem}-{scenario.seed}-{layout_key}{every}.msgpack"  # (name: or a file)
    if path.exists():
        batches = msgspec.msgpack.decode(path.read_bytes(), type=Batches)
        return runner.Recording(batches, 0, 0.0)
    rec = runner.record(build(scenario), interval=interval)
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.msgpack.encode(rec.batches))
    return rec


def _record(name: str, offset: int, layout: str | None, interval: float) -> None:
    recording(name, offset, layout, interval)  # (its batches stay in the cache, not sent back)


def run(
    name: str,
    offset: int,
    variant: str,
    layout: str | None,
    calibrated: bool = False,
    interval: float = runner.BATCH_INTERVAL,
) -> tuple[str, str, runner.Score]:
    scenario = runner.with_layout(runner.with_seed_offset(load_scenario(name), offset), layout)
    rec = recording(name, offset, layout, interval)
    overrides = overrides_of(variant)
    margin = overrides.pop("calibration_margin_db", None)
    calibration = runner.calibrate(scenario, interval) if calibrated or margin is not None else None
    if calibration is not None and margin is not None:
        calibration = dataclasses.replace(calibration, sigma_db=calibration.spread_db + float(margin))  # type: ignore[arg-type]
    config = dataclasses.replace(PresenceConfig(), **overrides)  # type: ignore[arg-type]
    s = runner.score(
        build(scenario),
        rec,
        variant,
        lambda roles, doors: PresenceEngine(roles, config, runner._models),
        calibration,
    )
    return name, variant, s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seed-offset",
        default="1000",
        help="one offset, or several (1000,3000,4000): each scenario's evenings are then pooled",
    )
    parser.add_argument("--scenarios", nargs="+", default=HARD)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--layout", help="another layout than the scenarios' own (e.g. bistro-facade)")
    parser.add_argument(
        "--calibrate", action="store_true", help="every evening's venue calibrated by its walk first"
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=runner.BATCH_INTERVAL,
        help="seconds between a gateway's batches (its window; default %(default)s)",
    )
    args = parser.parse_args()
    variants = args.variants.split(",")
    unknown = [v for v in variants if v.split(":")[0] not in VARIANTS]
    if unknown:
        print(f"unknown variants: {unknown}; known: {list(VARIANTS)}", file=sys.stderr)
        return 2
    fields = {f.name for f in dataclasses.fields(PresenceConfig)} | {"calibration_margin_db"}
    unknown = [k for v in variants for k in overrides_of(v) if k not in fields]
    if unknown:
        print(f"unknown settings: {unknown}; PresenceConfig has: {sorted(fields)}", file=sys.stderr)
        return 2
    offsets = [int(o) for o in args.seed_offset.split(",")]
    with ProcessPoolExecutor(args.jobs) as pool:
        # Recorded first, each evening by one process (two must not write the same file at once).
        evenings = [(n, o, args.layout, args.interval) for n in args.scenarios for o in offsets]
        list(pool.map(_record, *zip(*evenings, strict=True)))
        jobs = [
            (n, o, v, args.layout, args.calibrate, args.interval)
            for n in args.scenarios
            for v in variants
            for o in offsets
        ]
        results = list(pool.map(run, *zip(*jobs, strict=True)))
    pooled: dict[tuple[str, str], runner.Score] = {}
    for name, variant, s in results:
        pooled[(name, variant)] = pool_scores(pooled.get((name, variant)), s)
    label = "+" + "/".join(map(str, offsets))
    print(runner.format_table([(f"{name}{label}", s) for (name, _), s in pooled.items()]))
    return 0


def pool_scores(a: runner.Score | None, b: runner.Score) -> runner.Score:
    """Two evenings' scores as one: counts added, latencies joined."""
    if a is None:
        return b
    return runner.Score(
        engine=a.engine,
        greets=a.greets + b.greets,
        correct=a.correct + b.correct,
        wrong_guest=a.wrong_guest + b.wrong_guest,
        premature=a.premature + b.premature,
        passer_greets=a.passer_greets + b.passer_greets,
        passers=a.passers + b.passers,
        parties=a.parties + b.parties,
        recalled=a.recalled + b.recalled,
        latencies=a.latencies + b.latencies,
    )


if __name__ == "__main__":
    raise SystemExit(main())
