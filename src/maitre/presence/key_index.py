"""Numeric keys to ints, looked up a batch at a time: an open-addressing hash table, compiled.

For the packed wire's band keys: a dictionary look-up of a few hundred ids a batch costs a
memory round trip or more each (the id objects lie all over the heap), plus the interpreter's
work per id; here one compiled call looks up the whole batch, about one cache miss a key.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from maitre.compiled import unchecked

Keys = npt.NDArray[np.uint64]
Values = npt.NDArray[np.intp]
_EMPTY = -1  # a free slot's value: values stored are >= 0
_MIN_SLOTS = 64


class KeyIndex:
    """A map from uint64 keys to ints >= 0; `add` several at once, `lookup` many at once."""

    def __init__(self) -> None:
        self._keys: Keys = np.zeros(_MIN_SLOTS, dtype=np.uint64)
        self._values: Values = np.full(_MIN_SLOTS, _EMPTY, dtype=np.intp)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def keys(self) -> Keys:
        """The keys present, in no particular order."""
        return self._keys[self._values != _EMPTY]

    def lookup(self, keys: Keys) -> tuple[Values, int]:
        """Each key's value (-1 where absent), and how many were present."""
        keys = np.ascontiguousarray(keys, dtype=np.uint64)
        out = np.empty(len(keys), dtype=np.intp)
        # (unchecked: every array is ours or was just made to the signature)
        return out, _find_unchecked(self._keys, self._values, keys, out)

    def add(self, keys: Keys, values: Values) -> None:
        """Set these keys' values (>= 0); a key already present takes the new value."""
        if self._size + len(keys) > len(self._keys) // 2:  # at most half full: short probes
            self._rehash(2 * (self._size + len(keys)))
        keys = np.ascontiguousarray(keys, dtype=np.uint64)
        values = np.ascontiguousarray(values, dtype=np.intp)
        self._size += _insert(self._keys, self._values, keys, values)

    def retain(self, keep: npt.NDArray[np.bool_]) -> None:
        """Keep only the entries where `keep` is true, `keep` in the order `keys()` lists them."""
        present = self._values != _EMPTY
        keys, values = self._keys[present][keep], self._values[present][keep]
        self.clear()
        self.add(keys, values)

    def clear(self) -> None:
        self._keys = np.zeros(_MIN_SLOTS, dtype=np.uint64)
        self._values = np.full(_MIN_SLOTS, _EMPTY, dtype=np.intp)
        self._size = 0

    def _rehash(self, at_least: int) -> None:
        present = self._values != _EMPTY
        keys, values = self._keys[present], self._values[present]
        slots = _MIN_SLOTS
        while slots < 2 * at_least:
            slots *= 2
        self._keys = np.zeros(slots, dtype=np.uint64)
        self._values = np.full(slots, _EMPTY, dtype=np.intp)
        self._size = _insert(self._keys, self._values, keys, values)


@numba.njit(numba.uint64(numba.uint64, numba.uint64), cache=True)
def _slot(key, mask):  # type: ignore[no-untyped-def]
    # Fibonacci hashing: band keys may share low bits (sequential, or one maker's prefix).
    return ((key * numba.uint64(0x9E3779B97F4A7C15)) >> numba.uint64(32)) & mask


@numba.njit(numba.uint64(numba.uint64[::1], numba.intp[::1], numba.uint64), cache=True)
def _probe(table_keys, table_values, key):  # type: ignore[no-untyped-def]
    """The slot holding `key`, or the free slot where it would go (the table is never full)."""
    mask = numba.uint64(table_keys.shape[0] - 1)
    slot = _slot(key, mask)
    while table_values[slot] != _EMPTY and table_keys[slot] != key:
        slot = (slot + numba.uint64(1)) & mask
    return slot


@numba.njit(
    numba.int64(numba.uint64[::1], numba.intp[::1], numba.uint64[::1], numba.intp[::1]), cache=True
)
def _find(table_keys, table_values, keys, out):  # type: ignore[no-untyped-def]
    """out[i]: the value of keys[i] (-1: absent); returns how many were present."""
    present = 0
    for i in range(keys.shape[0]):
        out[i] = table_values[_probe(table_keys, table_values, keys[i])]
        if out[i] != _EMPTY:
            present += 1
    return present


@numba.njit(
    numba.int64(numba.uint64[::1], numba.intp[::1], numba.uint64[::1], numba.intp[::1]), cache=True
)
def _insert(table_keys, table_values, keys, values):  # type: ignore[no-untyped-def]
    """Put each key (the table has room); returns how many were new."""
    new = 0
    for i in range(keys.shape[0]):
        slot = _probe(table_keys, table_values, keys[i])
        if table_values[slot] == _EMPTY:
            new += 1
        table_keys[slot] = keys[i]
        table_values[slot] = values[i]
    return new


_find_unchecked = unchecked(_find)
