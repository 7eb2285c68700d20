"""Allow-lists from configuration: which third-party beacons a venue wants to hear."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

_NAMESPACE_RE = re.compile(r"^[0-9a-f]{20}$")
# Offsets into the canonical id text (maitre.wire): "ibeacon:" + uuid, "eddystone:" + namespace.
_UUID = slice(8, 44)
_NAMESPACE = slice(10, 30)


class Filters:
    """Allowed iBeacon UUIDs and Eddystone namespaces; an empty list allows every beacon of that kind.

    Everything else passes: band frames always, and AltBeacon and EID frames because their ids carry
    no organisation a venue could list (a band's rotating id is an eid: id too).
    """

    __slots__ = ("eddystone_namespaces", "ibeacon_uuids")

    def __init__(self, ibeacon_uuids: Iterable[str] = (), eddystone_namespaces: Iterable[str] = ()) -> None:
        self.ibeacon_uuids = frozenset(_uuid(u) for u in ibeacon_uuids)
        self.eddystone_namespaces = frozenset(_namespace(n) for n in eddystone_namespaces)

    def accept(self, ident: str) -> bool:
        """Whether the venue wants sightings of this advertiser id."""
        if self.ibeacon_uuids and ident.startswith("ibeacon:"):
            return ident[_UUID] in self.ibeacon_uuids
        if self.eddystone_namespaces and ident.startswith("eddystone:"):
            return ident[_NAMESPACE] in self.eddystone_namespaces
        return True

    def __repr__(self) -> str:
        return f"Filters({sorted(self.ibeacon_uuids)}, {sorted(self.eddystone_namespaces)})"


def _uuid(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise ValueError(f"an iBeacon UUID is 32 hex digits, dashes optional, not {text!r}") from None


def _namespace(text: str) -> str:
    namespace = text.lower().removeprefix("0x")
    if not _NAMESPACE_RE.match(namespace):
        raise ValueError(f"an Eddystone namespace is 20 hex digits (10 bytes), not {text!r}")
    return namespace
