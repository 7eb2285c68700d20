"""The wire contract between gateways and the venue service: topics, payloads, versions.

Both sides import this module and nothing else declares it again. It depends only on the
standard library and msgspec, so a gateway device imports it without the service's stack.
See docs/reference/protocol.md for the prose version.
"""

from __future__ import annotations

import re
import struct
import sys
from array import array
from collections.abc import Sequence
from typing import Annotated, Final, Literal, TypeVar

import msgspec

T = TypeVar("T")

PROTOCOL_VERSION: Final = 1
TOPIC_ROOT: Final = f"maitre/v{PROTOCOL_VERSION}"

# Every message the contract defines travels at QoS 1: at least once, so receivers dedupe.
QOS: Final = 1

# A batch is a few hundred sightings at most; anything far larger is a fault or an attack.
MAX_PAYLOAD_BYTES: Final = 256 * 1024
MAX_SIGHTINGS_PER_BATCH: Final = 5000

# Venue and gateway names are topic levels: no wildcards, no separators, bounded length.
NAME_PATTERN: Final = r"^[A-Za-z0-9_-]{1,64}$"
_NAME_RE = re.compile(NAME_PATTERN)

# Advertiser ids are typed by a scheme prefix; the rest is canonical lowercase text, so the
# id doubles as a dictionary key and a database key without further normalisation.
ADVERTISER_ID_PATTERN: Final = (
    r"^(?:"
    r"ibeacon:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:\d{1,5}:\d{1,5}"
    r"|altbeacon:[0-9a-f]{32}:\d{1,5}:\d{1,5}"
    r"|eddystone:[0-9a-f]{20}:[0-9a-f]{12}"
    r"|eid:[0-9a-f]{16}"
    r"|band:[0-9a-f]{16}"
    r"|mac:[0-9a-f]{12}"
    r")$"
)
ADVERTISER_SCHEMES: Final = ("ibeacon", "altbeacon", "eddystone", "eid", "band", "mac")

# The schema states the pattern; decode_batch checks it once per batch over every id together,
# because msgspec's check is a regex call per id, which cost more than decoding the rest.
AdvertiserId = Annotated[
    str, msgspec.Meta(max_length=80, extra_json_schema={"pattern": ADVERTISER_ID_PATTERN})
]
Name = Annotated[str, msgspec.Meta(pattern=NAME_PATTERN)]
# Physical bounds for a received BLE signal: anything outside is a broken radio or a forgery.
Rssi = Annotated[float, msgspec.Meta(ge=-127, le=20)]
TxPower = Annotated[int, msgspec.Meta(ge=-127, le=20)]
UnixTime = Annotated[float, msgspec.Meta(ge=0)]
BootId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Seq = Annotated[int, msgspec.Meta(ge=0)]
WindowSeconds = Annotated[float, msgspec.Meta(gt=0, le=60)]


# gc=False: a sighting holds only strings and numbers, so it can never be part of a cycle, and
# hundreds of thousands of them a second would otherwise keep the garbage collector busy.
class Sighting(msgspec.Struct, frozen=True, forbid_unknown_fields=False, gc=False):
    """What one gateway heard of one advertiser during one batch window."""

    id: AdvertiserId
    rssi: Rssi  # mean RSSI over the window, dBm
    rssi_max: Rssi  # strongest single advertisement in the window, dBm
    n: Annotated[int, msgspec.Meta(ge=1)]  # advertisements summarised
    t: UnixTime  # when the last of them was heard, gateway clock, seconds
    tx: TxPower | None = None  # advertised power at 1 m, dBm, where the frame carries it


