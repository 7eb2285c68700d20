"""What the service's numba-compiled code shares: calling it without the dispatcher's checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

# numba's dispatcher imports numpy.ma the first time it types an array (~100 ms): at import then,
# with the compiled modules, not in the first batch.
import numpy.ma  # noqa: F401

T = TypeVar("T")


def unchecked(dispatcher: Callable[..., T]) -> Callable[..., T]:
    """The compiled function of a one-signature numba dispatcher, called without its type checks.

    Choosing among signatures costs ~1 µs an argument (13 µs a call of observe_round, next to its
    ~20 µs of work), but the bare entry point checks nothing: a wrong dtype or layout is read as if
    it were right. Only for callers whose arrays are made to the signature on the spot.
    """
    signatures = getattr(dispatcher, "signatures", None)
    if signatures is None:  # NUMBA_DISABLE_JIT=1: the decorator gave back the plain Python function
        return dispatcher
    (signature,) = signatures
    return dispatcher.overloads[signature].entry_point  # type: ignore[attr-defined]
