"""Gateways people already own: ESPresense rooms and OpenMQTTGateway / Theengs Gateway messages.

Each of their messages reports one advertiser heard once by one of their gateways. Configuration
maps their gateways onto the venue's ("espresense:<room>" or "omg:<gateway>" → "venue/gateway"),
and each message becomes a `wire.Sighting` that goes down the same presence path as our batches.
No I/O here.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import msgspec

from maitre import wire
from maitre.ingest.stats import Drop

ESPRESENSE = "espresense"
OMG = "omg"  # OpenMQTTGateway, and Theengs Gateway, which publishes the same messages
# ESPresense: espresense/devices/<id>/<room>; deeper levels are sub-reports (battery...), not sightings.
ESPRESENSE_SUBSCRIPTION = "espresense/devices/+/+"
# OpenMQTTGateway and Theengs Gateway, default base topic: home/<gateway>/BTtoMQTT/<MAC without colons>.
OMG_SUBSCRIPTION = "home/+/BTtoMQTT/+"
UNMAPPED_GATEWAY = "unmapped_gateway"  # a drop reason next to maitre.ingest.stats.Drop

_KEY_RE = re.compile(rf"^({ESPRESENSE}|{OMG}):([^/+#\s]{{1,64}})$")
# ESPresense spells an iBeacon "iBeacon:<uuid>-<major>-<minor>".
_ESPRESENSE_IBEACON_RE = re.compile(
    r"^iBeacon:([0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})-(\d+)-(\d+)$"
)
_MAC_RE = re.compile(r"^[0-9a-f]{12}$")
_ID_RE = re.compile(wire.ADVERTISER_ID_PATTERN)


class ForeignDrop(Exception):
    """A foreign message that cannot become a sighting, with the ingest drop reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class ForeignSighting:
    venue: str
    gateway: str
    sighting: wire.Sighting


class _EspresenseDevice(msgspec.Struct):
    id: str
    rssi: float
    mac: str | None = None
    power_1m: float | None = msgspec.field(default=None, name="rssi@1m")


class _OmgDevice(msgspec.Struct):
    id: str
    rssi: float
    model_id: str | None = None
    uuid: str | None = None
    major: int | None = None
    minor: int | None = None
    txpower: float | None = None
    mac: str | None = None


_espresense_decoder = msgspec.json.Decoder(_EspresenseDevice)
_omg_decoder = msgspec.json.Decoder(_OmgDevice)


