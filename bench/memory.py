"""Memory: the service's resident size with 100,000 guests and bands registered and 10,000 bands active.

A child process starts the venue service on a seeded SQLite (directory of every consenting band
loaded, as at every start), then feeds sightings of the active bands from both gateways through
ingest and presence for a simulated minute, and reports its resident set size (VmRSS, VmHWM).

    uv run python bench/memory.py
    uv run python bench/memory.py --guests 5000 --active 500      # smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import rig

TARGET_MB = 300


def seed_bulk(directory: Path, guests: int) -> None:
    """The venue, gateways and `guests` consenting guests with one band each, inserted in bulk."""
    from sqlalchemy import insert

    from maitre.db import create_schema
    from maitre.models import Band, Gateway, GatewayRole, Guest, Venue, utcnow

    engine = rig.sqlite_engine(directory)
    create_schema(engine)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(Venue), [{"id": 1, "slug": rig.VENUE, "name": "Bench", "timezone": "UTC", "alert_seq": 0}]
        )
        conn.execute(
            insert(Gateway),
            [
                {
                    "venue_id": 1,
                    "name": "door",
                    "role": GatewayRole.DOOR,
                    "x": 0.0,
                    "y": 0.0,
                    "online": False,
                },
                {
                    "venue_id": 1,
                    "name": "street",
                    "role": GatewayRole.APPROACH,
                    "x": 4.0,
                    "y": 0.0,
                    "online": False,
                },
            ],
        )
        conn.execute(
            insert(Guest),
            [
                {
                    "id": i + 1,
                    "first_name": f"G{i}",
                    "last_name": "Bench",
                    "consent_greeting": True,
                    "consent_kitchen": True,
                    "created_at": now - timedelta(days=1),
                }
                for i in range(guests)
            ],
        )
        conn.execute(
            insert(Band), [{"advertiser_id": rig.band_id(i), "guest_id": i + 1} for i in range(guests)]
        )
    engine.dispose()


def rss_kib() -> tuple[int, int]:
    fields = dict(
        line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def child(directory: Path, active: int, seconds: int) -> None:
    from maitre import wire
    from maitre.config import Settings
    from maitre.runtime.service import VenueService

    base_rss, _ = rss_kib()
    engine = rig.sqlite_engine(directory)
    service = VenueService(Settings(database_url=str(engine.url)), engine, None)

    async def run() -> dict[str, object]:
        await service.start()
        loaded_rss, _ = rss_kib()
        ids = [rig.band_id(i) for i in range(active)]
        start = time.time() - seconds
        seq = 0
        for step in range(seconds * 2):  # a batch per gateway every half second of simulated time
            t = start + step * 0.5
            service.ingest.clock = lambda t=t: t  # type: ignore[misc]
            for gateway in ("door", "street"):
                for chunk in range(0, active, 2500):
                    sightings = [
                        wire.Sighting(id=b, rssi=-80.0, rssi_max=-78.0, n=2, t=t, tx=-59)
                        for b in ids[chunk : chunk + 2500]
                    ]
                    body = wire.SightingBatch(
                        v=1,
                        venue=rig.VENUE,
                        gateway=gateway,
                        boot="m",
                        seq=seq,
                        sent=t,
                        window=0.5,
                        sightings=sightings,
                    )
                    seq += 1
                    service.ingest.handle(wire.sightings_topic(rig.VENUE, gateway), wire.encode(body))
        rss, peak = rss_kib()
        out = {
            "base": base_rss,
            "loaded": loaded_rss,
            "rss": rss,
            "peak": peak,
            "tracked": len(service.directory.tracked_bands),
            "presence": len(service.presence),
            "sightings": service.ingest.stats.sightings,
        }
        await service.stop()
        return out

    print(json.dumps(asyncio.run(run())))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--role", choices=["main", "child"], default="main")
    parser.add_argument("--dir")
    parser.add_argument("--guests", type=int, default=100_000)
    parser.add_argument("--active", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=60, help="simulated seconds of sightings")
    args = parser.parse_args()
    if args.role == "child":
        child(Path(args.dir), args.active, args.seconds)
        return
    with rig.workdir() as directory:
        seed_bulk(directory, args.guests)
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--role",
                "child",
                "--dir",
                str(directory),
                "--active",
                str(args.active),
                "--seconds",
                str(args.seconds),
            ],
            env=rig.child_env(),
            capture_output=True,
            text=True,
            check=True,
        )
    got = json.loads(done.stdout.strip().splitlines()[-1])
    mb = {k: got[k] / 1024 for k in ("base", "loaded", "rss", "peak")}
    print(
        f"\n{args.guests:,} guests and bands registered ({got['tracked']:,} tracked), {args.active:,} active "
        f"for {args.seconds} simulated seconds ({got['sightings']:,} sightings, {got['presence']:,} bands in "
        f"presence), {os.cpu_count()} CPUs\n"
    )
    print(
        rig.table(
            ["stage", "resident MB"],
            [
                ["interpreter and imports", f"{mb['base']:.0f}"],
                ["service started, directory loaded", f"{mb['loaded']:.0f}"],
                [f"{args.active:,} bands active", f"{mb['rss']:.0f}"],
                [
                    "peak (VmHWM)",
                    f"{mb['peak']:.0f} — target ≤ {TARGET_MB}: "
                    + ("met" if mb["peak"] <= TARGET_MB else "missed"),
                ],
            ],
        )
    )


if __name__ == "__main__":
    main()
