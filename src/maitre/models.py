"""The venue's data: tables in one place (SQLModel), plus the shapes the API reads and writes."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from maitre.hospitality.allergens import EU_ALLERGENS, UnknownAllergen, check_codes

# Venue and gateway names are MQTT topic levels (see maitre.wire.NAME_PATTERN).
TopicName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
IdentityKeyText = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
AdvertiserIdText = Annotated[str, StringConstraints(pattern=r"^[a-z]+:[0-9a-f:-]{1,76}$", max_length=80)]
# A dish's course: starters fire when the party arrives, later courses when the kitchen fires them.
COURSES = ("starter", "main", "dessert")
CourseName = Annotated[str, StringConstraints(pattern=r"^(starter|main|dessert)$")]


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
    INSIDE = "inside"  # deeper in the room: tells inside from outside, stands in for a dead door gateway


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
    # The screen event log: what happened after the alert, in the same per-venue sequence.
    PARTY_UPDATE = "party_update"  # another member of the party arrived
    KITCHEN_FIRE = "kitchen_fire"  # a ticket started on approach: the held items fire on arrival
    GREET_ACK = "greet_ack"  # host: greeting acknowledged
    SEAT = "seat"  # host: party seated at a table
    UNDO = "undo"  # host: the last greet_ack or seat of a reservation taken back
    BUMP = "bump"  # kitchen: ticket done
    RECALL = "recall"  # kitchen: bumped ticket back on the rail
    ALLERGEN_ACK = "allergen_ack"  # kitchen: a cook has read the ticket's allergens
    ERASED = "erased"  # the guest erased their data: screens drop the party's cards
    BOOKING = (
        "booking"  # host: the booking changed at the stand (arrived by hand, no-show, cancel, late, size)
    )


# -- venues and their radio ------------------------------------------------------------------


class VenueBase(SQLModel):
    slug: TopicName = Field(index=True, unique=True, description="name used in MQTT topics")
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(default="UTC", max_length=64)


class Venue(VenueBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    alert_seq: int = Field(default=0, description="last alert sequence number issued for this venue")
    # Walls, the inside area and the door (see VenueLayout); with it, presence fuses all gateways.
    layout: dict[str, object] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class WallIn(SQLModel):
    x0: float
    y0: float
    x1: float
    y1: float
    loss_db: float = Field(default=6.0, ge=0, le=40, description="a glazed front ~6 dB, brick 10-15 dB")


class VenueLayout(SQLModel):
    """The venue's geometry in the same metres as gateway placements."""

    walls: list[WallIn] = Field(default_factory=list, max_length=200)
    inside: list[tuple[float, float, float, float]] = Field(
        min_length=1, max_length=50, description="rectangles x0, y0, x1, y1 that count as arrived"
    )
    door: tuple[float, float] = Field(description="where guests come in")
    host_stand: tuple[float, float] | None = Field(
        default=None,
        description="where arriving guests stop to be greeted, 0.3-6 m inside the door; absent: a metre in",
    )
    gateway_heights: dict[str, Annotated[float, Field(ge=0.0, le=12.0)]] = Field(
        default_factory=dict,
        max_length=200,
        description="metres above the floor, by gateway name (over a door about 2.2, on a ceiling 2.5-3); "
        "a gateway not named is taken to hang at a band's height, about 1 m",
    )
    gateway_gains: dict[str, Annotated[float, Field(ge=-20.0, le=20.0)]] = Field(
        default_factory=dict,
        max_length=200,
        description="dB each gateway hears above (+) or below (−) the plan's path-loss model, by gateway "
        "name, as the calibration walk measured it; a gateway not named: 0, and the venue learns it from "
        "guests at the host stand",
    )
    bounds: tuple[float, float, float, float] | None = Field(default=None, description="area to consider")
    sigma_db: float | None = Field(
        default=None,
        ge=4.0,
        le=16.0,
        description="how far signal levels stray from this plan, dB, as the venue's calibration walk "
        "measured it (docs/operate/calibration.md); absent: the engine's default",
    )


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
    # Allergies and dietary needs are health data (GDPR Art. 9): shown to staff only with this.
    consent_allergies: bool = Field(default=False, description="may show allergies and diet to staff")
    consent_marketing: bool = Field(default=False, description="may receive offers and follow-ups")


