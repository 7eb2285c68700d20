"""Sightings per second through the full ingest pipeline, against a bare paho subscriber on the same stream.

Both drain the identical batched QoS 1 stream from the same private Mosquitto, published by the
same publisher subprocess. The bare subscriber (a subprocess) only counts messages. The pipeline
is the venue service in this process: MQTT ingress with manual acks, decode, validation, replay
and dedupe checks, identity and consent filter, the presence engine, and, for the few bands that
walk in, matching and the greeting written to SQLite and fanned out. Each is timed from its
first message to the last one it is done with: the bare subscriber's last received (paho
acknowledges it on return), the service's last acknowledged (after the events it caused are
matched), so work still queued when the last message was decoded counts too.

The stream goes once as JSON batches and once packed (docs/reference/protocol.md, "Packed batches"), each
against the bare subscriber draining that same stream; `--wire json` or `--wire packed` runs one.

    uv run python bench/ingest.py                  # the table in docs/evaluation/2026-11-26-performance.md
    uv run python bench/ingest.py --batches 200 --runs 1   # smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import pickle
import platform
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if __package__ in (None, ""):
    sys.path.insert(0, str(BENCH_DIR.parent))

from paho.mqtt.enums import MQTTErrorCode  # noqa: E402

from bench import rig  # noqa: E402
from maitre.mqtt import BrokerAddress, make_client  # noqa: E402

TARGET_RATIO = 0.5
TARGET_RATE = 100_000


def publish(url: str, path: str) -> None:
    """Child: publish the pickled stream at QoS 1 as fast as the broker takes it."""
    messages: list[tuple[str, bytes]] = pickle.loads(Path(path).read_bytes())  # noqa: S301 (our own file)
    client = make_client(BrokerAddress.parse(url), client_id=f"bench-pub-{os.getpid()}")
    client.max_inflight_messages_set(1000)
    client.connect(*url.removeprefix("mqtt://").split(":", 1)[0:1], int(url.rsplit(":", 1)[1]))
    client.loop_start()
    infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(60)
    client.disconnect()
    client.loop_stop()


def bare(url: str, count: int) -> None:
    """Child: subscribe, say "ready", count `count` messages, print the seconds from first to last."""
    import threading

    done = threading.Event()
    seen = [0]
    first = [0.0]
    last = [0.0]
    cpu = [0.0, 0.0]  # process CPU time (every thread) at the first and the last message
    ready = threading.Event()

    def on_message(client: object, userdata: object, msg: object) -> None:
        now = time.perf_counter()
        if seen[0] == 0:
            first[0] = now
            cpu[0] = time.process_time()
        seen[0] += 1
        last[0] = now
        cpu[1] = time.process_time()
        if seen[0] >= count:
            done.set()

    client = make_client(BrokerAddress.parse(url), client_id=f"bench-bare-{os.getpid()}")
    client.on_message = on_message
    client.on_subscribe = lambda *a: ready.set()
    client.on_connect = lambda c, *a: c.subscribe("maitre/+/+/gw/+/+", 1)
    address = BrokerAddress.parse(url)
    client.connect(address.host, address.port)
    client.loop_start()
    ready.wait(10)
    print("ready", flush=True)
    done.wait(600)
    client.disconnect()
    client.loop_stop()
    print(f"{last[0] - first[0]:.6f} {seen[0]} {cpu[1] - cpu[0]:.6f}", flush=True)


def run_bare(broker: BrokerAddress, stream_file: Path, count: int) -> tuple[float, float]:
    """Seconds from the bare subscriber's first message to its last, and its CPU seconds meanwhile."""
    url = f"mqtt://{broker.host}:{broker.port}"
    sub = subprocess.Popen(
        rig.python_child(__file__, "--role", "bare", "--url", url, "--count", str(count)),
        stdout=subprocess.PIPE,
        text=True,
        env=rig.child_env(),
    )
    assert sub.stdout is not None
    assert sub.stdout.readline().strip() == "ready"
    subprocess.run(
        rig.python_child(__file__, "--role", "publish", "--url", url, "--file", str(stream_file)),
        check=True,
        env=rig.child_env(),
    )
    elapsed, seen, cpu = sub.stdout.readline().split()
    sub.wait(60)
    assert int(seen) == count, f"bare subscriber saw {seen} of {count}"
    return float(elapsed), float(cpu)


