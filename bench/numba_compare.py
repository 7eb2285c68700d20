"""The numba-compiled kernels against the same functions in numpy and in plain Python, side by side.

Three implementations of every kernel the service compiles with numba (src/maitre/compiled.py's
`unchecked` callers):

- numba: the service's own functions, called as the service calls them (the unchecked entry points);
- numpy: the same function written as whole-array numpy here (this file only; src/ is untouched),
  checked to give the same bits on the same inputs;
- python: the service's own functions with NUMBA_DISABLE_JIT=1, in a child process: numba's
  decorators then hand back the plain Python functions (the child makes `unchecked` the identity,
  since src/maitre/compiled.py needs a dispatcher and cannot import with the JIT disabled);
- cython (with --cython DIR): bench/cython_kernels.pyx, the same loops typed, built in DIR (see there).

Every column's results are compared with numba's (a digest of every array a kernel writes).
The inputs are a 6-gateway venue (2 door, 2 inside, 2 approach) with 1,000 bands (a 1,024-row
table), and 250-sighting batches: every band heard by every gateway every 2 s, so each link takes
the Kalman update (the most work a sighting can cost), 20 bands loud at the door.

    uv run python bench/numba_compare.py                       # the kernel table
    uv run python bench/numba_compare.py --imports             # import times, fresh interpreters
    uv run python bench/numba_compare.py --ingest numba,numpy --rounds 5
        # bench/ingest.py, one run a round, numba's kernels and numpy's taking turns
    uv run python bench/numba_compare.py --ingest python --rounds 3 -- --wire json
        # the same with the JIT disabled (arguments after -- go to bench/ingest.py)
    uv run python bench/numba_compare.py --cython /tmp/cyk --ingest numba,numpy,cython

The findings: docs/evaluation/2026-12-08-numba.md.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

GATEWAYS = 6
ROLES = (1, 1, 2, 2, 3, 3)  # role_kernel's codes: door, door, inside, inside, approach, approach
BANDS = 1000
ROWS = 1024  # role_rule doubles its table from 64 rows: 1,000 bands take 1,024
PER_BATCH = 250
LOUD = 20  # bands at the door gateways
WINDOW = 0.5  # seconds between two batches of one gateway
BATCHES = 24  # batches per timed pass of observe_round: each gateway 4 times
WARM_BATCHES = 5 * BATCHES  # before it, 10 s of the venue: most faint bands reported approaching

# numba's kernels in numpy ----------------------------------------------------------------------------

# role_kernel's plane and setting indices (repeated here so this part needs no numba to import).
X, RATE, P00, P01, P11, LAST = range(6)
HEARD, ARRIVED, APPROACHING, INSIDE_SINCE, OUTSIDE_SINCE = range(5)
NO_ROLE, DOOR_ROLE, INSIDE_ROLE, APPROACH_ROLE = range(4)
(STALE_S, ACCEL_NOISE, FADING_VAR, FLOOR_VAR, PATH_LOSS_EXPONENT, ARRIVE_M, INSIDE_M, APPROACH_M) = range(8)
LEAVE_M, INSIDE_MARGIN_DB, APPROACH_RATE_DB_S, SLACK = range(8, 12)
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
IntP = npt.NDArray[np.intp]
U64 = npt.NDArray[np.uint64]


def observe_round_numpy(
    links: F64,
    state: F64,
    rows: IntP,
    t: F64,
    z: F64,
    count: F64,
    column: int,
    roles: npt.NDArray[np.int8],
    cfg: F64,
    out_index: I64,
    out_values: F64,
) -> int:
    """role_kernel.observe_round over whole arrays (the rows of one round are distinct)."""
    stale, q = cfg[STALE_S], cfg[ACCEL_NOISE]
    link = links[rows, column]
    dt = t - link[:, LAST]
    restart = ~(dt <= stale)
    update = ~restart & (dt > 0)
    if update.any():
        u = np.flatnonzero(update)
        d = dt[u]
        x, rate, p00, p01, p11 = (link[u, k] for k in (X, RATE, P00, P01, P11))
        dt2 = d * d
        x = x + rate * d
        p00 = p00 + d * (2 * p01 + d * p11) + q * dt2 * d / 3
        p01 = p01 + d * p11 + q * dt2 / 2
        p11 = p11 + q * d
        s = p00 + (cfg[FADING_VAR] / np.maximum(count[u], 1.0) + cfg[FLOOR_VAR])
        k0 = p00 / s
        k1 = p01 / s
        y = z[u] - x
        link[u, X] = x + k0 * y
        link[u, RATE] = rate + k1 * y
        link[u, P11] = p11 - k1 * p01
        link[u, P01] = (1 - k0) * p01
        link[u, P00] = (1 - k0) * p00
        link[u, LAST] = t[u]
    if restart.any():
        r = np.flatnonzero(restart)
        link[r] = (0.0, 0.0, 25.0, 0.0, 4.0, 0.0)
        link[r, X] = z[r]
        link[r, LAST] = t[r]
    active = np.flatnonzero(restart | update)
    if not len(active):
        return 0
    act_rows = rows[active]
    links[act_rows, column] = link[active]
    band = state[act_rows]
    band[:, HEARD] = np.maximum(band[:, HEARD], t[active])
    state[act_rows, HEARD] = band[:, HEARD]
    arrived = band[:, ARRIVED] != 0
    if roles[column] == APPROACH_ROLE:
        keep = np.flatnonzero(arrived)  # outside readings only ever hold an arrival back
        active, act_rows, band, arrived = active[keep], act_rows[keep], band[keep], arrived[keep]
    # Per role, the loudest fresh link (argmax: the first column wins a tie, as in the loop).
    other = links[act_rows]  # (band, column, plane)
    age = t[active, None] - other[:, :, LAST]
    level = np.where(age <= stale, other[:, :, X] + other[:, :, RATE] * age, -math.inf)
    best = []
    for role in (DOOR_ROLE, INSIDE_ROLE, APPROACH_ROLE):
        of_role = np.where(roles == role, level, -math.inf)
        col = of_role.argmax(axis=1)
        best.append((of_role[np.arange(len(col)), col], col))
    (door, door_col), (inside, inside_col), (outside, _) = best
    has_door = door > -math.inf
    near = np.where(has_door, door, inside)
    near_col = np.where(has_door, door_col, inside_col)
    heard_outside = outside > -math.inf
    margin = np.where(heard_outside, near - np.where(heard_outside, outside, 0.0), cfg[INSIDE_MARGIN_DB])
    near_rate = other[np.arange(len(near_col)), near_col, RATE]
    with np.errstate(invalid="ignore", over="ignore"):
        d = 10.0 ** (-near / (10 * cfg[PATH_LOSS_EXPONENT]))
    slack = cfg[SLACK]
    leaving = (
        (d >= cfg[LEAVE_M] * (1 - slack))
        | (margin <= -cfg[INSIDE_MARGIN_DB])
        | ~np.isnan(band[:, OUTSIDE_SINCE])
    )
    radius = np.where(has_door, cfg[ARRIVE_M], cfg[INSIDE_M])
    coming = (
        ((d <= radius * (1 + slack)) & (margin >= cfg[INSIDE_MARGIN_DB]))
        | (
            (band[:, APPROACHING] == 0)
            & has_door
            & (d <= cfg[APPROACH_M] * (1 + slack))
            & (near_rate >= cfg[APPROACH_RATE_DB_S])
        )
        | ~np.isnan(band[:, INSIDE_SINCE])
    )
    moving = (has_door | (inside > -math.inf)) & np.where(arrived, leaving, coming)
    pick = np.flatnonzero(moving)
    found = len(pick)
    out_index[:found] = active[pick]
    values = out_values[:found]
    values[:, 0] = near[pick]
    values[:, 1] = margin[pick]
    values[:, 2] = near_rate[pick]
    values[:, 3] = has_door[pick]
    values[:, 4] = near_col[pick]
    return found


def keep_keyed_numpy(rows: IntP, keys: U64, row_key: U64, row_keyed: npt.NDArray[np.bool_]) -> int:
    """role_kernel.keep_keyed: rows[i] = -1 where that row no longer holds keys[i]; how many still do."""
    held = rows >= 0
    at = np.where(held, rows, 0)
    held &= row_keyed[at] & (row_key[at] == keys)
    rows[~held] = -1
    return int(np.count_nonzero(held))


def occurrences_numpy(rows: IntP, mark: I64, seen: I64, stamp: int, out: I64) -> int:
    """role_kernel.occurrences (mark, seen and stamp unused): earlier occurrences of each row."""
    n = len(rows)
    if not n:
        return 0
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    first = np.empty(n, dtype=np.bool_)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    position = np.arange(n)
    out[order] = position - np.maximum.accumulate(np.where(first, position, 0))
    return int(out.max())


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SHIFT = np.uint64(32)
_ONE = np.uint64(1)


def _slots(keys: U64, mask: np.uint64) -> U64:
    return ((keys * _GOLDEN) >> _SHIFT) & mask  # (uint64 arrays wrap, as numba's do)


def find_numpy(table_keys: U64, table_values: IntP, keys: U64, out: IntP) -> int:
    """key_index._find: the same table, probed for every key at once, one step a pass."""
    mask = np.uint64(len(table_keys) - 1)
    slot = _slots(keys, mask)
    pending = np.arange(len(keys))
    while True:
        value = table_values[slot]
        going = (value != -1) & (table_keys[slot] != keys[pending])
        out[pending] = value
        if not going.any():
            break
        pending = pending[going]
        slot = (slot[going] + _ONE) & mask
    return int(np.count_nonzero(out != -1))


def insert_numpy(table_keys: U64, table_values: IntP, keys: U64, values: IntP) -> int:
    """key_index._insert: every key probed at once; of several keys racing for a free slot the
    first takes it. (Where a key comes twice, the last value wins, as in the loop.)"""
    if not len(keys):
        return 0
    _, last = np.unique(keys[::-1], return_index=True)
    pick = len(keys) - 1 - last
    keys, values = keys[pick], values[pick]
    mask = np.uint64(len(table_keys) - 1)
    slot = _slots(keys, mask)
    pending = np.arange(len(keys))
    new = 0
    while len(pending):
        at = table_values[slot]
        same = (at != -1) & (table_keys[slot] == keys[pending])
        table_values[slot[same]] = values[pending[same]]
        free = np.flatnonzero(at == -1)
        _, first = np.unique(slot[free], return_index=True)
        won = free[first]
        table_keys[slot[won]] = keys[pending[won]]
        table_values[slot[won]] = values[pending[won]]
        new += len(won)
        going = ~same
        going[won] = False
        pending = pending[going]
        slot = (slot[going] + _ONE) & mask
    return new


_MAC, _BAND, _SCHEMES, _NO_TX = 3, 1, 3, -128
_MAC_LIMIT = np.uint64(1 << 48)


def scan_numpy(
    key: U64,
    t: F64,
    rssi: npt.NDArray[np.int16],
    rssi_max: npt.NDArray[np.int16],
    n: npt.NDArray[np.uint16],
    tx: npt.NDArray[np.int8],
    scheme: npt.NDArray[np.uint8],
) -> tuple[int, int]:
    """packed._scan: each bound over its whole column, then the first sighting that breaks one."""
    with np.errstate(invalid="ignore"):
        broken = (
            (scheme < 1) | (scheme > _SCHEMES),
            (scheme == _MAC) & (key >= _MAC_LIMIT),
            ~((t >= 0) & (t < math.inf)),
            (rssi < -1270) | (rssi > 200),
            (rssi_max < -1270) | (rssi_max > 200),
            n < 1,
            tx > 20,
        )
    bad = broken[0] | broken[1] | broken[2] | broken[3] | broken[4] | broken[5] | broken[6]
    if bad.any():
        i = int(bad.argmax())
        which = next(k for k, column in enumerate(broken) if column[i])
        return which << 32 | i, 0
    return -1, len(scheme) - int(np.count_nonzero(scheme == _BAND))


def levels_numpy(
    t: F64,
    earliest: float,
    latest: float,
    rssi: npt.NDArray[np.int16],
    tx: npt.NDArray[np.int8],
    n: npt.NDArray[np.uint16],
    power: float,
    z: F64,
    count: F64,
) -> int:
    """packed.levels over whole columns."""
    np.subtract(rssi / 10, np.where(tx == _NO_TX, power, tx), out=z)
    count[:] = n
    return len(t) - int(np.count_nonzero((earliest <= t) & (t <= latest)))


# The workloads ---------------------------------------------------------------------------------------


@dataclass
class Kernels:
    """One implementation of each kernel, with the service's calling conventions."""

    observe_round: Callable[..., int]
    keep_keyed: Callable[..., int]
    occurrences: Callable[..., int]
    find: Callable[..., int]
    insert: Callable[..., int]
    scan: Callable[..., tuple[int, int]]
    levels: Callable[..., int]


