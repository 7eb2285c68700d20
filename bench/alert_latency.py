"""Alert latency: from publishing the decisive batch to the greeting's websocket frame at a host screen.

The service runs as `maitre serve` in a subprocess, against a private Mosquitto; a load subprocess
publishes background sightings of tracked bands (which all go through presence) at a steady rate.
This process walks guests up to the door one by one: two batches of a loud door signal, then the
batch that completes the dwell, timed from its publish to the `greet` frame on an open screen.

    uv run python bench/alert_latency.py           # 200 greetings, 20,000 sightings/s of background load
    uv run python bench/alert_latency.py --guests 5 --rate 2000    # smoke run
    uv run python bench/alert_latency.py --postgres postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import rig
from bench.screen_client import Audience
from maitre import wire
from maitre.db import make_engine
from maitre.mqtt import BrokerAddress, make_client
from maitre.security.tokens import StaffRole, TokenSigner

SECRET = "bench-secret-key-not-for-production"  # noqa: S105 (a throwaway key for a throwaway service)
PER_BATCH = 250


def load(url: str, rate: float, bands: list[str]) -> None:
    """Child: publish `rate` sightings a second of far-off tracked bands, stamped now, until killed."""
    import random

    address = BrokerAddress.parse(url)
    client = make_client(address, client_id=f"bench-load-{os.getpid()}")
    client.max_inflight_messages_set(1000)
    client.connect(address.host, address.port)
    client.loop_start()
    rng = random.Random(3)
    interval = PER_BATCH / rate
    seq, next_at = 0, time.monotonic()
    while True:
        now = time.time()
        gateway = rig.GATEWAYS[seq % 2][0]
        sightings = [
            wire.Sighting(id=b, rssi=-85.0, rssi_max=-84.0, n=2, t=now, tx=-59)
            for b in rng.sample(bands, PER_BATCH)
        ]
        body = wire.SightingBatch(
            v=1,
            venue=rig.VENUE,
            gateway=gateway,
            boot="load",
            seq=seq,
            sent=now,
            window=0.5,
            sightings=sightings,
        )
        client.publish(wire.sightings_topic(rig.VENUE, gateway), wire.encode(body), qos=1)
        seq += 1
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))


@dataclass
class Service:
    base: str
    http: tuple[str, int]
    signer: TokenSigner
    broker: BrokerAddress


@contextlib.asynccontextmanager
async def running_service(
    directory: Path, guests: int, bands: int, postgres: str | None = None
) -> AsyncIterator[Service]:
    """Broker, seeded database and `maitre serve` on free ports; ready when /readyz says so."""
    with rig.mosquitto(directory) as broker, rig.database(directory, postgres) as database_url:
        engine = make_engine(database_url)
        rig.seed(engine, bands, reservations=guests)
        engine.dispose()
        port = rig.free_port()
        env = rig.child_env() | {
            "MAITRE_DATABASE_URL": database_url,
            "MAITRE_MQTT_URL": f"mqtt://{broker.host}:{broker.port}",
            "MAITRE_HTTP_PORT": str(port),
            "MAITRE_SECRET_KEY": SECRET,
            "MAITRE_MQTT_CLIENT_ID": f"bench-{os.getpid()}",
        }
        log = directory / "serve.log"  # a file, not a pipe: a full pipe would stall the service
        proc = subprocess.Popen(
            [sys.executable, "-m", "maitre.cli", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(OSError):
                    with urllib.request.urlopen(f"{base}/readyz", timeout=1) as r:  # noqa: S310 (our own URL)
                        if r.status == 200:
                            break
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = log.read_text()
                    raise RuntimeError(f"maitre serve did not become ready:\n{err[-3000:]}")
                await asyncio.sleep(0.1)
            yield Service(base, ("127.0.0.1", port), TokenSigner(SECRET.encode()), broker)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:  # shutting 1,000 sockets down politely can take long
                proc.kill()
                proc.wait(10)


def is_greeting(message: bytes) -> bool:
    """A greet alert frame (cheap enough to run on every message at a thousand screens)."""
    return b'"kind": "greet"' in message or b'"kind":"greet"' in message


async def open_screens(service: Service, count: int) -> Audience:
    """`count` host screens, each past its hello and opening snapshot."""
    token = service.signer.issue(rig.VENUE, StaffRole.HOST, 1)
    hello = json.dumps({"type": "hello", "token": token, "since": 0})
    host, port = service.http
    audience = Audience(is_greeting)
    for _ in range(count):
        opening = await audience.join(host, port, f"/ws/{rig.VENUE}/host", hello)
        assert opening is not None and json.loads(opening)["type"] in ("snapshot", "resume"), opening[:200]
    return audience


def check_greetings(got: list[tuple[float, bytes]], screens: int, name: str) -> None:
    """Every screen got the whole greet frame for this guest (checked after the round, off the clock)."""
    assert len(got) == screens, f"{len(got)} of {screens} screens got the greeting"
    for _, message in got:
        frame = json.loads(message)
        assert frame["type"] == "alert" and frame["kind"] == "greet", frame
        assert frame["payload"]["name"] == name, (frame["payload"]["name"], name)


async def walk_in(service: Service, bands: list[str], audience: Audience) -> list[list[float]]:
    """Each band walks up in turn; per band, every screen's latency from the decisive publish."""
    address = service.broker
    client = make_client(address, client_id=f"bench-probe-{os.getpid()}")
    client.connect(address.host, address.port)
    client.loop_start()
    topic = wire.sightings_topic(rig.VENUE, "door")
    seq = 0

    def send(band: str, t: float) -> None:
        nonlocal seq
        body = wire.SightingBatch(
            v=1,
            venue=rig.VENUE,
            gateway="door",
            boot="probe",
            seq=seq,
            sent=t,
            window=0.25,
            sightings=[wire.Sighting(id=band, rssi=-45.0, rssi_max=-44.0, n=5, t=t, tx=-59)],
        )
        seq += 1
        client.publish(topic, wire.encode(body), qos=1).wait_for_publish(10)

    results = []
    try:
        for i, band in enumerate(bands):
            now = time.time()
            send(band, now - 0.6)
            send(band, now - 0.3)
            await asyncio.sleep(0.4)  # both taken in; the next batch completes the dwell
            audience.expect()
            started = time.perf_counter()
            await asyncio.to_thread(send, band, time.time())
            got = await audience.arrivals(30)
            results.append([(at - started) * 1000 for at, _ in got])
            check_greetings(got, len(audience.screens), rig.guest_name(i))
            await asyncio.sleep(0.1)
    finally:
        client.disconnect()
        client.loop_stop()
    return results


