"""A venue's figures (greeted by name, arrival to seat, kitchen lead, repeat visits) and follow-up export."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Query
from fastapi.responses import Response

from maitre.api.deps import ServiceDep, SessionDep, VenueManagerDep, venue_by_slug
from maitre.api.guest_scope import log_read
from maitre.guests.followups import followups_csv
from maitre.guests.insights import venue_figures
from maitre.models import utcnow

router = APIRouter(prefix="/api/venues", tags=["insights"])


@router.get("/{slug}/insights")
def insights(
    slug: str, session: SessionDep, claims: VenueManagerDep, days: int = Query(30, ge=1, le=366)
) -> dict[str, object]:
    """Figures over the last `days` days (reservations booked for then, not cancelled)."""
    venue = venue_by_slug(session, slug)
    end = utcnow() + timedelta(days=1)  # tonight's bookings count too
    return venue_figures(session, venue, end - timedelta(days=days + 1), end).as_dict()


@router.get("/{slug}/followups.csv", response_class=Response)
def followups(
    slug: str,
    session: SessionDep,
    claims: VenueManagerDep,
    service: ServiceDep,
    days: int = Query(7, ge=1, le=366),
) -> Response:
    """Guests who visited in the last `days` days and consented to marketing: one row each, as CSV."""
    venue = venue_by_slug(session, slug)
    end = utcnow() + timedelta(days=1)
    found = followups_csv(session, venue, end - timedelta(days=days + 1), end, service.arrivals.rules.tags)
    for guest_id in found.guest_ids:
        log_read(session, claims, guest_id, "followups")
    return Response(
        found.csv,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{slug}-followups.csv"'},
    )