async def run_pipeline(
    broker: BrokerAddress, stream_file: Path, count: int, directory: Path, bands: int, arriving: int
) -> tuple[float, dict[str, object], int]:
    from maitre.config import Settings
    from maitre.runtime.service import VenueService, settle_heap

    engine = rig.sqlite_engine(directory)
    # The bench's gateways send as fast as they can, far past a real gateway's budget: measure the
    # pipeline, not the flood guard.
    settings = Settings(
        database_url=str(engine.url),
        mqtt_client_id=f"bench-service-{time.monotonic_ns()}",
        gateway_burst_messages=0,
    )
    service = VenueService(settings, engine, broker)
    settle_heap()  # as `maitre serve` does before it starts the service
    handle = service.ingest.handle
    # From the first message handled to the last one acknowledged: a message is done when the
    # service acknowledges it (after its events are matched), as the bare subscriber's is when
    # paho acknowledges it on return from on_message.
    marks = [0.0, 0.0, 0.0]  # first handled, last handled, last acknowledged
    cpu = [0.0, 0.0]  # process CPU time (every thread) at the first handled and the last acknowledged

    def timed(topic: str, payload: bytes) -> list[object]:
        if not marks[0]:
            marks[0] = time.perf_counter()
            cpu[0] = time.process_time()
        events = handle(topic, payload)
        marks[1] = time.perf_counter()
        return events  # type: ignore[return-value]

    service.ingest.handle = timed  # type: ignore[method-assign]
    await service.start()
    assert service.ingress is not None
    client = service.ingress.client
    ack = client.ack

    def timed_ack(mid: int, qos: int) -> MQTTErrorCode:
        done = ack(mid, qos)
        marks[2] = time.perf_counter()
        cpu[1] = time.process_time()
        return done

    client.ack = timed_ack  # type: ignore[method-assign]
    await asyncio.wait_for(service.ingress.connected.wait(), 10)
    await asyncio.sleep(0.3)  # the subscription is in place
    url = f"mqtt://{broker.host}:{broker.port}"
    publisher = await asyncio.create_subprocess_exec(
        *rig.python_child(__file__, "--role", "publish", "--url", url, "--file", str(stream_file)),
        env=rig.child_env(),
    )
    deadline = time.monotonic() + 600
    while service.ingest.stats.messages < count or len(service.matching):
        if time.monotonic() > deadline:
            raise RuntimeError(f"pipeline saw {service.ingest.stats.messages} of {count}")
        await asyncio.sleep(0.01)
    await publisher.wait()
    greeted = 0
    await asyncio.sleep(0.5)  # the last greetings commit
    from sqlmodel import select

    from maitre.db import session_scope
    from maitre.models import Alert

    with session_scope(engine) as session:
        greeted = len(list(session.exec(select(Alert).where(Alert.kind == "greet"))))
    stats = service.ingest.stats.as_dict()
    await service.stop()
    engine.dispose()
    gc.unfreeze()  # the next run's service starts from a heap of its own
    behind = marks[2] - marks[1]
    stats = {**stats, "acknowledged_after_last_handled_s": round(behind, 3), "cpu_s": cpu[1] - cpu[0]}
    return marks[2] - marks[0], stats, greeted


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--role", choices=["main", "bare", "publish"], default="main")
    parser.add_argument("--url")
    parser.add_argument("--file")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--batches", type=int, default=4000, help="messages in the stream")
    parser.add_argument("--per-batch", type=int, default=250, help="sightings per batch")
    parser.add_argument("--bands", type=int, default=10_000, help="tracked bands in the directory")
    parser.add_argument("--arriving", type=int, default=20, help="bands that walk in and are greeted")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--wire",
        choices=["json", "packed", "both"],
        default="both",
        help="the batches' encoding: JSON, packed (wire.encode_packed), or both side by side",
    )
    args = parser.parse_args()
    if args.role == "publish":
        publish(args.url, args.file)
        return
    if args.role == "bare":
        bare(args.url, args.count)
        return

    wires = ["json", "packed"] if args.wire == "both" else [args.wire]
    # Per encoding: seconds from first to last message, and the consumer's CPU seconds per message
    # (on a shared machine, steadier than rates).
    bare_times: dict[str, list[float]] = {w: [] for w in wires}
    pipe_times: dict[str, list[float]] = {w: [] for w in wires}
    bare_cpu: dict[str, list[float]] = {w: [] for w in wires}
    pipe_cpu: dict[str, list[float]] = {w: [] for w in wires}
    sizes: dict[str, float] = {}
    notes: list[str] = []
    for run in range(args.runs):
        for encoding in wires:  # taking turns, so a slow spell of a shared machine hits both
            with rig.workdir() as directory, rig.mosquitto(directory) as broker:
                ids = rig.seed(rig.sqlite_engine(directory), args.bands, reservations=args.arriving)

                def stream(ids: list[str] = ids, encoding: str = encoding) -> list[tuple[str, bytes]]:
                    # Stamped now: the service refuses sightings far from its clock, as it should.
                    return rig.stream(
                        ids,
                        args.batches,
                        args.per_batch,
                        time.time(),
                        arriving=ids[: args.arriving],
                        packed=encoding == "packed",
                    )

                messages = stream()
                sizes[encoding] = sum(len(p) for _, p in messages) / len(messages)
                stream_file = directory / "stream.pickle"
                stream_file.write_bytes(pickle.dumps(messages))
                elapsed, cpu = run_bare(broker, stream_file, len(messages))
                bare_times[encoding].append(elapsed)
                bare_cpu[encoding].append(cpu / len(messages))
                messages = stream()
                stream_file.write_bytes(pickle.dumps(messages))
                elapsed, stats, greeted = asyncio.run(
                    run_pipeline(broker, stream_file, len(messages), directory, args.bands, args.arriving)
                )
                pipe_times[encoding].append(elapsed)
                pipe_cpu[encoding].append(float(stats["cpu_s"]) / len(messages))  # type: ignore[arg-type]
                dropped = {**stats["dropped_messages"], **stats["dropped_sightings"]}  # type: ignore[dict-item]
                notes.append(
                    f"run {run + 1}, {encoding}: {stats['batches']} batches, {stats['sightings']} sightings "
                    f"to presence, {stats['presence_events']} presence events, {greeted} greeted, "
                    f"dropped {dropped or 'none'}; the last message acknowledged "
                    f"{stats['acknowledged_after_last_handled_s']} s after the last was handled"
                )
    sightings = args.batches * args.per_batch + (args.batches + 1) // 2 * args.arriving
    print(
        f"\n{args.batches} QoS 1 messages of {args.per_batch} sightings ({sightings:,} in all), "
        f"{args.bands:,} tracked bands, {args.arriving} walking in; median of {args.runs} runs; "
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs\n"
    )
    rows = []
    for encoding in wires:
        bare_rate = sightings / rig.median(bare_times[encoding])
        pipe_rate = sightings / rig.median(pipe_times[encoding])
        met = pipe_rate >= TARGET_RATIO * bare_rate and pipe_rate >= TARGET_RATE
        label = f"{encoding} batches, {sizes[encoding]:,.0f} bytes each"
        rows += [
            [
                f"bare paho subscriber (counts only), {label}",
                f"{args.batches / rig.median(bare_times[encoding]):,.0f}",
                f"{bare_rate:,.0f}",
                "1.00×",
                f"{rig.median(bare_cpu[encoding]) * 1e6:,.0f}",
                "baseline",
            ],
            [
                f"Maître ingest → presence → matching, {label}",
                f"{args.batches / rig.median(pipe_times[encoding]):,.0f}",
                f"{pipe_rate:,.0f}",
                f"{pipe_rate / bare_rate:.2f}×",
                f"{rig.median(pipe_cpu[encoding]) * 1e6:,.0f}",
                f"≥ {TARGET_RATIO}× and ≥ {TARGET_RATE:,}/s: {'met' if met else 'missed'}",
            ],
        ]
    print(rig.table(["consumer", "messages/s", "sightings/s", "vs bare", "CPU µs/message", "target"], rows))
    print()
    for note in notes:
        print(f"- {note}")


if __name__ == "__main__":
    main()