class SightingBatch(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    """One gateway's sightings over one window, numbered so redelivery is recognised."""

    v: Literal[1]
    venue: Name
    gateway: Name
    # The gateway's boot id: sequence numbers restart at 0 with each new boot id.
    boot: BootId
    seq: Seq
    sent: UnixTime  # gateway clock when the batch was published
    window: WindowSeconds  # seconds the batch covers
    sightings: Annotated[list[Sighting], msgspec.Meta(max_length=MAX_SIGHTINGS_PER_BATCH)]


# The packed encoding of a sighting batch: the same batch, its band, eid and mac sightings as
# columns of numbers instead of JSON objects, about a quarter of the size and decoded by the
# service with one array view per column (docs/reference/protocol.md, "Packed batches"). Layout, little
# endian: PACKED_MAGIC, the header's length (u32), the header (JSON, a PackedHeader), zero bytes
# up to a multiple of 8, then `count` values of each column in PACKED_COLUMNS order.
PACKED_MAGIC: Final = b"MTRP"
PACKED_SCHEMES: Final = ("band", "eid", "mac")  # scheme code 1, 2, 3
PACKED_KEY_BITS: Final = {"band": 64, "eid": 64, "mac": 48}
PACKED_NO_TX: Final = -128  # the tx column's value when the frame carried no power
# (name, array type code): key (the id's hex as a number), t (s), rssi and rssi_max (0.1 dBm),
# n, tx (dBm), scheme (code).
PACKED_COLUMNS: Final = (
    ("key", "Q"),
    ("t", "d"),
    ("rssi", "h"),
    ("rssi_max", "h"),
    ("n", "H"),
    ("tx", "b"),
    ("scheme", "B"),
)
PACKED_BYTES_PER_SIGHTING: Final = 24
_PACKED_PREFIX = struct.Struct("<4sI")
_ID_HEX_DIGITS: Final = {"band": 16, "eid": 16, "mac": 12}
_LOWER_HEX = re.compile("[0-9a-f]+")  # the canonical spelling, which the key spells back exactly


class PackedHeader(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    """A packed batch's header: the batch's fields, how many sightings the columns hold, and the
    sightings that do not pack (other schemes), which come before the packed ones."""

    v: Literal[1]
    venue: Name
    gateway: Name
    boot: BootId
    seq: Seq
    sent: UnixTime
    window: WindowSeconds
    count: Annotated[int, msgspec.Meta(ge=0, le=MAX_SIGHTINGS_PER_BATCH)]
    sightings: Annotated[list[Sighting], msgspec.Meta(max_length=MAX_SIGHTINGS_PER_BATCH)] = []


class GatewayStatus(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    """Retained on the status topic; the broker publishes the offline one as the last will."""

    v: Literal[1]
    state: Literal["online", "offline"]
    boot: str = ""
    version: str = ""
    t: UnixTime | None = None  # absent in the last will, which is written before it is sent


ScanningMode = Literal["passive", "active"]
# How a gateway encodes its sighting batches: JSON (readable), or packed (columns; see PACKED_MAGIC).
BatchEncoding = Literal["json", "packed"]
# Canonical or bare: "f7826da6-4fa2-4e98-8024-bc5b71e0893e" or "f7826da64fa24e988024bc5b71e0893e".
IBEACON_UUID_PATTERN: Final = (
    r"^[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}$"
)
EDDYSTONE_NAMESPACE_PATTERN: Final = r"^(?:0x)?[0-9A-Fa-f]{20}$"
# An allow-list is a venue's own beacons: a few dozen UUIDs at most, never thousands.
MAX_ALLOW_LIST: Final = 256


class GatewayConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    """Retained on the config topic; the gateway applies it without a restart.

    An absent (or null) field leaves the gateway's own setting, from its command line, in force.
    """

    v: Literal[1]
    revision: Annotated[int, msgspec.Meta(ge=0)] = 0  # echoed in the result: which config took
    interval: Annotated[float, msgspec.Meta(gt=0, le=60)] | None = None  # batch window, seconds
    scanning: ScanningMode | None = None  # passive falls back to active where the radio cannot
    ibeacon_uuids: (
        Annotated[
            list[Annotated[str, msgspec.Meta(pattern=IBEACON_UUID_PATTERN)]],
            msgspec.Meta(max_length=MAX_ALLOW_LIST),
        ]
        | None
    ) = None  # allow-list; empty allows every iBeacon
    eddystone_namespaces: (
        Annotated[
            list[Annotated[str, msgspec.Meta(pattern=EDDYSTONE_NAMESPACE_PATTERN)]],
            msgspec.Meta(max_length=MAX_ALLOW_LIST),
        ]
        | None
    ) = None  # allow-list; empty allows every Eddystone-UID
    telemetry_interval: Annotated[float, msgspec.Meta(ge=1, le=3600)] | None = None  # seconds
    encoding: BatchEncoding | None = None  # of sighting batches; packed needs a service that reads it


class GatewayConfigResult(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    """Retained on config-result: whether the last config was applied, and what is in force now."""

    v: Literal[1]
    ok: bool
    revision: int | None  # of the config answered; None when it could not be read at all
    t: UnixTime
    in_force: GatewayConfig  # every field filled in: the settings the gateway runs with
    error: str = ""  # why the config was refused; the gateway keeps the last good one


class GatewayTelemetry(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    """Published every telemetry interval on the telemetry topic: how the gateway is doing."""

    v: Literal[1]
    boot: str
    version: str
    t: UnixTime
    uptime: Annotated[float, msgspec.Meta(ge=0)]  # seconds since the agent started
    period: Annotated[float, msgspec.Meta(ge=0)]  # seconds the rate and count below cover
    adv_rate: Annotated[float, msgspec.Meta(ge=0)]  # advertisements heard per second in the period
    advertisers: Annotated[int, msgspec.Meta(ge=0)]  # distinct advertisers batched in the period
    queue: Annotated[int, msgspec.Meta(ge=0)]  # batches spooled, not yet acknowledged by the broker
    batches: Annotated[int, msgspec.Meta(ge=0)]  # batches made since boot
    dropped: dict[str, int]  # advertisements and batches dropped since boot, by reason
    errors: dict[str, int]  # faults since boot, by kind (see docs/reference/protocol.md)
    scanning: str  # the mode the radio really runs: passive, active, simulated, or stopped
    interval: float  # batch window in force, seconds
    config_revision: int | None = None  # revision of the remote config in force, if any


_batch_decoder = msgspec.json.Decoder(SightingBatch)
_ID_RE = re.compile(ADVERTISER_ID_PATTERN)
# The same alternatives, for ids joined by a separator no valid id contains. `$` in the pattern also
# matches before a final newline, so one trailing newline is allowed here too, as msgspec allowed it.
_ID_SEPARATOR: Final = "\x00"
_ONE_ID = ADVERTISER_ID_PATTERN[1:-1] + "\n?"
_IDS_RE = re.compile(f"{_ONE_ID}(?:{_ID_SEPARATOR}{_ONE_ID})*")
_packed_header_decoder = msgspec.json.Decoder(PackedHeader)
_status_decoder = msgspec.json.Decoder(GatewayStatus)
_config_decoder = msgspec.json.Decoder(GatewayConfig)
_config_result_decoder = msgspec.json.Decoder(GatewayConfigResult)
_telemetry_decoder = msgspec.json.Decoder(GatewayTelemetry)
_encoder = msgspec.json.Encoder()

Message = SightingBatch | GatewayStatus | GatewayConfig | GatewayConfigResult | GatewayTelemetry


def encode(message: Message) -> bytes:
    """Serialise a message for the wire (compact JSON)."""
    return _encoder.encode(message)


def _decode(decoder: msgspec.json.Decoder[T], payload: bytes) -> T:
    """decoder.decode, with a string that is not UTF-8 a DecodeError like any other bad JSON
    (msgspec raises UnicodeDecodeError for one, which the callers' handlers would not catch)."""
    try:
        return decoder.decode(payload)
    except UnicodeDecodeError as exc:
        raise msgspec.DecodeError(f"JSON is malformed: {exc}") from None


def decode_batch(payload: bytes) -> SightingBatch:
    """Decode and validate a batch; raises msgspec.ValidationError or msgspec.DecodeError."""
    batch = _decode(_batch_decoder, payload)
    check_ids(batch.sightings)
    return batch


class _SalvagedBatch(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    """A batch whose fields are checked but whose sightings are left raw, to be checked one by one."""

    v: Literal[1]
    venue: Name
    gateway: Name
    boot: BootId
    seq: Seq
    sent: UnixTime
    window: WindowSeconds
    sightings: Annotated[list[msgspec.Raw], msgspec.Meta(max_length=MAX_SIGHTINGS_PER_BATCH)]


_salvaged_decoder = msgspec.json.Decoder(_SalvagedBatch)
_sighting_decoder = msgspec.json.Decoder(Sighting)


def decode_batch_keeping_good(payload: bytes) -> tuple[SightingBatch, int]:
    """A batch with its valid sightings, and how many sightings were invalid and left out.

    One bad sighting (an id that does not parse, an impossible RSSI) must not lose the good ones
    beside it; a batch whose own fields are bad still raises msgspec.ValidationError or DecodeError.
    """
    try:
        return decode_batch(payload), 0
    except msgspec.ValidationError:
        pass  # perhaps only some sightings: check them one by one (the rare path)
    raw = _decode(_salvaged_decoder, payload)
    good: list[Sighting] = []
    for item in raw.sightings:
        try:
            sighting = _decode(_sighting_decoder, item)
        except (msgspec.ValidationError, msgspec.DecodeError):
            continue
        if _ID_RE.search(sighting.id):
            good.append(sighting)
    batch = SightingBatch(
        v=raw.v,
        venue=raw.venue,
        gateway=raw.gateway,
        boot=raw.boot,
        seq=raw.seq,
        sent=raw.sent,
        window=raw.window,
        sightings=good,
    )
    return batch, len(raw.sightings) - len(good)


def check_ids(sightings: list[Sighting]) -> None:
    """Raise msgspec.ValidationError unless every sighting's id matches ADVERTISER_ID_PATTERN."""
    ids = [s.id for s in sightings]
    joined = _ID_SEPARATOR.join(ids)
    # One regex pass over all ids; an id holding the separator itself takes the per-id check.
    if ids and (joined.count(_ID_SEPARATOR) != len(ids) - 1 or not _IDS_RE.fullmatch(joined)):
        for i, ident in enumerate(ids):
            if not _ID_RE.search(ident):
                raise msgspec.ValidationError(
                    f"Expected `str` matching regex {ADVERTISER_ID_PATTERN!r} - at `$.sightings[{i}].id`"
                )


def is_packed(payload: bytes) -> bool:
    return payload[:4] == PACKED_MAGIC


def encode_packed(batch: SightingBatch) -> bytes:
    """The batch in the packed encoding: band, eid and mac sightings as columns, others in the header.

    Levels travel in tenths of a dB (a gateway's windows already round them so); everything else
    exactly. The packed sightings keep their order, after the ones that do not pack.
    """
    packable: list[tuple[Sighting, int, int]] = []
    others: list[Sighting] = []
    for s in batch.sightings:
        scheme, _, rest = s.id.partition(":")
        digits = _ID_HEX_DIGITS.get(scheme)
        if digits is None or len(rest) != digits or not _LOWER_HEX.fullmatch(rest) or s.n > 0xFFFF:
            others.append(s)
            continue
        packable.append((s, PACKED_SCHEMES.index(scheme) + 1, int(rest, 16)))
    header = _encoder.encode(
        PackedHeader(
            v=1,
            venue=batch.venue,
            gateway=batch.gateway,
            boot=batch.boot,
            seq=batch.seq,
            sent=batch.sent,
            window=batch.window,
            count=len(packable),
            sightings=others,
        )
    )
    columns: dict[str, list[int] | list[float]] = {
        "key": [key for _, _, key in packable],
        "t": [s.t for s, _, _ in packable],
        "rssi": [round(s.rssi * 10) for s, _, _ in packable],
        "rssi_max": [round(s.rssi_max * 10) for s, _, _ in packable],
        "n": [s.n for s, _, _ in packable],
        "tx": [PACKED_NO_TX if s.tx is None else s.tx for s, _, _ in packable],
        "scheme": [code for _, code, _ in packable],
    }
    head = _PACKED_PREFIX.pack(PACKED_MAGIC, len(header)) + header
    parts = [head, bytes(-len(head) % 8)]
    for name, code in PACKED_COLUMNS:
        values: array[int] | array[float] = array(code, columns[name])
        if sys.byteorder == "big":
            values.byteswap()
        parts.append(values.tobytes())
    return b"".join(parts)


def decode_packed_header(payload: bytes) -> tuple[PackedHeader, int]:
    """The header of a packed batch and where its columns start; raises msgspec.DecodeError or
    msgspec.ValidationError. The columns themselves are read by whoever needs them as arrays."""
    if len(payload) < _PACKED_PREFIX.size or not is_packed(payload):
        raise msgspec.DecodeError("not a packed batch: too short or no PACKED_MAGIC")
    _, length = _PACKED_PREFIX.unpack_from(payload)
    start = _PACKED_PREFIX.size
    if start + length > len(payload):
        raise msgspec.DecodeError(f"packed header of {length} bytes runs past the payload's end")
    header = _decode(_packed_header_decoder, payload[start : start + length])
    check_ids(header.sightings)
    columns = start + length + (-(start + length) % 8)
    expected = columns + header.count * PACKED_BYTES_PER_SIGHTING
    if len(payload) != expected:
        raise msgspec.DecodeError(
            f"packed batch of {header.count} sightings must be {expected} bytes, not {len(payload)}"
        )
    return header, columns


def decode_status(payload: bytes) -> GatewayStatus:
    """Decode and validate a gateway status message."""
    return _decode(_status_decoder, payload)


def decode_config(payload: bytes) -> GatewayConfig:
    """Decode and validate a gateway config; raises msgspec.ValidationError or msgspec.DecodeError."""
    return _decode(_config_decoder, payload)


def decode_config_result(payload: bytes) -> GatewayConfigResult:
    """Decode and validate a gateway's answer to a config."""
    return _decode(_config_result_decoder, payload)


def decode_telemetry(payload: bytes) -> GatewayTelemetry:
    """Decode and validate a gateway telemetry message."""
    return _decode(_telemetry_decoder, payload)


def sightings_topic(venue: str, gateway: str) -> str:
    return f"{TOPIC_ROOT}/{_name(venue)}/gw/{_name(gateway)}/sightings"


def status_topic(venue: str, gateway: str) -> str:
    return f"{TOPIC_ROOT}/{_name(venue)}/gw/{_name(gateway)}/status"


def config_topic(venue: str, gateway: str) -> str:
    return f"{TOPIC_ROOT}/{_name(venue)}/gw/{_name(gateway)}/config"


def telemetry_topic(venue: str, gateway: str) -> str:
    return f"{TOPIC_ROOT}/{_name(venue)}/gw/{_name(gateway)}/telemetry"


def config_result_topic(venue: str, gateway: str) -> str:
    return f"{TOPIC_ROOT}/{_name(venue)}/gw/{_name(gateway)}/config-result"


# What the venue service subscribes to: every kind from every gateway, in every protocol
# version, so that messages of an unknown version are seen and counted rather than ignored.
ANY_VERSION_SUBSCRIPTION: Final = "maitre/+/+/gw/+/+"


def gateway_subscriptions(venues: Sequence[str]) -> list[str]:
    """Gateway topics of these venues, every version (unknown versions are seen and counted)."""
    return [f"maitre/+/{venue}/gw/+/+" for venue in venues] or [ANY_VERSION_SUBSCRIPTION]


# Between instances of the venue service (docs/operate/scale.md): alerts relayed to the instance whose
# screens show them, and guests, bands, consent and gateways changed through one instance's API,
# so the others reload them.
ALERTS_SUBSCRIPTION: Final = f"{TOPIC_ROOT}/+/alerts"
DIRECTORY_TOPIC: Final = f"{TOPIC_ROOT}/service/directory"


def alerts_topic(venue: str) -> str:
    return f"{TOPIC_ROOT}/{venue}/alerts"


class TopicParts(msgspec.Struct, frozen=True):
    version: str
    venue: str
    gateway: str
    kind: str


def parse_topic(topic: str) -> TopicParts | None:
    """Split a gateway topic into its parts; None if it is not one."""
    parts = topic.split("/")
    if len(parts) != 6 or parts[0] != "maitre" or parts[3] != "gw":
        return None
    return TopicParts(version=parts[1], venue=parts[2], gateway=parts[4], kind=parts[5])


def is_valid_name(name: str) -> bool:
    return bool(_NAME_RE.match(name))


def _name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise ValueError(f"invalid venue or gateway name {name!r}: use 1-64 of A-Z a-z 0-9 _ -")
    return name


def ibeacon_id(uuid: str, major: int, minor: int) -> str:
    return f"ibeacon:{uuid.lower()}:{major}:{minor}"


def band_id(raw: bytes) -> str:
    return f"band:{raw.hex()}"


def eid_id(raw: bytes) -> str:
    return f"eid:{raw.hex()}"


def json_schemas() -> dict[str, dict[str, object]]:
    """JSON Schema documents for each payload, as committed under docs/schemas/."""
    out: dict[str, dict[str, object]] = {}
    kinds: tuple[tuple[str, type[msgspec.Struct]], ...] = (
        ("sighting-batch", SightingBatch),
        ("sighting-batch-packed-header", PackedHeader),
        ("gateway-status", GatewayStatus),
        ("gateway-config", GatewayConfig),
        ("gateway-config-result", GatewayConfigResult),
        ("gateway-telemetry", GatewayTelemetry),
    )
    for name, cls in kinds:
        schema = msgspec.json.schema(cls)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"urn:maitre:v{PROTOCOL_VERSION}:{name}"
        out[name] = schema
    return out
