"""Venues, their zones and their gateways."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from maitre.api.deps import ManagerDep, ServiceDep, SessionDep, VenueManagerDep, require_venue, venue_by_slug
from maitre.floorplan import PlanCheck, check_plan
from maitre.hospitality.directory import venue_model
from maitre.models import (
    Gateway,
    GatewayBase,
    GatewayRead,
    GatewayRole,
    Venue,
    VenueBase,
    VenueLayout,
    VenueRead,
    Zone,
    ZoneBase,
    ZoneRead,
)

router = APIRouter(prefix="/api/venues", tags=["venues"])


class LayoutChecked(VenueLayout):
    warnings: list[str] = Field(
        default_factory=list, description="what the plan will do that an operator may not expect"
    )


class PlanReport(BaseModel):
    errors: list[str] = Field(description="why the engine cannot use the plan as meant")
    warnings: list[str]


class GatewayChange(BaseModel):
    """A gateway moved, or given another role or zone; what is left out stays as it was."""

    role: GatewayRole | None = None
    zone_id: int | None = None
    x: float | None = None
    y: float | None = None


def _check(session: Session, venue: Venue, layout: dict[str, object] | None) -> PlanCheck | None:
    """The plan with the venue's gateways as registered; None when there is no plan to check."""
    if layout is None:
        return None
    gateways = session.exec(select(Gateway).where(Gateway.venue_id == venue.id)).all()
    model = venue_model(layout, {g.name: (g.x, g.y) for g in gateways})
    return check_plan(model, {g.name: g.role.value for g in gateways})


def _refuse(check: PlanCheck | None, what: str) -> None:
    if check is not None and check.errors:
        raise HTTPException(
            422,
            {
                "message": f"{what}: the plan cannot be used",
                "errors": check.errors,
                "warnings": check.warnings,
            },
        )


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


@router.put("/{slug}/layout", response_model=LayoutChecked)
def set_layout(
    slug: str, body: VenueLayout, session: SessionDep, service: ServiceDep, claims: VenueManagerDep
) -> LayoutChecked:
    """Walls, inside area and door: with them, presence fuses every gateway over the venue's plan.

    A plan the engine cannot use as meant (it cannot tell which way is in, or parts of it lie
    outside its bounds) is refused with the reasons; one it can use comes back with warnings.
    """
    venue = venue_by_slug(session, slug)
    layout = body.model_dump(mode="json")
    check = _check(session, venue, layout)
    _refuse(check, f"layout of {slug}")
    venue.layout = layout
    session.add(venue)
    session.commit()
    service.reload_directory()
    return LayoutChecked(**body.model_dump(), warnings=check.warnings if check else [])


@router.get("/{slug}/layout/check", response_model=PlanReport)
def check_layout(slug: str, session: SessionDep, claims: VenueManagerDep) -> PlanReport:
    """The stored plan checked against the gateways as registered now."""
    venue = venue_by_slug(session, slug)
    check = _check(session, venue, venue.layout)
    if check is None:
        raise HTTPException(404, f"venue {slug!r} has no layout; presence uses gateway roles alone")
    return PlanReport(errors=check.errors, warnings=check.warnings)


class PredictionRequest(BaseModel):
    radios: int = Field(default=4, ge=1, le=10, description="simulated evenings, one drawn radio each")
    advice: bool = Field(default=True, description="also try one more gateway at a few places")
    evening_seconds: float = Field(
        default=360.0, ge=150.0, le=3600.0, description="each simulated evening's length"
    )


class Prediction(BaseModel):
    status: str = Field(description="running, done or failed")
    started: float = Field(description="unix time")
    finished: float | None
    radios: int
    report: dict[str, object] | None = Field(
        description="as `maitre plan check --json` prints it: the plan as registered, and one more "
        "gateway at each of a few places, best first (docs/operate/placement.md)"
    )
    error: str | None


@router.post("/{slug}/layout/prediction", response_model=Prediction, status_code=202)
def predict_layout(
    slug: str, body: PredictionRequest, session: SessionDep, service: ServiceDep, claims: VenueManagerDep
) -> dict[str, object]:
    """Start predicting how the plan as registered will greet (minutes of simulated evenings);
    GET the same path for the result."""
    venue = venue_by_slug(session, slug)
    check = _check(session, venue, venue.layout)
    if check is None:
        raise HTTPException(404, f"venue {slug!r} has no layout: PUT /api/venues/{slug}/layout first")
    if check.errors:
        raise HTTPException(422, {"errors": check.errors, "warnings": check.warnings})
    if service.plan_jobs.running(slug):
        raise HTTPException(409, f"a prediction for {slug!r} is already running: GET this path for it")
    return service.plan_jobs.start(slug, body.radios, body.advice, body.evening_seconds).public()


@router.get("/{slug}/layout/prediction", response_model=Prediction)
def read_prediction(
    slug: str, session: SessionDep, service: ServiceDep, claims: VenueManagerDep
) -> dict[str, object]:
    """The latest prediction for the venue (kept until the service restarts)."""
    venue_by_slug(session, slug)
    job = service.plan_jobs.jobs.get(slug)
    if job is None:
        raise HTTPException(404, f"no prediction for {slug!r} yet: POST this path to start one")
    return job.public()


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
    _refuse(_check(session, venue, venue.layout), f"gateway {body.name} at {slug}")
    session.commit()
    service.reload_directory()
    return gateway


@router.patch("/{slug}/gateways/{name}", response_model=GatewayRead)
def change_gateway(
    slug: str,
    name: str,
    body: GatewayChange,
    session: SessionDep,
    service: ServiceDep,
    claims: VenueManagerDep,
) -> Gateway:
    """Move a gateway, or change its role or zone; refused if the plan could then not be used."""
    venue = venue_by_slug(session, slug)
    gateway = _gateway(session, venue, name)
    if body.zone_id is not None:
        zone = session.get(Zone, body.zone_id)
        if zone is None or zone.venue_id != venue.id:
            raise HTTPException(422, f"zone {body.zone_id} is not a zone of {slug}")
    for field, value in body.model_dump(exclude_unset=True).items():
        if value is None and field != "zone_id":
            raise HTTPException(422, f"{field} cannot be null")
        setattr(gateway, field, value)
    session.add(gateway)
    session.flush()
    _refuse(_check(session, venue, venue.layout), f"gateway {name} at {slug}")
    session.commit()
    service.reload_directory()
    return gateway


@router.delete("/{slug}/gateways/{name}", status_code=204)
def delete_gateway(
    slug: str, name: str, session: SessionDep, service: ServiceDep, claims: VenueManagerDep
) -> Response:
    """Take a gateway out of the venue: its sightings are refused from now on."""
    venue = venue_by_slug(session, slug)
    session.delete(_gateway(session, venue, name))
    session.commit()
    service.reload_directory()
    return Response(status_code=204)


def _gateway(session: Session, venue: Venue, name: str) -> Gateway:
    gateway = session.exec(select(Gateway).where(Gateway.venue_id == venue.id, Gateway.name == name)).first()
    if gateway is None:
        raise HTTPException(404, f"no gateway {name!r} at {venue.slug}")
    return gateway


@router.get("/{slug}/gateways", response_model=list[GatewayRead])
def list_gateways(slug: str, session: SessionDep, claims: VenueManagerDep) -> list[Gateway]:
    venue = venue_by_slug(session, slug)
    return list(session.exec(select(Gateway).where(Gateway.venue_id == venue.id).order_by(Gateway.name)))
