"""The venue's data: tables in one place (SQLModel), plus the shapes the API reads and writes."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints, model_validator
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

# Venue and gateway names are MQTT topic levels (see maitre.wire.NAME_PATTERN).
TopicName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
IdentityKeyText = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
AdvertiserIdText = Annotated[str, StringConstraints(pattern=r"^[a-z]+:[0-9a-f:-]{1,76}$", max_length=80)]


def utcnow() -> datetime:
    return datetime.now(UTC)


def row_id(row: SQLModel) -> int:
    """The primary key of a row that has been flushed (and so has one)."""
    ident = getattr(row, "id", None)
    if not isinstance(ident, int):
        raise ValueError(f"{type(row).__name__} has no id yet: flush the session first")
    return ident


class GatewayRole(StrEnum):
    DOOR = "door"  # at the host stand: decides arrival
    APPROACH = "approach"  # outside: hears guests coming


class ZoneKind(StrEnum):
    STREET = "street"
    APPROACH = "approach"
    DOOR = "door"
    DINING = "dining"


class ReservationStatus(StrEnum):
    EXPECTED = "expected"
    APPROACHING = "approaching"
    PARTIALLY_ARRIVED = "partially_arrived"
    ARRIVED = "arrived"
    SEATED = "seated"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


# Statuses in which an arriving band still means "greet this party".
OPEN_STATUSES = (
    ReservationStatus.EXPECTED,
    ReservationStatus.APPROACHING,
    ReservationStatus.PARTIALLY_ARRIVED,
)


class ScreenRole(StrEnum):
    HOST = "host"
    KITCHEN = "kitchen"


class AlertKind(StrEnum):
    APPROACHING = "approaching"
    GREET = "greet"
    KITCHEN_START = "kitchen_start"


# -- venues and their radio ------------------------------------------------------------------


class VenueBase(SQLModel):
    slug: TopicName = Field(index=True, unique=True, description="name used in MQTT topics")
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(default="UTC", max_length=64)


class Venue(VenueBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    alert_seq: int = Field(default=0, description="last alert sequence number issued for this venue")


class VenueRead(VenueBase):
    id: int


class ZoneBase(SQLModel):
    name: str = Field(min_length=1, max_length=100)
    kind: ZoneKind


class Zone(ZoneBase, table=True):
    __table_args__ = (UniqueConstraint("venue_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    venue_id: int = Field(foreign_key="venue.id", index=True)


class ZoneRead(ZoneBase):
    id: int
    venue_id: int


class GatewayBase(SQLModel):
    name: TopicName = Field(description="name used in MQTT topics")
    role: GatewayRole
    zone_id: int | None = Field(default=None, foreign_key="zone.id")
    x: float = Field(default=0.0, description="placement, metres")
    y: float = Field(default=0.0, description="placement, metres")


class Gateway(GatewayBase, table=True):
    __table_args__ = (UniqueConstraint("venue_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    venue_id: int = Field(foreign_key="venue.id", index=True)
    online: bool = False
    last_seen: datetime | None = None


class GatewayRead(GatewayBase):
    id: int
    venue_id: int
    online: bool
    last_seen: datetime | None


# -- guests ----------------------------------------------------------------------------------


class GuestBase(SQLModel):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    email: str | None = Field(default=None, max_length=320)
    consent_greeting: bool = Field(default=False, description="may be recognised on arrival and greeted")
    consent_kitchen: bool = Field(default=False, description="may have the kitchen start on arrival")


class Guest(GuestBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)


class GuestRead(GuestBase):
    id: int


class PreferenceBase(SQLModel):
    preferred_name: str | None = Field(default=None, max_length=100)
    pronunciation: str | None = Field(default=None, max_length=100)
    allergies: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    dietary: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    occasion: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=1000)


class Preference(PreferenceBase, table=True):
    guest_id: int = Field(foreign_key="guest.id", primary_key=True)


class PreferenceRead(PreferenceBase):
    guest_id: int


class BandBase(SQLModel):
    advertiser_id: AdvertiserIdText = Field(description="as on the wire, e.g. band:0a1b…")
    label: str | None = Field(default=None, max_length=32, description="code printed on the band")
    guest_id: int | None = Field(default=None, foreign_key="guest.id")


class RotatingIdentity(SQLModel):
    """Set for bands that advertise rotating ids (Eddystone-EID computation); secret, never read back."""

    identity_key: IdentityKeyText | None = Field(default=None, description="AES-128 key, 32 lowercase hex")
    rotation_exponent: int | None = Field(default=None, ge=0, le=15, description="a new id every 2^K s")
    eid_epoch: datetime | None = Field(default=None, description="when the band's time counter read 0")


class BandCreate(BandBase, RotatingIdentity):
    @model_validator(mode="after")
    def _rotation_complete(self) -> BandCreate:
        parts = (self.identity_key, self.rotation_exponent, self.eid_epoch)
        if any(p is not None for p in parts) and not all(p is not None for p in parts):
            raise ValueError("a rotating band needs identity_key, rotation_exponent and eid_epoch together")
        return self


class Band(BandBase, RotatingIdentity, table=True):
    id: int | None = Field(default=None, primary_key=True)
    advertiser_id: str = Field(index=True, unique=True, max_length=80)

    @property
    def rotating(self) -> bool:
        return self.identity_key is not None


class BandRead(BandBase):
    id: int
    rotating: bool = False


# -- reservations ----------------------------------------------------------------------------


class ReservationBase(SQLModel):
    venue_id: int = Field(foreign_key="venue.id", index=True)
    guest_id: int = Field(foreign_key="guest.id", index=True)
    party_size: int = Field(ge=1, le=50)
    at: datetime = Field(description="reservation time, UTC")


class Reservation(ReservationBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    status: ReservationStatus = Field(default=ReservationStatus.EXPECTED)
    arrived_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ReservationRead(ReservationBase):
    id: int
    status: ReservationStatus
    arrived_at: datetime | None


class PreOrderItemBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    quantity: int = Field(default=1, ge=1, le=100)
    prep_minutes: int = Field(default=10, ge=0, le=240)
    modifiers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class PreOrderItem(PreOrderItemBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    reservation_id: int = Field(foreign_key="reservation.id", index=True)


class PreOrderItemRead(PreOrderItemBase):
    id: int
    reservation_id: int


# -- alerts ----------------------------------------------------------------------------------


class Alert(SQLModel, table=True):
    """An alert as stored: numbered per venue, and at most one of each kind per reservation."""

    __table_args__ = (
        UniqueConstraint("venue_id", "seq"),
        UniqueConstraint("reservation_id", "kind"),
    )
    id: int | None = Field(default=None, primary_key=True)
    venue_id: int = Field(foreign_key="venue.id", index=True)
    seq: int
    role: ScreenRole
    kind: AlertKind
    reservation_id: int | None = Field(default=None, foreign_key="reservation.id")
    payload: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class AlertRead(SQLModel):
    venue: str
    seq: int
    role: ScreenRole
    kind: AlertKind
    reservation_id: int | None
    created_at: datetime
    payload: dict[str, object]
