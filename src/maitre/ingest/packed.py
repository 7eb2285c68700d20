"""Packed sighting batches (wire.PACKED_MAGIC) read as arrays: one view per column, checked at once."""

from __future__ import annotations

import math
from dataclasses import dataclass

import msgspec
import numba
import numpy as np
import numpy.typing as npt

from maitre import wire
from maitre.compiled import unchecked

_DTYPES = {"Q": "<u8", "d": "<f8", "h": "<i2", "H": "<u2", "b": "i1", "B": "u1"}
_COLUMNS = [(name, np.dtype(_DTYPES[code])) for name, code in wire.PACKED_COLUMNS]
_MAC_LIMIT = np.uint64(1 << wire.PACKED_KEY_BITS["mac"])
_MAC = wire.PACKED_SCHEMES.index("mac") + 1
_BAND = wire.PACKED_SCHEMES.index("band") + 1
_SCHEMES = len(wire.PACKED_SCHEMES)
_NO_TX = wire.PACKED_NO_TX


@dataclass(slots=True)
class PackedBatch:
    """A decoded packed batch: the header's fields and one array per column (not to be written)."""

    header: wire.PackedHeader
    key: npt.NDArray[np.uint64]
    t: npt.NDArray[np.float64]
    rssi: npt.NDArray[np.int16]  # tenths of a dBm
    rssi_max: npt.NDArray[np.int16]
    n: npt.NDArray[np.uint16]
    tx: npt.NDArray[np.int8]  # wire.PACKED_NO_TX: none
    scheme: npt.NDArray[np.uint8]  # 1 + index in wire.PACKED_SCHEMES
    others: int = 0  # packed sightings whose scheme is not band (eid, mac)

    def __len__(self) -> int:
        return len(self.key)

    def ids(self, indices: list[int] | None = None) -> list[str]:
        """The advertiser ids, as the JSON encoding spells them, of all (or some) packed sightings."""
        keys, schemes = self.key.tolist(), self.scheme.tolist()
        picked = range(len(keys)) if indices is None else indices
        return [_id(schemes[i], keys[i]) for i in picked]

    def sightings(self, indices: list[int] | None = None) -> list[wire.Sighting]:
        """The packed sightings (all, or those at `indices`) as the JSON encoding's structs."""
        picked = list(range(len(self))) if indices is None else indices
        ids = self.ids(picked)
        t, rssi, rssi_max = self.t.tolist(), self.rssi.tolist(), self.rssi_max.tolist()
        n, tx = self.n.tolist(), self.tx.tolist()
        return [
            wire.Sighting(
                id=ident,
                rssi=rssi[i] / 10,
                rssi_max=rssi_max[i] / 10,
                n=n[i],
                t=t[i],
                tx=None if tx[i] == wire.PACKED_NO_TX else tx[i],
            )
            for ident, i in zip(ids, picked, strict=True)
        ]


def decode(payload: bytes) -> PackedBatch:
    """Decode and validate a packed batch; raises msgspec.DecodeError or msgspec.ValidationError,
    as wire.decode_batch does, naming the first bad column."""
    header, offset = wire.decode_packed_header(payload)
    count = header.count
    columns: dict[str, npt.NDArray[np.generic]] = {}
    # One copy of a few kB: views of a bytearray are writable, as compiled code wants its arrays.
    buffer = bytearray(payload)
    for name, dtype in _COLUMNS:
        column = np.frombuffer(buffer, dtype, count, offset)
        columns[name] = column if column.flags.aligned else column.copy()
        offset += dtype.itemsize * count
    batch = PackedBatch(header, **columns)  # type: ignore[arg-type]
    if count:
        _check(batch)
    return batch


# What each column must hold, in the order _scan checks them.
_EXPECTED = (
    ("scheme", "a scheme code 1-3"),
    ("key", "a 48-bit mac"),
    ("t", "a finite time >= 0"),
    ("rssi", "-127.0 to 20.0 dBm"),
    ("rssi_max", "-127.0 to 20.0 dBm"),
    ("n", ">= 1"),
    ("tx", "-127 to 20 dBm, or PACKED_NO_TX"),
)


def _check(batch: PackedBatch) -> None:
    """The JSON schema's bounds, over whole columns, in one compiled pass; counts the non-band ids."""
    # (unchecked: decode made each column to its dtype, contiguous, aligned and writable)
    b = batch
    bad, b.others = _scan_unchecked(b.key, b.t, b.rssi, b.rssi_max, b.n, b.tx, b.scheme)
    if bad >= 0:
        name, expected = _EXPECTED[bad >> 32]
        raise msgspec.ValidationError(f"Expected {expected} - at packed column `{name}`[{bad & 0xFFFFFFFF}]")


@numba.njit(
    numba.types.UniTuple(numba.int64, 2)(
        numba.uint64[::1],
        numba.float64[::1],
        numba.int16[::1],
        numba.int16[::1],
        numba.uint16[::1],
        numba.int8[::1],
        numba.uint8[::1],
    ),
    cache=True,
)
def _scan(key, t, rssi, rssi_max, n, tx, scheme):  # type: ignore[no-untyped-def]
    """(-1, how many schemes are not band), or ((which of _EXPECTED) << 32 | the first sighting
    that breaks it, 0)."""
    others = 0
    for i in range(key.shape[0]):
        if scheme[i] < 1 or scheme[i] > _SCHEMES:
            return i, 0
        if scheme[i] == _MAC and key[i] >= _MAC_LIMIT:
            return 1 << 32 | i, 0
        if not (t[i] >= 0 and t[i] < math.inf):
            return 2 << 32 | i, 0
        if rssi[i] < -1270 or rssi[i] > 200:
            return 3 << 32 | i, 0
        if rssi_max[i] < -1270 or rssi_max[i] > 200:
            return 4 << 32 | i, 0
        if n[i] < 1:
            return 5 << 32 | i, 0
        if tx[i] > 20:
            return 6 << 32 | i, 0
        if scheme[i] != _BAND:
            others += 1
    return -1, others


@numba.njit(
    numba.int64(
        numba.float64[::1],
        numba.float64,
        numba.float64,
        numba.int16[::1],
        numba.int8[::1],
        numba.uint16[::1],
        numba.float64,
        numba.float64[::1],
        numba.float64[::1],
    ),
    cache=True,
)
def levels(t, earliest, latest, rssi, tx, n, power, z, count):  # type: ignore[no-untyped-def]
    """z: each level relative to its band's 1 m power (`power` where the frame had none), as the
    JSON path computes it; count: packets as floats. Returns how many times lie outside
    [earliest, latest]."""
    outside = 0
    for i in range(t.shape[0]):
        if not (earliest <= t[i] <= latest):
            outside += 1
        z[i] = rssi[i] / 10 - (power if tx[i] == _NO_TX else float(tx[i]))
        count[i] = n[i]
    return outside


_scan_unchecked = unchecked(_scan)
# For callers whose arrays are the batch's columns (or taken from them) and fresh float64 arrays.
levels_unchecked = unchecked(levels)


def _id(scheme: int, key: int) -> str:
    name = wire.PACKED_SCHEMES[scheme - 1]
    return f"{name}:{key:0{wire.PACKED_KEY_BITS[name] // 4}x}"


def band_id(key: int) -> str:
    return f"band:{key:016x}"
