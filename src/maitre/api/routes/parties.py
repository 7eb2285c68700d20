"""Parties: the guests who come with a reservation besides the one who booked it."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from maitre.api.deps import ManagerDep, SessionDep, reservation_of_venue, venue_by_slug
from maitre.api.guest_scope import guest_of_venue
from maitre.models import PartyMember, PartyMemberRead

router = APIRouter(prefix="/api/reservations", tags=["reservations"])


class NewMember(BaseModel):
    guest_id: int


@router.post("/{reservation_id}/party", response_model=PartyMemberRead, status_code=201)
def add_member(reservation_id: int, body: NewMember, session: SessionDep, claims: ManagerDep) -> PartyMember:
    """Add a guest to the party; their band then counts as this party arriving."""
    reservation = reservation_of_venue(session, claims, reservation_id)
    guest_of_venue(session, venue_by_slug(session, claims.venue), body.guest_id)
    if body.guest_id == reservation.guest_id:
        raise HTTPException(409, "the guest who booked is already in the party")
    member = PartyMember(reservation_id=reservation_id, guest_id=body.guest_id)
    session.add(member)
    try:
        session.flush()
    except IntegrityError as exc:
        raise HTTPException(409, f"guest {body.guest_id} is already in this party") from exc
    return member


@router.get("/{reservation_id}/party", response_model=list[PartyMemberRead])
def list_members(reservation_id: int, session: SessionDep, claims: ManagerDep) -> list[PartyMember]:
    """The members besides the booker, in the order they were added."""
    reservation_of_venue(session, claims, reservation_id)
    return list(
        session.exec(
            select(PartyMember)
            .where(PartyMember.reservation_id == reservation_id)
            .order_by(col(PartyMember.id))
        )
    )