async def bare_round_trips(broker: BrokerAddress, count: int) -> list[float]:
    """Baseline: publish → a bare paho subscriber's callback, the same QoS and size, milliseconds."""
    received: asyncio.Queue[float] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    topic = f"bench/bare/{os.getpid()}"
    sub = make_client(broker, client_id=f"bench-bare-sub-{os.getpid()}")
    subscribed = threading.Event()
    sub.on_subscribe = lambda *_: subscribed.set()
    sub.on_message = lambda *_: loop.call_soon_threadsafe(received.put_nowait, time.perf_counter())
    sub.on_connect = lambda client, *_: client.subscribe(topic, wire.QOS)
    pub = make_client(broker, client_id=f"bench-bare-pub-{os.getpid()}")
    for client in (sub, pub):
        client.connect(broker.host, broker.port)
        client.loop_start()
    await asyncio.to_thread(subscribed.wait, 10)
    now = time.time()
    body = wire.encode(
        wire.SightingBatch(
            v=1,
            venue=rig.VENUE,
            gateway="door",
            boot="bare",
            seq=0,
            sent=now,
            window=0.25,
            sightings=[wire.Sighting(id=rig.band_id(0), rssi=-45.0, rssi_max=-44.0, n=5, t=now, tx=-59)],
        )
    )
    out = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            await asyncio.to_thread(lambda: pub.publish(topic, body, qos=wire.QOS).wait_for_publish(10))
            out.append((await asyncio.wait_for(received.get(), 10) - started) * 1000)
            await asyncio.sleep(0.05)
    finally:
        for client in (sub, pub):
            client.disconnect()
            client.loop_stop()
    return out


