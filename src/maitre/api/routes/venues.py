"""Venues, their zones and their gateways."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from maitre.api.deps import ManagerDep, ServiceDep, SessionDep, VenueManagerDep, require_venue, venue_by_slug
from maitre.models import (
    Gateway,
    GatewayBase,
    GatewayRead,
    Venue,
    VenueBase,
    VenueLayout,
    VenueRead,
    Zone,
    ZoneBase,
    ZoneRead,
)

router = APIRouter(prefix="/api/venues", tags=["venues"])


@router.post("", response_model=VenueRead, status_code=201)
def create_venue(body: VenueBase, session: SessionDep, claims: ManagerDep) -> Venue:
    """Create the venue a manager's token names (accounts are made for a venue before it exists)."""
    require_venue(claims, body.slug)
    venue = Venue.model_validate(body)
    session.add(venue)
    try:
        session.flush()
    except IntegrityError as exc:
        raise HTTPException(409, f"venue {body.slug!r} already exists") from exc
    return venue


@router.get("", response_model=list[VenueRead])
def list_venues(session: SessionDep, claims: ManagerDep) -> list[Venue]:
    """The venues the token may see: its own."""
    return list(session.exec(select(Venue).where(Venue.slug == claims.venue).order_by(Venue.slug)))


@router.put("/{slug}/layout", response_model=VenueLayout)
def set_layout(
    slug: str, body: VenueLayout, session: SessionDep, service: ServiceDep, claims: VenueManagerDep
) -> VenueLayout:
    """Walls, inside area and door: with them, presence fuses every gateway over the venue's plan."""
    venue = venue_by_slug(session, slug)
    venue.layout = body.model_dump(mode="json")
    session.add(venue)
    session.commit()
    service.reload_directory()
    return body


@router.get("/{slug}/layout", response_model=VenueLayout)
def read_layout(slug: str, session: SessionDep, claims: VenueManagerDep) -> VenueLayout:
    venue = venue_by_slug(session, slug)
    if venue.layout is None:
        raise HTTPException(404, f"venue {slug!r} has no layout; presence uses gateway roles alone")
    return VenueLayout.model_validate(venue.layout)


@router.get("/{slug}", response_model=VenueRead)
def read_venue(slug: str, session: SessionDep, claims: VenueManagerDep) -> Venue:
    return venue_by_slug(session, slug)


@router.post("/{slug}/zones", response_model=ZoneRead, status_code=201)
def create_zone(slug: str, body: ZoneBase, session: SessionDep, claims: VenueManagerDep) -> Zone:
    venue = venue_by_slug(session, slug)
    zone = Zone.model_validate(body, update={"venue_id": venue.id})
    session.add(zone)
    try:
        session.flush()
    except IntegrityError as exc:
        raise HTTPException(409, f"zone {body.name!r} already exists at {slug}") from exc
    return zone


@router.get("/{slug}/zones", response_model=list[ZoneRead])
def list_zones(slug: str, session: SessionDep, claims: VenueManagerDep) -> list[Zone]:
    venue = venue_by_slug(session, slug)
    return list(session.exec(select(Zone).where(Zone.venue_id == venue.id)))


@router.post("/{slug}/gateways", response_model=GatewayRead, status_code=201)
def create_gateway(
    slug: str, body: GatewayBase, session: SessionDep, service: ServiceDep, claims: VenueManagerDep
) -> Gateway:
    venue = venue_by_slug(session, slug)
    if body.zone_id is not None:
        zone = session.get(Zone, body.zone_id)
        if zone is None or zone.venue_id != venue.id:
            raise HTTPException(422, f"zone {body.zone_id} is not a zone of {slug}")
    gateway = Gateway.model_validate(body, update={"venue_id": venue.id})
    session.add(gateway)
    try:
        session.flush()
    except IntegrityError as exc:
        raise HTTPException(409, f"gateway {body.name!r} already exists at {slug}") from exc
    session.commit()
    service.reload_directory()
    return gateway


@router.get("/{slug}/gateways", response_model=list[GatewayRead])
def list_gateways(slug: str, session: SessionDep, claims: VenueManagerDep) -> list[Gateway]:
    venue = venue_by_slug(session, slug)
    return list(session.exec(select(Gateway).where(Gateway.venue_id == venue.id).order_by(Gateway.name)))