def service_kernels() -> Kernels:
    """The service's functions as it calls them: compiled entry points, or with the JIT disabled,
    the plain Python functions."""
    from maitre.ingest import packed
    from maitre.presence import key_index, role_kernel

    return Kernels(
        role_kernel.observe_round_unchecked,
        role_kernel.keep_keyed_unchecked,
        role_kernel.occurrences_unchecked,
        key_index._find_unchecked,
        key_index._insert,
        packed._scan_unchecked,
        packed.levels_unchecked,
    )


NUMPY = Kernels(
    observe_round_numpy,
    keep_keyed_numpy,
    occurrences_numpy,
    find_numpy,
    insert_numpy,
    scan_numpy,
    levels_numpy,
)


def cfg_array() -> F64:
    from maitre.presence.config import PresenceConfig

    c = PresenceConfig()
    return np.array(
        [
            c.stale_s,
            c.accel_noise,
            c.fading_var,
            c.floor_var,
            c.path_loss_exponent,
            c.arrive_m,
            c.inside_m,
            c.approach_m,
            c.leave_m,
            c.inside_margin_db,
            c.approach_rate_db_s,
            1e-9,
        ]
    )


def venue_batches(
    count: int, start: float, first: int = 0, seed: int = 1
) -> list[tuple[int, IntP, F64, F64, F64]]:
    """(column, rows, t, z, packets) of `count` batches, the gateways taking turns every WINDOW / 6 s.

    A gateway's k-th batch hears the k-th quarter (mod 4) of the bands, shuffled: each link is
    updated every 2 s, within stale_s, so every sighting takes the filter's update."""
    order = np.random.default_rng(0).permutation(BANDS)
    rng = np.random.default_rng(seed)
    out = []
    for seq in range(first, first + count):
        column = seq % GATEWAYS
        quarter = (seq // GATEWAYS) % (BANDS // PER_BATCH)
        rows = rng.permutation(order[quarter * PER_BATCH : (quarter + 1) * PER_BATCH]).astype(np.intp)
        t = np.full(PER_BATCH, round(start + seq * WINDOW / GATEWAYS, 3))
        rssi = np.round(-80.0 + rng.random(PER_BATCH) * 6, 1)
        loud = rows < LOUD
        role = ROLES[column]
        rssi[loud] = {DOOR_ROLE: -45.0, INSIDE_ROLE: -60.0, APPROACH_ROLE: -85.0}[role]
        z = rssi - (-59.0)
        packets = rng.integers(1, 6, PER_BATCH).astype(np.float64)
        out.append((column, rows, t, z, packets))
    return out


def digest(*arrays: Any) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:12]


