"""Privacy, staff side: guest profiles (each read logged), consent records, erasure on request, retention."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException
from sqlmodel import col, select

from maitre.alerts.store import to_read
from maitre.api.deps import ServiceDep, SessionDep, StaffDep, VenueManagerDep, require_venue, venue_by_slug
from maitre.api.guest_scope import guest_of_venue, log_read
from maitre.db import session_scope
from maitre.guests import consent
from maitre.guests.erasure import erase_guest, purge_location
from maitre.guests.personalization import profile
from maitre.models import (
    AlertRead,
    ConsentEvent,
    Guest,
    Preference,
    StaffRead,
    utcnow,
)
from maitre.security.tokens import StaffRole

router = APIRouter(prefix="/api/venues", tags=["privacy"])


@router.get("/{slug}/guests/{guest_id}/profile")
def read_profile(
    slug: str, guest_id: int, session: SessionDep, claims: StaffDep, service: ServiceDep
) -> dict[str, object]:
    """What the guest shared, for the purposes they accepted; the read is logged (StaffRead)."""
    require_venue(claims, slug)
    if claims.role == StaffRole.KITCHEN:
        raise HTTPException(403, "a kitchen token does not open guest profiles")
    venue = venue_by_slug(session, slug)
    guest = guest_of_venue(session, venue, guest_id)
    log_read(session, claims, guest_id, "profile")
    prefs = session.get(Preference, guest_id) or Preference(guest_id=guest_id)
    p = profile(session, guest, service.arrivals.rules.tags)
    health = guest.consent_allergies
    return {
        "guest_id": guest_id,
        "name": f"{guest.first_name} {guest.last_name}",
        "preferred_name": prefs.preferred_name,
        "pronunciation": prefs.pronunciation,
        "occasion": prefs.occasion,
        "notes": prefs.notes,
        "allergies": prefs.allergies if health else None,
        "dietary": prefs.dietary if health else None,
        "consents": consent.current(guest),
        "tags": p.tags,
        "favourites": p.favourites,
        # Only visits here: what the guest did at other venues is theirs, not this venue's staff's.
        "visits": [
            {"venue": v.venue_name, "at": v.at.isoformat(), "party_size": v.party_size, "items": v.items}
            for v in p.visits
            if v.venue == slug
        ],
    }


@router.get("/{slug}/guests/{guest_id}/consents", response_model=list[ConsentEvent])
def consent_record(
    slug: str, guest_id: int, session: SessionDep, claims: VenueManagerDep
) -> list[ConsentEvent]:
    """Every change of the guest's consents, oldest first (kept after erasure: it holds no personal data)."""
    venue = venue_by_slug(session, slug)
    guest = session.get(Guest, guest_id)
    if guest is None:
        raise HTTPException(404, f"no guest {guest_id} at {slug}")
    if guest.erased_at is None:
        guest_of_venue(session, venue, guest_id)
    log_read(session, claims, guest_id, "consents")
    return consent.history(session, guest_id)


@router.get("/{slug}/staff-reads", response_model=list[StaffRead])
def staff_reads(
    slug: str, session: SessionDep, claims: VenueManagerDep, guest_id: int | None = None
) -> list[StaffRead]:
    """Who read which guest's profile, when: this venue's reads, newest first."""
    query = select(StaffRead).where(StaffRead.venue == slug)
    if guest_id is not None:
        query = query.where(StaffRead.guest_id == guest_id)
    return list(session.exec(query.order_by(col(StaffRead.id).desc()).limit(1000)))


@router.post("/{slug}/guests/{guest_id}/erase")
async def erase_on_request(
    slug: str, guest_id: int, claims: VenueManagerDep, service: ServiceDep
) -> dict[str, object]:
    """Erase a guest who asked in person or by mail (the guest can do it from the check-in page too)."""

    def write() -> list[AlertRead]:
        with session_scope(service.engine) as session:
            venue = venue_by_slug(session, slug)
            guest = guest_of_venue(session, venue, guest_id)
            erased = erase_guest(session, guest)
            for band in erased.bands:
                consent.untrack_band(service.directory, service.presence, band)
            return [to_read(alert, s) for s, alert in erased.alerts]

    published = await service.hub.record(write)
    return {"erased": True, "screens_updated": len(published)}


@router.post("/{slug}/retention/purge")
def purge_now(slug: str, session: SessionDep, claims: VenueManagerDep, service: ServiceDep) -> dict[str, int]:
    """Run the retention purge now (it also runs in the background every few minutes)."""
    venue_by_slug(session, slug)
    return purge_location(session, utcnow() - timedelta(hours=service.settings.sighting_retention_hours))
