"""Consent per purpose: change it, record the change, and make withdrawal bite at ingest at once."""

from __future__ import annotations

from pydantic import BaseModel
from sqlmodel import Session, col, select

from maitre.hospitality.directory import Directory
from maitre.models import Band, ConsentEvent, ConsentPurpose, Guest, row_id
from maitre.presence import PresenceEngine

# Purpose → the Guest field that holds it.
FIELDS: dict[ConsentPurpose, str] = {
    ConsentPurpose.GREETING: "consent_greeting",
    ConsentPurpose.KITCHEN: "consent_kitchen",
    ConsentPurpose.ALLERGIES: "consent_allergies",
    ConsentPurpose.MARKETING: "consent_marketing",
}


class Consents(BaseModel):
    """A guest's answers, one per purpose; a purpose left out keeps its current answer."""

    greeting: bool | None = None
    kitchen: bool | None = None
    allergies: bool | None = None
    marketing: bool | None = None


def current(guest: Guest) -> dict[str, bool]:
    return {purpose.value: bool(getattr(guest, field)) for purpose, field in FIELDS.items()}


def change(session: Session, guest: Guest, answers: Consents, source: str) -> list[ConsentEvent]:
    """Apply the answers that differ from the guest's current ones; each becomes a ConsentEvent."""
    events = []
    for purpose, field in FIELDS.items():
        wanted = getattr(answers, purpose.value)
        if wanted is None or wanted == getattr(guest, field):
            continue
        setattr(guest, field, wanted)
        events.append(ConsentEvent(guest_id=row_id(guest), purpose=purpose, granted=wanted, source=source))
    if events:
        session.add(guest)
        session.add_all(events)
        session.flush()
    return events


def retrack(session: Session, directory: Directory, presence: PresenceEngine, guest_id: int) -> None:
    """Re-derive which of the guest's bands ingest follows; a band no longer followed is forgotten now.

    Call after the change is flushed, in the same session: Directory reads the guest's new answers.
    """
    directory.refresh_bands_of(session, guest_id)
    for band in session.exec(select(Band.advertiser_id).where(Band.guest_id == guest_id)):
        if band not in directory.tracked_bands:
            presence.forget_band(band)


def history(session: Session, guest_id: int) -> list[ConsentEvent]:
    return list(
        session.exec(
            select(ConsentEvent).where(ConsentEvent.guest_id == guest_id).order_by(col(ConsentEvent.id))
        )
    )


def untrack_band(directory: Directory, presence: PresenceEngine, advertiser_id: str) -> None:
    """Stop following one band at once (unlinked from its guest, or its guest erased)."""
    directory.tracked_bands.discard(advertiser_id)
    directory.rotating_ids.discard(advertiser_id)
    directory.resolver.forget(advertiser_id)
    presence.forget_band(advertiser_id)