class ForeignGateways:
    """The configured mapping, the topics it needs, and the translation of each message."""

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self._to_venue: dict[tuple[str, str], tuple[str, str]] = {}
        for key, target in mapping.items():
            match = _KEY_RE.match(key)
            if match is None:
                raise ValueError(f"foreign gateway {key!r}: write espresense:<room> or omg:<gateway>")
            venue, _, gateway = target.partition("/")
            if not wire.is_valid_name(venue) or not wire.is_valid_name(gateway):
                raise ValueError(f"foreign gateway {key!r} → {target!r}: write venue/gateway")
            self._to_venue[(match[1], match[2])] = (venue, gateway)
        kinds = {kind for kind, _ in self._to_venue}
        self.subscriptions = tuple(
            topic
            for kind, topic in ((ESPRESENSE, ESPRESENSE_SUBSCRIPTION), (OMG, OMG_SUBSCRIPTION))
            if kind in kinds
        )

    def subscriptions_for(self, venue: str) -> tuple[str, ...]:
        """The foreign topics of one venue's gateways only (an instance serving some venues)."""
        topics = []
        for (kind, name), (target, _) in self._to_venue.items():
            if target == venue:
                topics.append(
                    f"espresense/devices/+/{name}" if kind == ESPRESENSE else f"home/{name}/BTtoMQTT/+"
                )
        return tuple(sorted(topics))

    def __bool__(self) -> bool:
        return bool(self._to_venue)

    def claims(self, topic: str) -> bool:
        """Whether the topic is one of the foreign kinds this mapping subscribes to."""
        parts = topic.split("/")
        if len(parts) != 4:
            return False
        if parts[0] == "espresense" and parts[1] == "devices":
            return ESPRESENSE_SUBSCRIPTION in self.subscriptions
        return parts[0] == "home" and parts[2] == "BTtoMQTT" and OMG_SUBSCRIPTION in self.subscriptions

    def translate(self, topic: str, payload: bytes, now: float) -> ForeignSighting:
        """One foreign message as a sighting at a venue gateway; raises ForeignDrop with the reason."""
        parts = topic.split("/")
        kind, source = (ESPRESENSE, parts[3]) if parts[0] == "espresense" else (OMG, parts[1])
        target = self._to_venue.get((kind, source))
        if target is None:
            raise ForeignDrop(UNMAPPED_GATEWAY, f"no venue gateway configured for {kind}:{source}")
        try:
            if kind == ESPRESENSE:
                ident, rssi, power = _espresense(_espresense_decoder.decode(payload))
            else:
                ident, rssi, power = _omg(_omg_decoder.decode(payload))
        except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise ForeignDrop(Drop.MALFORMED, str(exc)[:200]) from None
        if not _ID_RE.match(ident):
            raise ForeignDrop(Drop.MALFORMED, f"no usable advertiser id ({ident!r})")
        if not -127 <= rssi <= 20:
            raise ForeignDrop(Drop.MALFORMED, f"impossible RSSI {rssi}")
        tx = round(power) if power is not None and -127 <= power <= 20 else None
        sighting = wire.Sighting(id=ident, rssi=rssi, rssi_max=rssi, n=1, t=now, tx=tx)
        return ForeignSighting(target[0], target[1], sighting)


def load_foreign_gateways(mapping: Mapping[str, str], path: Path | None = None) -> ForeignGateways:
    """The mapping from settings, with a JSON file's entries under it (the settings' win)."""
    merged: dict[str, str] = {}
    if path is not None:
        try:
            loaded = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"foreign gateways file {path}: {exc}") from None
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            raise ValueError(f"foreign gateways file {path}: want a JSON object of strings")
        merged.update(loaded)
    merged.update(mapping)
    return ForeignGateways(merged)


def _espresense(msg: _EspresenseDevice) -> tuple[str, float, float | None]:
    found = _ESPRESENSE_IBEACON_RE.match(msg.id)
    if found is not None:
        return _ibeacon(found[1], int(found[2]), int(found[3])), msg.rssi, msg.power_1m
    # Everything else ESPresense names (apple:…, irk:…, known:…, a bare address) is a device we
    # know only by the address it advertised from.
    return _mac(msg.mac or msg.id), msg.rssi, msg.power_1m


def _omg(msg: _OmgDevice) -> tuple[str, float, float | None]:
    if msg.model_id == "IBEACON" and msg.uuid and msg.major is not None and msg.minor is not None:
        return _ibeacon(msg.uuid, msg.major, msg.minor), msg.rssi, msg.txpower
    # With presenceUseBeaconUuid the id is the UUID and the address moves to "mac".
    return _mac(msg.mac or msg.id), msg.rssi, msg.txpower


def _ibeacon(text: str, major: int, minor: int) -> str:
    try:
        canonical = str(uuid.UUID(text))
    except ValueError:
        raise ForeignDrop(Drop.MALFORMED, f"iBeacon UUID {text!r} is not 32 hex digits") from None
    if not (0 <= major <= 0xFFFF and 0 <= minor <= 0xFFFF):
        raise ForeignDrop(Drop.MALFORMED, f"iBeacon major {major} or minor {minor} out of range")
    return wire.ibeacon_id(canonical, major, minor)


def _mac(text: str) -> str:
    digits = text.lower().replace(":", "").replace("-", "")
    if not _MAC_RE.match(digits):
        raise ForeignDrop(Drop.MALFORMED, f"no usable advertiser id ({text!r} is not an address)")
    return f"mac:{digits}"
