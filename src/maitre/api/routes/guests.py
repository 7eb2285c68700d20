"""Guests, their preferences and their bands, each seen only through the venues in its scope."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, or_, select

from maitre.api.deps import ManagerDep, ServiceDep, SessionDep, venue_by_slug
from maitre.api.guest_scope import guest_of_token, in_scope, log_read
from maitre.guests import consent
from maitre.models import (
    Band,
    BandCreate,
    BandProvisioned,
    BandRead,
    Guest,
    GuestBase,
    GuestRead,
    Preference,
    PreferenceBase,
    PreferenceRead,
)

# A guest belongs to the venue whose manager registered them, and is seen by the venues the guest
# booked at (api/guest_scope.py); any other venue's token gets 404, as for no guest at all.
router = APIRouter(prefix="/api", tags=["guests"])


class StaffPreferences(BaseModel):
    """A guest's preferences as staff see them: allergies and diet only with the guest's consent."""

    guest_id: int
    preferred_name: str | None = None
    pronunciation: str | None = None
    allergies: list[str] | None = None
    dietary: list[str] | None = None
    occasion: str | None = None
    notes: str | None = None


# A new id every 2^10 s (17 min): a listener cannot follow a band from one visit to the next, and
# the resolver does one AES computation per band every 17 minutes.
DEFAULT_ROTATION_EXPONENT = 10


def new_rotating_identity() -> dict[str, object]:
    """A fresh Eddystone-EID identity for a band: a random key, the default period, counting from now."""
    return {
        "identity_key": secrets.token_hex(16),
        "rotation_exponent": DEFAULT_ROTATION_EXPONENT,
        "eid_epoch": datetime.now(UTC),
    }


def _consents(body: GuestBase) -> consent.Consents:
    return consent.Consents(
        greeting=body.consent_greeting,
        kitchen=body.consent_kitchen,
        allergies=body.consent_allergies,
        marketing=body.consent_marketing,
    )


@router.post("/guests", response_model=GuestRead, status_code=201)
def create_guest(body: GuestBase, session: SessionDep, claims: ManagerDep) -> Guest:
    venue = venue_by_slug(session, claims.venue)
    details = body.model_dump(exclude=set(consent.FIELDS.values()))
    guest = Guest.model_validate(details, update={"venue_id": venue.id})
    session.add(guest)
    session.flush()
    # Consents given at registration are changes like any other: each one is recorded.
    consent.change(session, guest, _consents(body), source="staff")
    return guest


@router.get("/guests/{guest_id}", response_model=GuestRead)
def read_guest(guest_id: int, session: SessionDep, claims: ManagerDep) -> Guest:
    _, guest = guest_of_token(session, claims, guest_id, erased=True)
    log_read(session, claims, guest_id, "guest")
    return guest


@router.put("/guests/{guest_id}", response_model=GuestRead)
def update_guest(
    guest_id: int, body: GuestBase, session: SessionDep, service: ServiceDep, claims: ManagerDep
) -> Guest:
    _, guest = guest_of_token(session, claims, guest_id)
    guest.sqlmodel_update(body.model_dump(exclude=set(consent.FIELDS.values())))
    session.add(guest)
    consent.change(session, guest, _consents(body), source="staff")
    session.flush()
    consent.retrack(session, service.directory, service.presence, guest_id)
    return guest


@router.put("/guests/{guest_id}/preferences", response_model=PreferenceRead)
def set_preferences(
    guest_id: int, body: PreferenceBase, session: SessionDep, claims: ManagerDep
) -> Preference:
    guest_of_token(session, claims, guest_id)
    prefs = session.get(Preference, guest_id)
    if prefs is None:
        prefs = Preference(guest_id=guest_id)
    prefs.sqlmodel_update(body.model_dump())
    session.add(prefs)
    session.flush()
    return prefs


@router.get("/guests/{guest_id}/preferences", response_model=StaffPreferences)
def read_preferences(guest_id: int, session: SessionDep, claims: ManagerDep) -> StaffPreferences:
    _, guest = guest_of_token(session, claims, guest_id, erased=True)
    log_read(session, claims, guest_id, "preferences")
    prefs = session.get(Preference, guest_id) or Preference(guest_id=guest_id)
    health = guest.consent_allergies
    return StaffPreferences(
        guest_id=guest_id,
        preferred_name=prefs.preferred_name,
        pronunciation=prefs.pronunciation,
        allergies=list(prefs.allergies) if health else None,
        dietary=list(prefs.dietary) if health else None,
        occasion=prefs.occasion,
        notes=prefs.notes,
    )


@router.post("/bands", response_model=BandProvisioned | BandRead, status_code=201)
def create_band(
    body: BandCreate, session: SessionDep, service: ServiceDep, claims: ManagerDep
) -> BandProvisioned | BandRead:
    """Register a band. Rotating by default: without an identity key (and without `static`), the
    service makes one and answers it this once, for programming the band; it is never read back."""
    if body.guest_id is not None:
        guest_of_token(session, claims, body.guest_id)
    made = body.identity_key is None and not body.static
    identity = new_rotating_identity() if made else {}
    fields = body.model_dump(exclude={"static"}) | identity
    if fields["advertiser_id"] is None:
        fields["advertiser_id"] = f"band:{secrets.token_hex(8)}"
    band = Band.model_validate(fields)
    session.add(band)
    try:
        session.flush()
    except IntegrityError as exc:
        raise HTTPException(409, f"band {body.advertiser_id!r} is already registered") from exc
    if band.guest_id is not None:
        service.directory.refresh_bands_of(session, band.guest_id)
    if not made:  # a key the caller gave is not echoed back
        return BandRead.model_validate(band, update={"rotating": band.rotating})
    return BandProvisioned.model_validate(band, update={"rotating": band.rotating})


@router.get("/bands", response_model=list[BandRead])
def list_bands(session: SessionDep, claims: ManagerDep, guest_id: int | None = None) -> list[Band]:
    """Bands of guests in the token's venue's scope (or of one of them), and bands not yet given out."""
    venue = venue_by_slug(session, claims.venue)
    if guest_id is not None:
        guest_of_token(session, claims, guest_id, erased=True)
        query = select(Band).where(Band.guest_id == guest_id)
    else:
        scoped = select(Guest.id).where(in_scope(venue))
        query = select(Band).where(or_(col(Band.guest_id).is_(None), col(Band.guest_id).in_(scoped)))
    return list(session.exec(query.order_by(col(Band.id))))