async def measure(
    guests: int,
    screens: int,
    rate: float,
    bands: int,
    bare: list[float] | None = None,
    postgres: str | None = None,
) -> tuple[list[float], list[float], list[list[float]]]:
    """(per-greeting latency at the first screen, every screen's latency, the same per greeting), ms.

    With `bare`, also fills it with bare MQTT round trips taken under the same background load."""
    with rig.workdir() as directory:
        async with running_service(directory, guests, bands, postgres) as service:
            ids = [rig.band_id(i) for i in range(bands)]
            loader = None
            if rate > 0:
                url = f"mqtt://{service.broker.host}:{service.broker.port}"
                loader = subprocess.Popen(
                    [
                        sys.executable,
                        __file__,
                        "--role",
                        "load",
                        "--url",
                        url,
                        "--rate",
                        str(rate),
                        "--bands",
                        str(bands),
                        "--guests",
                        str(guests),
                    ],
                    env=rig.child_env(),
                )
                await asyncio.sleep(2.0)  # the load is flowing
            audience = await open_screens(service, screens)
            try:
                per_greet = await walk_in(service, ids[:guests], audience)
                if bare is not None:
                    bare += await bare_round_trips(service.broker, guests)
            finally:
                if loader is not None:
                    loader.terminate()
                    loader.wait(10)
                audience.close()
    first = [min(row) for row in per_greet]
    return first, [x for row in per_greet for x in row], per_greet


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--role", choices=["main", "load"], default="main")
    parser.add_argument("--url")
    parser.add_argument(
        "--guests", type=int, default=200, help="greetings measured (the p99 of 200 is the 2nd worst)"
    )
    parser.add_argument("--rate", type=float, default=20_000, help="background sightings per second")
    parser.add_argument(
        "--bands", type=int, default=10_000, help="tracked bands (the load uses all but the guests')"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="serve from PostgreSQL (in a schema of this run's own, dropped after) instead of SQLite",
    )
    args = parser.parse_args()
    if args.role == "load":
        load(args.url, args.rate, [rig.band_id(i) for i in range(args.guests, args.bands)])
        return
    bare: list[float] = []
    latencies, _, _ = asyncio.run(measure(args.guests, 1, args.rate, args.bands, bare, args.postgres))
    p50, p99 = rig.percentile(latencies, 50), rig.percentile(latencies, 99)
    database = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"\n{args.guests} greetings, one host screen, {args.rate:,.0f} sightings/s of background load "
        f"({args.bands:,} tracked bands), `maitre serve` on {database}, {os.cpu_count()} CPUs\n"
    )
    print(
        rig.table(
            ["measure", "p50 ms", "p99 ms", "max ms", "target"],
            [
                [
                    "decisive batch published → greet frame at the screen",
                    f"{p50:.1f}",
                    f"{p99:.1f}",
                    f"{max(latencies):.1f}",
                    "p99 ≤ 25 ms: " + ("met" if p99 <= 25 else "missed"),
                ],
                [
                    "baseline: the same publish → a bare paho subscriber",
                    f"{rig.percentile(bare, 50):.1f}",
                    f"{rig.percentile(bare, 99):.1f}",
                    f"{max(bare):.1f}",
                    f"Maître/bare p50: {p50 / rig.percentile(bare, 50):.1f}×",
                ],
            ],
        )
    )


if __name__ == "__main__":
    main()