def timed(
    pass_: Callable[[], object], calls: int, repeats: int, setup: Callable[[], object] | None = None
) -> float:
    """Median over `repeats` of one pass's µs per call (a pass makes `calls` calls)."""
    samples = []
    gc.disable()
    try:
        for _ in range(repeats):
            if setup is not None:
                setup()
            start = time.perf_counter_ns()
            pass_()
            samples.append((time.perf_counter_ns() - start) / calls / 1e3)
    finally:
        gc.enable()
    return statistics.median(samples)


def run_kernels(k: Kernels, scale: float) -> dict[str, tuple[float, str, str]]:
    """Each kernel's µs a call (median), a digest of what it computed, and a note."""
    from maitre import wire
    from maitre.ingest import packed
    from maitre.presence.key_index import KeyIndex

    repeats = max(5, round(15 * scale))
    results: dict[str, tuple[float, str, str]] = {}
    cfg = cfg_array()
    roles = np.array(ROLES, dtype=np.int8)

    # role_kernel.observe_round: a warm table, then BATCHES batches a pass.
    links = np.full((ROWS, GATEWAYS, 6), math.nan)
    state = np.zeros((ROWS, 5))
    state[:, INSIDE_SINCE:] = math.nan
    # The warm-up's candidates go through the service's own state machine (RoleRule._step), so
    # bands already reported approaching or arrived are marked so, as in a running service.
    from maitre.presence.config import PresenceConfig
    from maitre.presence.role_rule import RoleRule

    rule = RoleRule("bistro", {}, PresenceConfig())
    rule._state = state
    index, values = np.empty(PER_BATCH, np.int64), np.empty((PER_BATCH, 5))
    for column, rows, t, z, packets in venue_batches(WARM_BATCHES, 1000.0, seed=2):
        n = k.observe_round(links, state, rows, t, z, packets, column, roles, cfg, index, values)
        for i, (level, margin, rate, door, col) in zip(index[:n].tolist(), values[:n].tolist(), strict=True):
            row = int(rows[i])
            rule._step(f"band{row}", row, float(t[i]), level, margin, rate, door != 0, f"gw{col:.0f}")
    warm = links.copy(), state.copy()
    batches = venue_batches(BATCHES, 1000.0, first=WARM_BATCHES)
    outs = [(np.zeros(PER_BATCH, np.int64), np.zeros((PER_BATCH, 5))) for _ in batches]
    found = [0] * len(batches)

    def restore() -> None:
        np.copyto(links, warm[0])
        np.copyto(state, warm[1])

    def observe_pass() -> None:
        for j, ((column, rows, t, z, packets), (index, values)) in enumerate(zip(batches, outs, strict=True)):
            found[j] = k.observe_round(links, state, rows, t, z, packets, column, roles, cfg, index, values)

    us = timed(observe_pass, len(batches), repeats, restore)
    kept = [a[:n] for (index, values), n in zip(outs, found, strict=True) for a in (index, values)]
    note = f"{statistics.mean(found):.1f} candidates a batch"
    results["role_kernel.observe_round"] = (us, digest(links, state, np.array(found), *kept), note)

    # role_kernel.keep_keyed: every row still holds its key.
    row_key = np.zeros(ROWS, np.uint64)
    row_keyed = np.zeros(ROWS, np.bool_)
    row_key[:BANDS] = np.arange(BANDS, dtype=np.uint64)
    row_keyed[:BANDS] = True
    rows0 = batches[0][1]
    keys0 = rows0.astype(np.uint64)
    rows_in = rows0.copy()
    rows_in[:5] = rows_in[5:10]  # five rows that no longer hold their keys
    calls = max(200, round(2000 * scale))
    scratch = rows_in.copy()
    held = [0]

    def keep_pass() -> None:
        for _ in range(calls):
            held[0] = k.keep_keyed(scratch, keys0, row_key, row_keyed)

    us = timed(keep_pass, calls, repeats, lambda: np.copyto(scratch, rows_in))
    results["role_kernel.keep_keyed"] = (us, digest(scratch, np.array(held)), "5 of 250 rows reused")

    # role_kernel.occurrences: stamps fresh each call, as role_rule's are.
    mark = np.zeros(ROWS, np.int64)
    seen = np.zeros(ROWS, np.int64)
    repeat = np.empty(PER_BATCH, np.int64)
    rows_dup = rows0.copy()
    rows_dup[-3:] = rows_dup[:3]  # three bands twice in the batch
    stamp = [0]
    most = [0]

    def occurrences_pass() -> None:
        for _ in range(calls):
            stamp[0] += 1
            most[0] = k.occurrences(rows_dup, mark, seen, stamp[0], repeat)

    us = timed(occurrences_pass, calls, repeats)
    results["role_kernel.occurrences"] = (us, digest(repeat, np.array(most)), "3 of 250 rows twice")

    # key_index: 1,000 keys (the bench stream's band keys: sequential), 250 looked up, 10 absent.
    index = KeyIndex()
    index.add(np.arange(BANDS, dtype=np.uint64), np.arange(BANDS, dtype=np.intp))
    query = np.concatenate([keys0[:240], np.arange(10, dtype=np.uint64) + np.uint64(10**9)])
    out = np.empty(len(query), np.intp)
    present = [0]

    def find_pass() -> None:
        for _ in range(calls):
            present[0] = k.find(index._keys, index._values, query, out)

    us = timed(find_pass, calls, repeats)
    results["key_index lookup (_find)"] = (us, digest(out, np.array(present)), f"{len(index._keys)} slots")

    # key_index insert: 250 new keys into the 1,000 (the table has room), on a fresh copy each call.
    fresh = np.arange(BANDS, BANDS + PER_BATCH, dtype=np.uint64)
    fresh_values = np.arange(BANDS, BANDS + PER_BATCH, dtype=np.intp)
    tables = [(index._keys.copy(), index._values.copy()) for _ in range(max(50, round(200 * scale)))]
    added = [0]

    def fill() -> None:
        for keys_, values_ in tables:
            np.copyto(keys_, index._keys)
            np.copyto(values_, index._values)

    def insert_pass() -> None:
        for keys_, values_ in tables:
            added[0] = k.insert(keys_, values_, fresh, fresh_values)

    us = timed(insert_pass, len(tables), repeats, fill)
    # (layouts may differ where keys race for a slot: the digest is of what a look-up finds)
    found_after = np.empty(BANDS + PER_BATCH, np.intp)
    probe = np.arange(BANDS + PER_BATCH, dtype=np.uint64)
    NUMPY.find(tables[0][0], tables[0][1], probe, found_after)
    results["key_index insert (_insert)"] = (us, digest(found_after, np.array(added)), "250 new into 1,000")

    # packed: a 250-sighting batch of band keys, decoded; then its bounds scan and levels alone.
    rng = np.random.default_rng(3)
    body = wire.SightingBatch(
        v=1,
        venue="bistro",
        gateway="door",
        boot="bench",
        seq=1,
        sent=1000.0,
        window=WINDOW,
        sightings=[
            wire.Sighting(
                id=f"band:{int(r):016x}",
                rssi=round(-80.0 + float(rng.random()) * 6, 1),
                rssi_max=-76.0,
                n=3,
                t=1000.0,
                tx=-59 if r % 7 else None,
            )
            for r in rows0
        ],
    )
    payload = wire.encode_packed(body)
    batch = packed.decode(payload)
    columns = (batch.key, batch.t, batch.rssi, batch.rssi_max, batch.n, batch.tx, batch.scheme)
    scanned: list[tuple[int, int]] = [(0, 0)]

    def scan_pass() -> None:
        for _ in range(calls):
            scanned[0] = k.scan(*columns)

    us = timed(scan_pass, calls, repeats)
    results["packed._scan"] = (us, digest(np.array(scanned[0])), "250 band sightings, all valid")

    decoded: list[Any] = [None]

    def decode_pass() -> None:
        for _ in range(calls):
            decoded[0] = packed.decode(payload)

    with swapped(packed, "_scan_unchecked", k.scan):
        us = timed(decode_pass, calls, repeats)
    d = decoded[0]
    results["packed.decode (whole)"] = (
        us,
        digest(d.key, d.t, d.rssi, np.array(d.others)),
        "header + columns + scan",
    )

    z = np.empty(len(batch))
    packets = np.empty(len(batch))
    late = [0]

    def levels_pass() -> None:
        for _ in range(calls):
            late[0] = k.levels(batch.t, 995.0, 1005.0, batch.rssi, batch.tx, batch.n, -59.0, z, packets)

    us = timed(levels_pass, calls, repeats)
    results["packed.levels"] = (us, digest(z, packets, np.array(late)), "250 sightings")
    return results


