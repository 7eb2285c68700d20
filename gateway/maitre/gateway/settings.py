"""What the gateway runs with: its command line, overlaid by the venue's retained remote config."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TypeVar

import msgspec

from maitre import wire
from maitre.gateway.beacons import Filters

T = TypeVar("T")

# The wire contract's batching window: long enough to summarise ~5 packets of a 10 Hz band,
# short enough that a walking guest moves under half a metre within one batch.
DEFAULT_INTERVAL = 0.5
# Often enough to see a dead radio within a minute on a dashboard, rare enough to cost nothing.
DEFAULT_TELEMETRY_INTERVAL = 10.0
# BlueZ scans do stall in the field (the controller stops reporting, discovery still "on"): with no
# advertisement for this long the scan is restarted. habluetooth's number; a venue with a gateway
# in it is never silent that long, bands advertise ten times a second and phones constantly.
DEFAULT_WATCHDOG_SECONDS = 90.0


class ConfigRefused(ValueError):
    """A remote config the gateway cannot apply; it keeps running on the last good one."""

    def __init__(self, revision: int | None, reason: str) -> None:
        super().__init__(reason)
        self.revision = revision


@dataclass(frozen=True, slots=True)
class RunSettings:
    """The settings in force; `revision` is the remote config's, None while only local ones apply."""

    interval: float = DEFAULT_INTERVAL
    scanning: wire.ScanningMode = "passive"
    ibeacon_uuids: tuple[str, ...] = ()
    eddystone_namespaces: tuple[str, ...] = ()
    telemetry_interval: float = DEFAULT_TELEMETRY_INTERVAL
    encoding: wire.BatchEncoding = "json"  # packed: columns, a quarter of the bytes (protocol.md)
    revision: int | None = None

    def __post_init__(self) -> None:
        if not 0 < self.interval <= 60:
            raise ValueError(f"interval must be in (0, 60] seconds, not {self.interval}")
        if not 1 <= self.telemetry_interval <= 3600:
            raise ValueError(
                f"telemetry interval must be in [1, 3600] seconds, not {self.telemetry_interval}"
            )
        if self.scanning not in ("passive", "active"):
            raise ValueError(f"scanning must be passive or active, not {self.scanning!r}")
        if self.encoding not in ("json", "packed"):
            raise ValueError(f"encoding must be json or packed, not {self.encoding!r}")

    def filters(self) -> Filters | None:
        """The allow-lists, or None when every beacon is wanted (the fast path)."""
        if not self.ibeacon_uuids and not self.eddystone_namespaces:
            return None
        return Filters(self.ibeacon_uuids, self.eddystone_namespaces)

    def overlay(self, payload: bytes) -> RunSettings:
        """These (local) settings with a remote config on top; an empty payload clears the remote one.

        Raises ConfigRefused, naming the problem, for anything that cannot be applied whole.
        """
        if not payload:
            return self  # a deleted retained config: back to the command line's settings
        try:
            config = wire.decode_config(payload)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise ConfigRefused(_revision_of(payload), f"not a valid config: {exc}") from None
        try:
            merged = dataclasses.replace(
                self,
                interval=_pick(config.interval, self.interval),
                scanning=_pick(config.scanning, self.scanning),
                ibeacon_uuids=_pick_list(config.ibeacon_uuids, self.ibeacon_uuids),
                eddystone_namespaces=_pick_list(config.eddystone_namespaces, self.eddystone_namespaces),
                telemetry_interval=_pick(config.telemetry_interval, self.telemetry_interval),
                encoding=_pick(config.encoding, self.encoding),
                revision=config.revision,
            )
            merged.filters()  # the allow-lists must parse before anything changes
        except ValueError as exc:
            raise ConfigRefused(config.revision, str(exc)) from None
        return merged

    def as_config(self) -> wire.GatewayConfig:
        """Everything in force, as the config that would produce it."""
        return wire.GatewayConfig(
            v=1,
            revision=self.revision or 0,
            interval=self.interval,
            scanning=self.scanning,
            ibeacon_uuids=list(self.ibeacon_uuids),
            eddystone_namespaces=list(self.eddystone_namespaces),
            telemetry_interval=self.telemetry_interval,
            encoding=self.encoding,
        )


def _pick(remote: T | None, local: T) -> T:
    return local if remote is None else remote


def _pick_list(remote: list[str] | None, local: tuple[str, ...]) -> tuple[str, ...]:
    return local if remote is None else tuple(remote)


class _Revision(msgspec.Struct):
    revision: int | None = None


def _revision_of(payload: bytes) -> int | None:
    """The revision of a config that failed validation, when it is readable at all."""
    try:
        return msgspec.json.decode(payload, type=_Revision).revision
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
        return None
