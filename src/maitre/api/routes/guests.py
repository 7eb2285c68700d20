"""Guests, their preferences and their bands."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from maitre.api.deps import ManagerDep, ServiceDep, SessionDep, get_or_404
from maitre.models import (
    Band,
    BandCreate,
    BandRead,
    Guest,
    GuestBase,
    GuestRead,
    Preference,
    PreferenceBase,
    PreferenceRead,
)

# Guests are shared between the venues of one service (visits count across them), so a manager
# of any of its venues may manage them.
router = APIRouter(prefix="/api", tags=["guests"])


@router.post("/guests", response_model=GuestRead, status_code=201)
def create_guest(body: GuestBase, session: SessionDep, claims: ManagerDep) -> Guest:
    guest = Guest.model_validate(body)
    session.add(guest)
    session.flush()
    return guest


@router.get("/guests/{guest_id}", response_model=GuestRead)
def read_guest(guest_id: int, session: SessionDep, claims: ManagerDep) -> Guest:
    return get_or_404(session, Guest, guest_id, "guest")


@router.put("/guests/{guest_id}", response_model=GuestRead)
def update_guest(
    guest_id: int, body: GuestBase, session: SessionDep, service: ServiceDep, claims: ManagerDep
) -> Guest:
    guest = get_or_404(session, Guest, guest_id, "guest")
    guest.sqlmodel_update(body.model_dump())
    session.add(guest)
    session.flush()
    service.directory.refresh_bands_of(session, guest_id)
    return guest


@router.put("/guests/{guest_id}/preferences", response_model=PreferenceRead)
def set_preferences(
    guest_id: int, body: PreferenceBase, session: SessionDep, claims: ManagerDep
) -> Preference:
    get_or_404(session, Guest, guest_id, "guest")
    prefs = session.get(Preference, guest_id)
    if prefs is None:
        prefs = Preference(guest_id=guest_id)
    prefs.sqlmodel_update(body.model_dump())
    session.add(prefs)
    session.flush()
    return prefs


@router.get("/guests/{guest_id}/preferences", response_model=PreferenceRead)
def read_preferences(guest_id: int, session: SessionDep, claims: ManagerDep) -> Preference:
    get_or_404(session, Guest, guest_id, "guest")
    prefs = session.get(Preference, guest_id)
    return prefs if prefs is not None else Preference(guest_id=guest_id)


@router.post("/bands", response_model=BandRead, status_code=201)
def create_band(body: BandCreate, session: SessionDep, service: ServiceDep, claims: ManagerDep) -> Band:
    if body.guest_id is not None:
        get_or_404(session, Guest, body.guest_id, "guest")
    band = Band.model_validate(body)
    session.add(band)
    try:
        session.flush()
    except IntegrityError as exc:
        raise HTTPException(409, f"band {body.advertiser_id!r} is already registered") from exc
    if band.guest_id is not None:
        service.directory.refresh_bands_of(session, band.guest_id)
    return band


@router.get("/bands", response_model=list[BandRead])
def list_bands(session: SessionDep, claims: ManagerDep, guest_id: int | None = None) -> list[Band]:
    query = select(Band)
    if guest_id is not None:
        query = query.where(Band.guest_id == guest_id)
    return list(session.exec(query.order_by(col(Band.id))))