@contextlib.contextmanager
def swapped(module: ModuleType, name: str, value: object) -> Iterator[None]:
    old = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, old)


def disable_jit() -> None:
    """NUMBA_DISABLE_JIT=1 before numba is imported, and `unchecked` the identity (it needs a
    dispatcher, and the JIT disabled hands back plain functions)."""
    assert "numba" not in sys.modules, "numba imported already: too late to disable its JIT"
    os.environ["NUMBA_DISABLE_JIT"] = "1"
    import maitre.compiled

    maitre.compiled.unchecked = lambda f: f  # type: ignore[assignment]  # (the service's is never called)


def python_child(scale: float) -> dict[str, tuple[float, str, str]]:
    """The plain-Python column, in a child process with the JIT disabled."""
    out = subprocess.run(
        [sys.executable, __file__, "--child-python", "--scale", str(scale)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONPATH": str(ROOT)},
    )
    return {name: tuple(v) for name, v in json.loads(out.stdout).items()}  # type: ignore[misc]


def cython_kernels(directory: str) -> Kernels:
    """bench/cython_kernels.pyx, built in `directory` (see its header)."""
    sys.path.insert(0, directory)
    import cython_kernels as ck  # type: ignore[import-not-found]

    def keep_keyed(rows: IntP, keys: U64, row_key: U64, row_keyed: npt.NDArray[np.bool_]) -> int:
        return int(ck.keep_keyed(rows, keys, row_key, row_keyed.view(np.uint8)))  # (a bool buffer: no)

    return Kernels(ck.observe_round, keep_keyed, ck.occurrences, ck.find, ck.insert, ck.scan, ck.levels)


def kernel_table(scale: float, python: bool, cython: str | None) -> None:
    import numba

    numba_results = run_kernels(service_kernels(), scale)
    numpy_results = run_kernels(NUMPY, scale)
    cython_results = run_kernels(cython_kernels(cython), scale) if cython else {}
    python_results = python_child(scale / 20) if python else {}
    header = ["kernel (250-sighting batch)", "numba µs", "numpy µs", "python µs"]
    header += ["cython µs"] if cython else []
    header += ["numpy / numba", "python / numba", "same result", "input"]
    rows = []
    for name, (nb, nb_digest, note) in numba_results.items():
        np_us, np_digest, _ = numpy_results[name]
        py = python_results.get(name)
        cy = cython_results.get(name)
        same = [np_digest == nb_digest] + [other[1] == nb_digest for other in (py, cy) if other]
        row = [name, f"{nb:,.2f}", f"{np_us:,.2f}", f"{py[0]:,.1f}" if py else "-"]
        row += [f"{cy[0]:,.2f}"] if cy else []
        row += [
            f"{np_us / nb:,.1f}×",
            f"{py[0] / nb:,.0f}×" if py else "-",
            "yes" if all(same) else "NO",
            note,
        ]
        rows.append(row)
    print(
        f"\nmedian µs a call; numba {numba.__version__}, numpy {np.__version__}, "
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs; {GATEWAYS} gateways, {BANDS:,} bands, {PER_BATCH} sightings a batch\n"
    )
    from bench import rig

    print(rig.table(header, rows))
    print(
        "\nkey look-up, another structure in numpy (sorted keys, np.searchsorted): "
        f"{sorted_lookup(scale):.2f} µs a call"
    )


def sorted_lookup(scale: float) -> float:
    """The key_index workload's 250 look-ups in 1,000 keys, as a sorted array and np.searchsorted."""
    table = np.arange(BANDS, dtype=np.uint64)
    values = np.arange(BANDS, dtype=np.intp)
    rng = np.random.default_rng(4)
    query = np.concatenate([rng.permutation(table)[:240], np.arange(10, dtype=np.uint64) + np.uint64(10**9)])
    calls = max(200, round(2000 * scale))

    def lookup_pass() -> None:
        for _ in range(calls):
            at = np.searchsorted(table, query)
            at[at == len(table)] = 0
            hit = table[at] == query
            np.where(hit, values[at], -1)

    return timed(lookup_pass, calls, max(5, round(15 * scale)))


# Import times ----------------------------------------------------------------------------------------

FAKE_NUMBA = """
import sys, types
class _Any:
    def __getattr__(self, name): return self
    def __getitem__(self, key): return self
    def __call__(self, *args, **kwargs):
        return args[0] if len(args) == 1 and callable(args[0]) and not isinstance(args[0], _Any) else self
fake = types.ModuleType("numba")
fake.__getattr__ = lambda name: _Any()
fake.njit = lambda *a, **k: (lambda f: f)
sys.modules["numba"] = fake
compiled = types.ModuleType("maitre.compiled")
compiled.unchecked = lambda f: f
sys.modules["maitre.compiled"] = compiled
"""


def import_seconds(module: str, prelude: str = "", env: dict[str, str] | None = None) -> float:
    """Seconds a fresh interpreter takes to import `module` (after `prelude`, untimed)."""
    code = f"{prelude}\nimport time\nt = time.perf_counter()\nimport {module}\nprint(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env)
    return float(out.stdout.split()[-1])


def import_table(runs: int) -> None:
    import tempfile

    from bench import rig

    cases: list[tuple[str, str, str]] = [
        ("numpy", "", "numpy"),
        ("numba", "", "numba"),
        ("llvmlite.binding", "", "llvmlite.binding"),
        ("maitre.ingest.packed", "", "maitre.ingest.packed"),
        ("maitre.presence.role_rule", "", "maitre.presence.role_rule"),
        ("maitre.presence.engine", "", "maitre.presence.engine"),
        ("maitre.presence.engine, numba stubbed out", FAKE_NUMBA, "maitre.presence.engine"),
        ("maitre.ingest.pipeline", "", "maitre.ingest.pipeline"),
        ("maitre.ingest.pipeline, numba stubbed out", FAKE_NUMBA, "maitre.ingest.pipeline"),
    ]
    rows = []
    for label, prelude, module in cases:
        import_seconds(module, prelude)  # the OS's file cache warm
        samples = [import_seconds(module, prelude) for _ in range(runs)]
        rows.append([label, f"{statistics.median(samples) * 1e3:,.0f}", f"{min(samples) * 1e3:,.0f}"])
    # numba's on-disk cache empty: what the first start after an install (or a changed source) pays.
    cold = []
    for _ in range(max(1, runs // 2)):
        with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache}
            cold.append(import_seconds("maitre.ingest.pipeline", "", env))
    rows.append(
        [
            "maitre.ingest.pipeline, numba's cache empty (compiles)",
            f"{statistics.median(cold) * 1e3:,.0f}",
            f"{min(cold) * 1e3:,.0f}",
        ]
    )
    print(f"\nfresh interpreter per import, median (and min) of {runs}; {sys.version.split()[0]}\n")
    print(rig.table(["import", "median ms", "min ms"], rows))


# bench/ingest.py with the kernels swapped ---------------------------------------------------------


# Where the service keeps each kernel, and which of Kernels' fields stands in for it.
SWAPS = {
    ("role_kernel", "observe_round_unchecked"): "observe_round",
    ("role_kernel", "observe_round"): "observe_round",
    ("role_kernel", "keep_keyed_unchecked"): "keep_keyed",
    ("role_kernel", "occurrences_unchecked"): "occurrences",
    ("key_index", "_find_unchecked"): "find",
    ("key_index", "_insert"): "insert",
    ("packed", "_scan_unchecked"): "scan",
    ("packed", "levels_unchecked"): "levels",
}


def kernel_swapper(others: dict[str, Kernels]) -> Callable[[str], None]:
    """A function that puts numba's kernels (the service's own) or others in the service's modules."""
    from maitre.ingest import packed
    from maitre.presence import key_index, role_kernel

    modules = {"role_kernel": role_kernel, "key_index": key_index, "packed": packed}
    service = {where: getattr(modules[where[0]], where[1]) for where in SWAPS}

    def swap(kind: str) -> None:
        for (module, name), field in SWAPS.items():
            kernel = service[module, name] if kind == "numba" else getattr(others[kind], field)
            setattr(modules[module], name, kernel)

    return swap


def ingest_runs(kinds: list[str], rounds: int, rest: list[str], cython: str | None) -> None:
    """bench/ingest.py once a round for each kind of kernels, taking turns in one process (numba,
    numpy, cython), or alone (python, which must disable the JIT before numba is imported)."""
    import io
    import re

    if kinds == ["python"]:
        disable_jit()
    elif "python" in kinds:
        sys.exit("--ingest python runs alone: the JIT is disabled for the whole process")
    if "cython" in kinds and not cython:
        sys.exit("--ingest cython needs --cython DIR")
    from bench import ingest, rig

    others = {"numpy": NUMPY} | ({"cython": cython_kernels(cython)} if cython else {})
    swap = kernel_swapper(others) if kinds != ["python"] else (lambda kind: None)
    per_run: dict[tuple[str, str], list[tuple[float, float]]] = {}
    notes: list[str] = []
    for round_ in range(rounds):
        for kind in kinds:
            swap(kind)
            sys.argv = [ingest.__file__, *[a for a in rest if a != "--"], "--runs", "1"]
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                ingest.main()
            for line in printed.getvalue().splitlines():
                cells = [c.strip() for c in line.strip("|").split("|")]
                if line.startswith("| Maître"):
                    wire = "json" if "json batches" in cells[0] else "packed"
                    rate, cpu = float(cells[2].replace(",", "")), float(cells[4].replace(",", ""))
                    per_run.setdefault((kind, wire), []).append((rate, cpu))
                elif line.startswith("- run"):
                    notes.append(re.sub(r"^- run 1", f"- round {round_ + 1}, {kind}", line))
            print(f"round {round_ + 1}, {kind}: done", file=sys.stderr)
    rows = []
    for (kind, wire), runs in per_run.items():
        rates, cpus = [r for r, _ in runs], [c for _, c in runs]
        rows.append(
            [
                wire,
                kind,
                f"{statistics.median(rates):,.0f}",
                f"{statistics.median(cpus):,.0f}",
                ", ".join(f"{c:,.0f}" for c in cpus),
            ]
        )
    rows.sort(key=lambda row: (row[0], kinds.index(row[1])))
    args = " ".join(a for a in rest if a != "--")
    print(f"\nbench/ingest.py {args}, one run a round, {rounds} rounds, kernels {' and '.join(kinds)}\n")
    print(
        rig.table(["wire", "kernels", "sightings/s (median)", "CPU µs/message (median)", "each round"], rows)
    )
    print()
    for note in notes:
        print(note)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="more or fewer repeats and calls")
    parser.add_argument("--no-python", action="store_true", help="leave out the (slow) plain-Python column")
    parser.add_argument(
        "--imports",
        type=int,
        nargs="?",
        const=5,
        default=0,
        metavar="RUNS",
        help="import times instead, median of RUNS fresh interpreters (5)",
    )
    parser.add_argument(
        "--ingest",
        metavar="KINDS",
        help="run bench/ingest.py (the arguments after --) with these kernels: numba, numpy, cython "
        "(taking turns, e.g. numba,numpy), or python alone",
    )
    parser.add_argument("--rounds", type=int, default=3, help="with --ingest: rounds of one run each")
    parser.add_argument(
        "--cython", metavar="DIR", help="a cython column too: bench/cython_kernels.pyx built in DIR"
    )
    parser.add_argument("--child-python", action="store_true", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.child_python:
        disable_jit()
        print(json.dumps(run_kernels(service_kernels(), args.scale)))
        return
    if args.ingest:
        kinds = args.ingest.split(",")
        if not set(kinds) <= {"numba", "numpy", "python", "cython"}:
            parser.error("--ingest takes numba, numpy, cython and python")
        ingest_runs(kinds, args.rounds, rest, args.cython)
        return
    if args.imports:
        import_table(args.imports)
        return
    kernel_table(args.scale, not args.no_python, args.cython)


if __name__ == "__main__":
    main()
