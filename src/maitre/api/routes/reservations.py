"""Reservations and their pre-ordered items."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from sqlmodel import col, select

from maitre.api.deps import (
    ManagerDep,
    SessionDep,
    VenueManagerDep,
    require_venue_id,
    reservation_of_venue,
    venue_by_slug,
)
from maitre.api.guest_scope import guest_of_venue
from maitre.models import (
    PreOrderItem,
    PreOrderItemBase,
    PreOrderItemRead,
    Reservation,
    ReservationBase,
    ReservationRead,
    ReservationStatus,
    row_id,
)

router = APIRouter(prefix="/api", tags=["reservations"])


class StatusChange(BaseModel):
    status: ReservationStatus


class Booking(BaseModel):
    """A reservation at the venue the path names."""

    guest_id: int
    party_size: int = Field(ge=1, le=50)
    at: datetime = Field(description="reservation time, UTC")


@router.post("/reservations", response_model=ReservationRead, status_code=201)
def create_reservation(body: ReservationBase, session: SessionDep, claims: ManagerDep) -> Reservation:
    venue = require_venue_id(session, claims, body.venue_id)
    # Booking is no way into another venue's guest: the guest must be in this venue's scope already.
    guest_of_venue(session, venue, body.guest_id)
    reservation = Reservation.model_validate(body, update={"at": _aware_utc(body.at)})
    session.add(reservation)
    session.flush()
    return reservation


@router.post("/venues/{slug}/reservations", response_model=ReservationRead, status_code=201)
def book(slug: str, body: Booking, session: SessionDep, claims: VenueManagerDep) -> Reservation:
    """The same as POST /api/reservations, with the venue by its slug as every other venue route."""
    venue = venue_by_slug(session, slug)
    return create_reservation(ReservationBase(venue_id=row_id(venue), **body.model_dump()), session, claims)


@router.get("/reservations/{reservation_id}", response_model=ReservationRead)
def read_reservation(reservation_id: int, session: SessionDep, claims: ManagerDep) -> Reservation:
    return reservation_of_venue(session, claims, reservation_id)


@router.patch("/reservations/{reservation_id}", response_model=ReservationRead)
def change_status(
    reservation_id: int, body: StatusChange, session: SessionDep, claims: ManagerDep
) -> Reservation:
    reservation = reservation_of_venue(session, claims, reservation_id)
    reservation.status = body.status
    session.add(reservation)
    return reservation


@router.get("/venues/{slug}/reservations", response_model=list[ReservationRead])
def list_reservations(
    slug: str,
    session: SessionDep,
    claims: VenueManagerDep,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Reservation]:
    venue = venue_by_slug(session, slug)
    query = select(Reservation).where(Reservation.venue_id == venue.id)
    if start is not None:
        query = query.where(col(Reservation.at) >= _aware_utc(start))
    if end is not None:
        query = query.where(col(Reservation.at) < _aware_utc(end))
    return list(session.exec(query.order_by(col(Reservation.at))))


@router.post("/reservations/{reservation_id}/items", response_model=PreOrderItemRead, status_code=201)
def add_item(
    reservation_id: int, body: PreOrderItemBase, session: SessionDep, claims: ManagerDep
) -> PreOrderItem:
    reservation = reservation_of_venue(session, claims, reservation_id)
    if reservation.status not in (ReservationStatus.EXPECTED, ReservationStatus.APPROACHING):
        raise HTTPException(409, "the kitchen has already started this reservation")
    item = PreOrderItem.model_validate(body, update={"reservation_id": reservation_id})
    session.add(item)
    session.flush()
    return item


@router.get("/reservations/{reservation_id}/items", response_model=list[PreOrderItemRead])
def list_items(reservation_id: int, session: SessionDep, claims: ManagerDep) -> list[PreOrderItem]:
    reservation_of_venue(session, claims, reservation_id)
    return list(session.exec(select(PreOrderItem).where(PreOrderItem.reservation_id == reservation_id)))


def _aware_utc(at: datetime) -> datetime:
    """A time without an offset is taken as UTC; one with an offset is converted to UTC."""
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at.astimezone(UTC)
