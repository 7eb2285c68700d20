"""The bench rig: a private Mosquitto, a seeded venue, a batched stream, and a table printer.

Every benchmark in bench/ runs its parts side by side on loopback in one process tree: this
process, a Mosquitto it starts, and the publishers and baselines it starts as subprocesses.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from maitre import wire
from maitre.db import create_schema, make_engine, session_scope
from maitre.models import Band, Gateway, GatewayRole, Guest, Reservation, Venue, row_id, utcnow
from maitre.mqtt import BrokerAddress

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
VENUE = "bistro"
GATEWAYS = (("door", GatewayRole.DOOR), ("street", GatewayRole.APPROACH))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def mosquitto(workdir: Path) -> Iterator[BrokerAddress]:
    """A private Mosquitto: queues deep enough that no benchmark message is dropped by the broker."""
    if not Path(MOSQUITTO).exists():
        sys.exit("bench: mosquitto is not installed (apt-get install mosquitto)")
    port = free_port()
    conf = workdir / "mosquitto.conf"
    # set_tcp_nodelay: with Nagle, a small message could wait ~40 ms for the previous one's
    # delayed ACK (the bare subscriber's max fell from 35-50 ms to 4-14 ms under load).
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 1000000\nmax_inflight_messages 100\nset_tcp_nodelay true\n"
    )
    proc = subprocess.Popen(
        [MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("mosquitto did not start")
            time.sleep(0.02)
        yield BrokerAddress("127.0.0.1", port)
    finally:
        proc.terminate()
        proc.wait(5)


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="maitre-bench-") as d:
        yield Path(d)


def band_id(i: int) -> str:
    return f"band:{i:016x}"


def guest_name(i: int) -> str:
    """The first name of the guest who wears band `i`."""
    return f"G{i}"


def seed(engine: Engine, bands: int, reservations: int = 0) -> list[str]:
    """The venue, its two gateways and `bands` consenting guests with a band each; the band ids.

    The first `reservations` guests are booked for now, so their arrival greets them.
    """
    create_schema(engine)
    ids = [band_id(i) for i in range(bands)]
    with session_scope(engine) as session:
        venue = Venue(slug=VENUE, name="Bench Bistro")
        session.add(venue)
        session.flush()
        vid = row_id(venue)
        for x, (name, role) in enumerate(GATEWAYS):
            session.add(Gateway(name=name, role=role, venue_id=vid, x=4.0 * x, y=0.0))
        guests = [
            Guest(first_name=guest_name(i), last_name="Bench", consent_greeting=True, consent_kitchen=True)
            for i in range(bands)
        ]
        session.add_all(guests)
        session.flush()
        session.add_all(Band(advertiser_id=ids[i], guest_id=row_id(g)) for i, g in enumerate(guests))
        now = utcnow()
        session.add_all(
            Reservation(venue_id=vid, guest_id=row_id(g), party_size=2, at=now + timedelta(minutes=5))
            for g in guests[:reservations]
        )
    return ids


def stream(
    bands: Sequence[str],
    batches: int,
    per_batch: int,
    start: float,
    arriving: Sequence[str] = (),
    seed_: int = 1,
    packed: bool = False,
) -> list[tuple[str, bytes]]:
    """`batches` batches of `per_batch` sightings, alternating door and street gateways.

    Most bands are heard faintly (far off), as most of an evening's sightings are; the `arriving`
    bands are loud at the door in every door batch, so presence decides their arrival and the
    service matches and greets them. Batches are 10 ms of gateway time apart (less, for long streams).
    `packed`: in the packed encoding (wire.encode_packed) instead of JSON.
    """
    rng = random.Random(seed_)
    # Within the service's clock-skew allowance from `start`, however long the stream.
    step = min(0.01, 10.0 / batches)
    out = []
    for seq in range(batches):
        gateway = GATEWAYS[seq % 2][0]
        # Rounded as gateway/window.py rounds them (0.1 dB, 1 ms): what a real batch carries.
        t = round(start + seq * step, 3)
        picked = rng.sample(range(len(bands)), per_batch) if per_batch < len(bands) else range(len(bands))
        sightings = [
            wire.Sighting(
                id=bands[i], rssi=round(-80.0 + rng.random() * 6, 1), rssi_max=-76.0, n=3, t=t, tx=-59
            )
            for i in picked
        ]
        if gateway == "door":
            sightings += [wire.Sighting(id=b, rssi=-45.0, rssi_max=-44.0, n=5, t=t, tx=-59) for b in arriving]
        body = wire.SightingBatch(
            v=1, venue=VENUE, gateway=gateway, boot="bench", seq=seq, sent=t, window=0.5, sightings=sightings
        )
        payload = wire.encode_packed(body) if packed else wire.encode(body)
        out.append((wire.sightings_topic(VENUE, gateway), payload))
    return out


def sqlite_engine(directory: Path) -> Engine:
    return make_engine(f"sqlite:///{directory / 'bench.db'}")


@contextlib.contextmanager
def database(directory: Path, postgres: str | None = None) -> Iterator[str]:
    """An empty database's URL: SQLite in `directory`, or a schema of our own in PostgreSQL.

    The schema (this process's, dropped afterwards) keeps a shared PostgreSQL's other users'
    tables out of the way, as the tests do.
    """
    if postgres is None:
        yield f"sqlite:///{directory / 'bench.db'}"
        return
    schema = f"maitre_bench_{os.getpid()}"
    base = make_engine(postgres)
    with base.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{postgres}{'&' if '?' in postgres else '?'}options=-csearch_path%3D{schema}"
    finally:
        with base.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        base.dispose()


def python_child(*args: str) -> list[str]:
    """argv for a child Python running a bench module, with this checkout importable."""
    return [sys.executable, *args]


def child_env() -> dict[str, str]:
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root / "src"), str(root), env.get("PYTHONPATH", "")])
    return env


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