class Guest(GuestBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # The venue whose staff registered the guest: with the venues the guest booked at, the only
    # ones whose staff may see the guest (api/guest_scope.py). None for guests made before.
    venue_id: int | None = Field(default=None, foreign_key="venue.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    erased_at: datetime | None = Field(default=None, description="set when the guest erased their data")


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
    guest_id: int | None = Field(default=None, foreign_key="guest.id", index=True)


class RotatingIdentity(SQLModel):
    """Set for bands that advertise rotating ids (Eddystone-EID computation); secret, never read back."""

    identity_key: IdentityKeyText | None = Field(default=None, description="AES-128 key, 32 lowercase hex")
    rotation_exponent: int | None = Field(default=None, ge=0, le=15, description="a new id every 2^K s")
    eid_epoch: datetime | None = Field(default=None, description="when the band's time counter read 0")


class BandCreate(BandBase, RotatingIdentity):
    """A band to register. Without an identity key and without `static`, the service makes the
    band a rotating identity and returns it once, to program into the band."""

    advertiser_id: AdvertiserIdText | None = Field(  # type: ignore[assignment]
        default=None, description="as on the wire, e.g. band:0a1b…; made up for a new rotating band if none"
    )
    static: bool = Field(
        default=False,
        description="the band (or beacon) advertises this fixed id: anyone who records it can replay it",
    )

    @model_validator(mode="after")
    def _rotation_complete(self) -> BandCreate:
        parts = (self.identity_key, self.rotation_exponent, self.eid_epoch)
        if any(p is not None for p in parts) and not all(p is not None for p in parts):
            raise ValueError("a rotating band needs identity_key, rotation_exponent and eid_epoch together")
        if self.static and self.identity_key is not None:
            raise ValueError("a static band has no identity key")
        if self.static and self.advertiser_id is None:
            raise ValueError("a static band needs the advertiser_id it advertises")
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


class BandProvisioned(BandRead):
    """A band the service made a rotating identity for: the only answer that carries its secret."""

    identity_key: str | None = None
    rotation_exponent: int | None = None
    eid_epoch: datetime | None = None


# -- reservations ----------------------------------------------------------------------------


# No 0/O, 1/I/L or U: a code read aloud or typed from a printed slip has one spelling.
RESERVATION_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
RESERVATION_CODE_LENGTH = 10  # 30^10 ≈ 6·10^14 codes: guessing one is hopeless at any rate limit


def new_reservation_code() -> str:
    return "".join(secrets.choice(RESERVATION_CODE_ALPHABET) for _ in range(RESERVATION_CODE_LENGTH))


class ReservationBase(SQLModel):
    venue_id: int = Field(foreign_key="venue.id", index=True)
    guest_id: int = Field(foreign_key="guest.id", index=True)
    party_size: int = Field(ge=1, le=50)
    at: datetime = Field(description="reservation time, UTC")


class Reservation(ReservationBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    status: ReservationStatus = Field(default=ReservationStatus.EXPECTED)
    arrived_at: datetime | None = None
    table_label: str | None = Field(default=None, max_length=32, description="where the host seated them")
    created_at: datetime = Field(default_factory=utcnow)
    code: str = Field(
        default_factory=new_reservation_code,
        unique=True,
        index=True,
        max_length=16,
        description="the guest's confirmation code (random, unguessable)",
    )


class ReservationRead(ReservationBase):
    id: int
    code: str
    status: ReservationStatus
    arrived_at: datetime | None
    table_label: str | None = None


class PartyMember(SQLModel, table=True):
    """A guest who comes with a reservation besides the guest who booked it."""

    __table_args__ = (UniqueConstraint("reservation_id", "guest_id"),)
    id: int | None = Field(default=None, primary_key=True)
    reservation_id: int = Field(foreign_key="reservation.id", index=True)
    guest_id: int = Field(foreign_key="guest.id", index=True)


class PartyMemberRead(SQLModel):
    reservation_id: int
    guest_id: int


class GuestArrival(SQLModel, table=True):
    """One member of a party (the booker or a PartyMember) reached the door; at most once each."""

    __table_args__ = (UniqueConstraint("reservation_id", "guest_id"),)
    id: int | None = Field(default=None, primary_key=True)
    reservation_id: int = Field(foreign_key="reservation.id", index=True)
    guest_id: int = Field(foreign_key="guest.id")
    at: datetime


MAX_PORTIONS = 100  # of one dish on one pre-order: a banquet's worth; ten thousand is a typo


def check_quantity(quantity: int, most: int = MAX_PORTIONS) -> int:
    """A portion count a person meant; a clear message (not a bare range) for zero or a typo."""
    if quantity < 1:
        raise PydanticCustomError("quantity", "order at least 1; to remove a dish, cancel it instead")
    if quantity > most:
        raise PydanticCustomError(
            "quantity",
            "at most {most} of one dish can be pre-ordered; ask the venue for more",
            {"most": most},
        )
    return quantity


class PreOrderItemBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    quantity: int = Field(default=1, description=f"1 to {MAX_PORTIONS}")
    prep_minutes: int = Field(default=10, ge=0, le=240)
    modifiers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    course: CourseName | None = Field(
        default=None, max_length=16, description="starter, main or dessert; none: fired with the first course"
    )

    @field_validator("quantity")
    @classmethod
    def _sane_quantity(cls, quantity: int) -> int:
        return check_quantity(quantity)


class PreOrderItem(PreOrderItemBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    reservation_id: int = Field(foreign_key="reservation.id", index=True)
    price_cents: int = Field(default=0, ge=0, description="from the menu when the guest ordered; for spend")


class PreOrderItemRead(PreOrderItemBase):
    id: int
    reservation_id: int


class MenuItemBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=500)
    prep_minutes: int = Field(default=10, ge=0, le=240)
    price_cents: int = Field(default=0, ge=0, le=10_000_000)
    available: bool = True
    allergens: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False),
        description="EU allergen codes the dish contains (maitre.hospitality.allergens.EU_ALLERGENS)",
    )
    course: CourseName | None = Field(default=None, max_length=16, description="starter, main or dessert")

    @field_validator("allergens")
    @classmethod
    def _known_allergens(cls, codes: list[str]) -> list[str]:
        try:
            return check_codes(codes)
        except UnknownAllergen as exc:
            raise PydanticCustomError(
                "allergen",
                "{code} is not an EU allergen code; use one of: {codes}",
                {"code": repr(exc.code), "codes": ", ".join(EU_ALLERGENS)},
            ) from None


class MenuItem(MenuItemBase, table=True):
    """A dish a guest may pre-order from their phone; its prep time decides when the kitchen starts."""

    __table_args__ = (UniqueConstraint("venue_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    venue_id: int = Field(foreign_key="venue.id", index=True)


class MenuItemRead(MenuItemBase):
    id: int
    venue_id: int


# -- privacy records -------------------------------------------------------------------------


class ConsentPurpose(StrEnum):
    GREETING = "greeting"
    KITCHEN = "kitchen"
    ALLERGIES = "allergies"
    MARKETING = "marketing"


class ConsentEvent(SQLModel, table=True):
    """One change of one consent: the audit of what was granted when. Outlives erasure (no personal data)."""

    id: int | None = Field(default=None, primary_key=True)
    guest_id: int = Field(index=True)  # no foreign key: the record stays after the guest is erased
    purpose: ConsentPurpose
    granted: bool
    source: str = Field(max_length=32, description="guest, staff or erasure")
    at: datetime = Field(default_factory=utcnow)


class StaffRead(SQLModel, table=True):
    """A member of staff read a guest's profile: who (token role and venue), when, which guest."""

    id: int | None = Field(default=None, primary_key=True)
    guest_id: int = Field(index=True)  # no foreign key, as ConsentEvent
    venue: str = Field(max_length=64)
    role: str = Field(max_length=16)
    what: str = Field(max_length=32)
    at: datetime = Field(default_factory=utcnow)


# -- alerts ----------------------------------------------------------------------------------


class Alert(SQLModel, table=True):
    """An alert or staff action as stored: numbered per venue, at most once per dedupe key.

    The dedupe key makes writers idempotent: `greet:{reservation}` fires once however often the
    band is heard; a staff action carries the id its screen chose, so a retried tap counts once.
    """

    __table_args__ = (
        UniqueConstraint("venue_id", "seq"),
        UniqueConstraint("venue_id", "dedupe_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    venue_id: int = Field(foreign_key="venue.id", index=True)
    seq: int
    role: ScreenRole
    kind: AlertKind
    reservation_id: int | None = Field(default=None, foreign_key="reservation.id", index=True)
    dedupe_key: str | None = Field(default=None, max_length=120)
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


# -- staff accounts --------------------------------------------------------------------------


class StaffAccount(SQLModel, table=True):
    """A member of staff who signs in with a password (maitre.security.staff); one venue, one role."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=64)
    venue: str = Field(max_length=64, description="venue slug; the account may be made before the venue")
    role: str = Field(max_length=16, description="manager, host or kitchen (security.tokens.StaffRole)")
    password_hash: str = Field(max_length=256, description="Argon2id, salted (maitre.security.staff)")
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class TokenRevocation(SQLModel, table=True):
    """A staff token refused before it expires: one token (`key` is its id), or every token of a
    venue issued before `revoked_at` (`key` is `venue:<slug>`). Kept until `expires_at`."""

    key: str = Field(primary_key=True, max_length=80)
    revoked_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True, description="after this no token it names is valid anyway")
