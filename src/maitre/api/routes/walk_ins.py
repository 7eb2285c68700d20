"""Walk-ins at the host stand: a party with no booking, seated now or put on the waitlist with a quoted wait.

A walk-in becomes a booking (a guest and a reservation, arrived now) and one `booking` event with
change `walk_in`, so every host screen adds it to the book at once. The guest may follow the wait
on their phone: the check-in page with the walk-in's code and name says when the table is ready.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from sqlmodel import select

from maitre.alerts.store import append_alert, lock_venue_log, to_read
from maitre.api.deps import ServiceDep, StaffDep, require_screen
from maitre.db import session_scope
from maitre.hospitality.party import booking_name
from maitre.models import (
    AlertKind,
    AlertRead,
    Guest,
    Reservation,
    ReservationStatus,
    ScreenRole,
    Venue,
    row_id,
    utcnow,
)

router = APIRouter(prefix="/api/venues", tags=["screens"])


class WalkIn(BaseModel):
    name: str = Field(max_length=100, description="what to call the party; a last name finds it on the phone")
    party_size: int = Field(ge=1, le=50)
    quoted_minutes: int | None = Field(
        default=None, ge=0, le=240, description="the wait the host quoted; absent: seated now"
    )


class WalkInRead(BaseModel):
    reservation_id: int
    code: str
    last_name: str


@router.post("/{slug}/walk-ins", response_model=WalkInRead, status_code=201)
async def add_walk_in(slug: str, body: WalkIn, claims: StaffDep, service: ServiceDep) -> WalkInRead:
    """Add a walk-in party to tonight's book (and to the waitlist, with a quoted wait)."""
    require_screen(claims, slug, ScreenRole.HOST.value)
    words = body.name.split()
    if not words or any(ord(c) < 32 for c in body.name):
        raise HTTPException(422, "Give the walk-in a name to call them by.")
    first, last = words[0], " ".join(words[1:]) or words[0]
    made: list[WalkInRead] = []

    def write() -> list[AlertRead]:
        with session_scope(service.engine) as session:
            venue = session.exec(select(Venue).where(Venue.slug == slug)).first()
            if venue is None:
                raise HTTPException(404, f"no venue {slug!r}")
            lock_venue_log(session, venue)
            guest = Guest(first_name=first, last_name=last)
            session.add(guest)
            session.flush()
            now = utcnow()
            reservation = Reservation(
                venue_id=row_id(venue),
                guest_id=row_id(guest),
                party_size=body.party_size,
                at=now,
                status=ReservationStatus.ARRIVED,
                arrived_at=now,
            )
            session.add(reservation)
            session.flush()
            rid = row_id(reservation)
            payload: dict[str, object] = {
                "reservation_id": rid,
                "change": "walk_in",
                "name": booking_name(guest),
                "party_size": body.party_size,
                "at": now.isoformat(),
                "status": reservation.status.value,
                "previous_status": None,
                "quoted_minutes": body.quoted_minutes,
                "code": reservation.code,
            }
            alert = append_alert(session, venue, ScreenRole.HOST, AlertKind.BOOKING, rid, payload)
            assert alert is not None  # no dedupe key: always written
            made.append(WalkInRead(reservation_id=rid, code=reservation.code, last_name=last))
            return [to_read(alert, slug)]

    await service.hub.record(write)
    return made[0]
