"""Which guests a venue's staff may see: those registered there, booked there, or in a party there.

A guest is shared by venues only through the guest's own bookings; no token reaches a guest of
another venue by id (the answer is 404, as for a guest that does not exist). See docs/explain/privacy.md.
"""

from __future__ import annotations

from fastapi import HTTPException
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, or_, select

from maitre.api.deps import venue_by_slug
from maitre.models import Guest, PartyMember, Reservation, StaffRead, Venue
from maitre.security.tokens import StaffClaims


def in_scope(venue: Venue) -> ColumnElement[bool]:
    """A condition on Guest.id: the guest is registered at, booked at, or in a party at this venue."""
    booked = select(Reservation.guest_id).where(Reservation.venue_id == venue.id)
    in_party = (
        select(PartyMember.guest_id)
        .join(Reservation, col(PartyMember.reservation_id) == Reservation.id)
        .where(Reservation.venue_id == venue.id)
    )
    return or_(
        col(Guest.venue_id) == venue.id,
        col(Guest.id).in_(booked),
        col(Guest.id).in_(in_party),
    )


def guest_of_venue(session: Session, venue: Venue, guest_id: int, erased: bool = False) -> Guest:
    """The guest, if in the venue's scope (and not erased, unless `erased`); 404 alike for others."""
    guest = session.exec(select(Guest).where(Guest.id == guest_id, in_scope(venue))).first()
    if guest is None or (guest.erased_at is not None and not erased):
        raise HTTPException(404, f"no guest {guest_id} at {venue.slug}")
    return guest


def guest_of_token(
    session: Session, claims: StaffClaims, guest_id: int, erased: bool = False
) -> tuple[Venue, Guest]:
    """The token's venue and the guest, if in that venue's scope (and not erased, unless `erased`:
    the tombstone may be read, never written); 404 otherwise."""
    venue = venue_by_slug(session, claims.venue)
    return venue, guest_of_venue(session, venue, guest_id, erased=erased)


def log_read(session: Session, claims: StaffClaims, guest_id: int, what: str) -> None:
    """Record that this token read this guest's data (the staff-read log)."""
    session.add(StaffRead(guest_id=guest_id, venue=claims.venue, role=claims.role.value, what=what))
