"""Per-advertisement cost of the gateway's hot path, side by side with Theengs Decoder on the same frames.

Ours: bleak's detection callback (BleakSource.on_detection, real BLEDevice / AdvertisementData
objects) → Advertisement → GatewayAgent.on_advertisement (decode, allow-list, aggregate).
Theirs: TheengsDecoder.decodeBLE on the JSON string Theengs Gateway builds per advertisement
({"id", "manufacturerdata" | "servicedata"+"servicedatauuid", "rssi"}), strings prepared beforehand,
so its number is a lower bound of what Theengs Gateway spends.

    uv run --group bench python bench/gateway_decode.py  # table: docs/evaluation/2026-11-23-gateway-decode.md
    uv run python bench/gateway_decode.py --frames 50 --reps 1      # smoke run; Theengs optional
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from maitre.gateway.advertisement import Advertisement
from maitre.gateway.agent import GatewayAgent
from maitre.gateway.beacons.altbeacon import encode_altbeacon
from maitre.gateway.beacons.band import BAND_COMPANY_ID, encode_band
from maitre.gateway.beacons.eddystone import EDDYSTONE_SERVICE_UUID, encode_eddystone_uid
from maitre.gateway.beacons.ibeacon import APPLE_COMPANY_ID, encode_ibeacon
from maitre.mqtt import BrokerAddress

# A busy evening at the door, by share of advertisements heard: guests' and staff's bands, the
# venue's own iBeacons and Eddystones, a neighbour's AltBeacons, and everything else phones, laptops
# and earbuds send (Apple Continuity, Microsoft CDP, Google Fast Pair), which must cost little.
MIX = {"band": 0.40, "ibeacon": 0.20, "eddystone": 0.05, "altbeacon": 0.05, "unknown": 0.30}
FAST_PAIR_UUID = "0000fe2c-0000-1000-8000-00805f9b34fb"


class Frame:
    """One advertisement, ready for both decoders."""

    __slots__ = ("adv", "ble", "kind", "theengs")

    def __init__(self, kind: str, adv: Advertisement, theengs: str, ble: Any) -> None:
        self.kind = kind
        self.adv = adv
        self.theengs = theengs
        self.ble = ble


def make_frames(count: int, seed: int = 1) -> list[Frame]:
    rng = random.Random(seed)
    bands = [rng.randbytes(8) for _ in range(60)]
    uuids = [f"{rng.getrandbits(128):032x}" for _ in range(20)]
    namespaces = [(rng.randbytes(10), rng.randbytes(6)) for _ in range(5)]
    frames = []
    kinds, weights = zip(*MIX.items(), strict=True)
    for _ in range(count):
        kind = rng.choices(kinds, weights)[0]
        mac = ":".join(f"{b:02X}" for b in rng.randbytes(6))
        rssi = rng.randint(-95, -45)
        manufacturer: dict[int, bytes] = {}
        service: dict[str, bytes] = {}
        if kind == "band":
            manufacturer[BAND_COMPANY_ID] = encode_band(rng.choice(bands), -59, 80)
        elif kind == "ibeacon":
            u = rng.choice(uuids)
            uuid = f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}"
            manufacturer[APPLE_COMPANY_ID] = encode_ibeacon(uuid, rng.randint(0, 3), rng.randint(0, 50), -59)
        elif kind == "eddystone":
            ns, inst = rng.choice(namespaces)
            service[EDDYSTONE_SERVICE_UUID] = encode_eddystone_uid(ns, inst, -59)
        elif kind == "altbeacon":
            manufacturer[0x0118] = encode_altbeacon(bytes(range(16)), 1, rng.randint(0, 9), -59)
        else:
            choice = rng.random()
            if choice < 0.6:  # Apple Continuity "nearby info": changes constantly
                manufacturer[APPLE_COMPANY_ID] = bytes.fromhex("1005") + rng.randbytes(5)
            elif choice < 0.8:  # Microsoft Connected Devices Platform
                manufacturer[0x0006] = bytes.fromhex("010920") + rng.randbytes(24)
            else:  # Google Fast Pair
                service[FAST_PAIR_UUID] = rng.randbytes(3)
        adv = Advertisement(mac, rssi, time.time(), manufacturer, service)
        frames.append(Frame(kind, adv, _theengs_json(mac, rssi, manufacturer, service), _bleak_objects(adv)))
    return frames


def _theengs_json(mac: str, rssi: int, manufacturer: dict[int, bytes], service: dict[str, bytes]) -> str:
    """The JSON Theengs Gateway hands decodeBLE: manufacturer data with its company id first."""
    record: dict[str, object] = {"id": mac, "rssi": rssi}
    for company, data in manufacturer.items():
        record["manufacturerdata"] = company.to_bytes(2, "little").hex() + data.hex()
    for uuid, data in service.items():
        record["servicedata"] = data.hex()
        record["servicedatauuid"] = f"0x{uuid[4:8]}"
    return json.dumps(record)


def _bleak_objects(adv: Advertisement) -> Any:
    try:
        from bleak.backends.device import BLEDevice
        from bleak.backends.scanner import AdvertisementData
    except ImportError:
        return None
    data = AdvertisementData(
        local_name=None,
        manufacturer_data=adv.manufacturer_data,
        service_data=adv.service_data,
        service_uuids=list(adv.service_data),
        tx_power=None,
        rssi=int(adv.rssi),
        platform_data=(),
    )
    return BLEDevice(adv.address, None, details=None), data


def time_ours(frames: list[Frame], repeat: int, reps: int) -> float:
    """Median µs per advertisement through the bleak callback and the agent."""
    agent = GatewayAgent("bench", "door", BrokerAddress("127.0.0.1", 9))
    call: Callable[[], None]
    if frames[0].ble is not None:
        from maitre.gateway.sources.ble import BleakSource

        source = BleakSource()
        source._sink = agent.on_advertisement  # what run() does once the scanner is up
        detect = source.on_detection
        pairs = [f.ble for f in frames] * repeat

        def call() -> None:
            for device, data in pairs:
                detect(device, data)

    else:  # without bleak: from the Advertisement on
        hear = agent.on_advertisement
        advs = [f.adv for f in frames] * repeat

        def call() -> None:
            for adv in advs:
                hear(adv)

    call()  # warm up: the first pass decodes each distinct frame once and fills the window
    agent.window.drain()
    results = []
    for _ in range(reps):
        gc.collect()  # start each run from a settled heap, as a long-running gateway has
        start = time.perf_counter()
        call()
        results.append((time.perf_counter() - start) / (len(frames) * repeat) * 1e6)
        agent.window.drain()  # a batch goes out every interval; outside the per-advertisement cost
    return statistics.median(results)


def time_theengs(frames: list[Frame], reps: int) -> float | None:
    """Median µs per advertisement for TheengsDecoder.decodeBLE, or None if it is not installed."""
    try:
        from TheengsDecoder import decodeBLE
    except ImportError:
        return None
    texts = [f.theengs for f in frames]
    results = []
    for _ in range(reps):
        gc.collect()
        start = time.perf_counter()
        for text in texts:
            decodeBLE(text)
        results.append((time.perf_counter() - start) / len(texts) * 1e6)
    return statistics.median(results)


def recognised(frames: list[Frame]) -> tuple[int, int | None]:
    """How many frames each side turns into something (ours: a sighting; Theirs: a decoded device)."""
    from maitre.gateway.beacons import identify

    ours = sum(identify(f.adv) is not None for f in frames)
    try:
        from TheengsDecoder import decodeBLE
    except ImportError:
        return ours, None
    return ours, sum(decodeBLE(f.theengs) is not None for f in frames)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--frames", type=int, default=2000, help="distinct advertisements in the mix")
    parser.add_argument("--reps", type=int, default=7, help="repetitions; the median is reported")
    parser.add_argument("--repeat", type=int, default=20, help="passes over the mix per repetition (ours)")
    args = parser.parse_args(argv)

    frames = make_frames(args.frames)
    rows: list[tuple[str, int, float, float | None]] = []
    for kind in ("all (mix)", *MIX):
        subset = frames if kind == "all (mix)" else [f for f in frames if f.kind == kind]
        if not subset:
            continue
        ours = time_ours(subset, args.repeat, args.reps)
        theirs = time_theengs(subset, args.reps)
        rows.append((kind, len(subset), ours, theirs))

    path = "bleak callback → agent" if frames[0].ble is not None else "agent.on_advertisement"
    print(f"Python {platform.python_version()} on {platform.machine()} ({platform.processor() or 'cpu'}),")
    print(f"median of {args.reps} runs; ours = {path}; Theengs = TheengsDecoder.decodeBLE\n")
    print("| frames | count | ours µs/adv | Theengs µs/adv | Theengs ÷ ours |")
    print("|---|---:|---:|---:|---:|")
    for kind, count, ours, theirs in rows:
        if theirs is None:
            print(f"| {kind} | {count} | {ours:.2f} | not installed | |")
        else:
            print(f"| {kind} | {count} | {ours:.2f} | {theirs:.1f} | {theirs / ours:,.0f}× |")
    ours_n, theirs_n = recognised(frames)
    theirs_text = "Theengs not installed" if theirs_n is None else f"Theengs decoded {theirs_n}"
    print(f"\nof {len(frames)} frames, ours recognised {ours_n}; {theirs_text}")
    if frames[0].ble is None:
        print("(bleak is not installed: ours is timed from the Advertisement on)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
