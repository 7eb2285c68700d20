"""The set of tracked band ids, numbered by version so a reader can tell when it has changed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class TrackedBands(set[str]):
    """A set of advertiser ids whose `version` grows with every change made through its methods.

    Ingest keeps a numeric index of the packed wire's band keys it has seen tracked; the version
    tells it when to check that index against the set again (a consent withdrawn, a band unlinked).
    """

    def __init__(self, ids: Iterable[str] = ()) -> None:
        super().__init__(ids)
        self.version = 0

    def add(self, element: str) -> None:
        if element not in self:
            self.version += 1
            super().add(element)

    def discard(self, element: object) -> None:
        if element in self:
            self.version += 1
            super().discard(element)

    def remove(self, element: str) -> None:
        self.version += 1
        super().remove(element)

    def pop(self) -> str:
        self.version += 1
        return super().pop()

    def clear(self) -> None:
        self.version += 1
        super().clear()

    def update(self, *others: Iterable[str]) -> None:
        self.version += 1
        super().update(*others)

    def difference_update(self, *others: Iterable[Any]) -> None:
        self.version += 1
        super().difference_update(*others)

    def intersection_update(self, *others: Iterable[Any]) -> None:
        self.version += 1
        super().intersection_update(*others)

    def symmetric_difference_update(self, other: Iterable[str]) -> None:
        self.version += 1
        super().symmetric_difference_update(other)

    def __ior__(self, other: Any) -> TrackedBands:  # type: ignore[override, misc]
        self.version += 1
        return super().__ior__(other)

    def __iand__(self, other: Any) -> TrackedBands:  # type: ignore[misc]
        self.version += 1
        return super().__iand__(other)

    def __isub__(self, other: Any) -> TrackedBands:  # type: ignore[misc]
        self.version += 1
        return super().__isub__(other)

    def __ixor__(self, other: Any) -> TrackedBands:  # type: ignore[override, misc]
        self.version += 1
        return super().__ixor__(other)
