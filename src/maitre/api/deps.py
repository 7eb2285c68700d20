"""Shared dependencies: database sessions, the running service and staff tokens."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session, select

from maitre.db import session_scope
from maitre.guests.ratelimit import (
    PublicLimits,
    RateLimiter,
)
from maitre.models import Reservation, Venue
from maitre.runtime.service import VenueService
from maitre.security.revocation import RevocationList
from maitre.security.tokens import InvalidToken, StaffClaims, StaffRole, TokenSigner


def get_service(request: Request) -> VenueService:
    service: VenueService = request.app.state.service
    return service


def get_session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.service.engine) as session:
        yield session


ServiceDep = Annotated[VenueService, Depends(get_service)]
# "function" scope: commit before the response is sent. The default ("request") commits after
# it, so a client's next request could miss what the previous response said was created.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

# Rate limits on what anyone can reach, per client address. Behind a reverse proxy every client
# has the proxy's address unless it is passed on (uvicorn --proxy-headers, --forwarded-allow-ips).
TOO_MANY = "Too many requests from this address. Wait a moment and try again."


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def spend(limiter: RateLimiter, key: str, detail: str = TOO_MANY) -> None:
    """Take one try from `key`'s budget; 429 with Retry-After when it is spent."""
    wait = limiter.take(key)
    if wait > 0:
        raise HTTPException(429, detail, headers={"Retry-After": str(math.ceil(wait))})


def public_limits(request: Request) -> PublicLimits:
    """The app's budgets for public routes (MAITRE_GUEST_BURST …, made in create_app)."""
    limits: PublicLimits = request.app.state.public_limits
    return limits


def guest_rate_limit(request: Request) -> None:
    """Every route of the guest's phone: a budget per address, spent before any token is checked."""
    spend(public_limits(request).guest, client_address(request))


def probe_rate_limit(request: Request) -> None:
    """Readiness and metrics, open to anyone on the network: a budget per address."""
    spend(public_limits(request).probe, client_address(request))


RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"description": "too many requests from this address; see Retry-After"}
}

_bearer = HTTPBearer(auto_error=False, description="a staff token from `maitre token`")


def staff_claims(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> StaffClaims:
    """The verified claims of the request's `Authorization: Bearer` staff token; 401 without one."""
    if credentials is None:
        raise HTTPException(401, "a staff token is required", headers={"WWW-Authenticate": "Bearer"})
    signer: TokenSigner = request.app.state.signer
    try:
        claims = signer.verify(credentials.credentials)
    except InvalidToken as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
    revocations: RevocationList = request.app.state.revocations
    if revocations.revoked(claims):
        raise HTTPException(401, "token revoked", headers={"WWW-Authenticate": "Bearer"})
    return claims


StaffDep = Annotated[StaffClaims, Depends(staff_claims)]


# Authority on the admin API. Every /api route takes one of these (or StaffDep plus
# require_screen, or a guest token); tests/test_auth_staff.py calls every route in the OpenAPI
# spec without a token and fails on any that answers, except the public ones it lists.


def manager_claims(claims: StaffDep) -> StaffClaims:
    """A manager's token, of any venue: the route checks that what it touches is that venue's."""
    if claims.role != StaffRole.MANAGER:
        raise HTTPException(403, f"a {claims.role.value} token cannot do this; a manager's can")
    return claims


ManagerDep = Annotated[StaffClaims, Depends(manager_claims)]


def venue_manager_claims(slug: str, claims: ManagerDep) -> StaffClaims:
    """A manager's token for the venue in the path (`{slug}`)."""
    require_venue(claims, slug)
    return claims


VenueManagerDep = Annotated[StaffClaims, Depends(venue_manager_claims)]


def require_venue(claims: StaffClaims, slug: str) -> None:
    """403 unless the token is for this venue."""
    if claims.venue != slug:
        raise HTTPException(403, "the token is for another venue")


def require_venue_id(session: Session, claims: StaffClaims, venue_id: int) -> Venue:
    """The venue with this id (404), if the token is for it (403)."""
    venue = get_or_404(session, Venue, venue_id, "venue")
    require_venue(claims, venue.slug)
    return venue


def reservation_of_venue(session: Session, claims: StaffClaims, reservation_id: int) -> Reservation:
    """The reservation (404), if it is at the token's venue (403)."""
    reservation = get_or_404(session, Reservation, reservation_id, "reservation")
    require_venue_id(session, claims, reservation.venue_id)
    return reservation


def require_screen(claims: StaffClaims, slug: str, screen: str) -> None:
    """403 unless the token opens this venue's `screen` (host or kitchen)."""
    if claims.venue != slug:
        raise HTTPException(403, "the token is for another venue")
    if not claims.may_open(slug, screen):
        raise HTTPException(403, f"a {claims.role.value} token does not open the {screen} screen")


def venue_by_slug(session: Session, slug: str) -> Venue:
    venue = session.exec(select(Venue).where(Venue.slug == slug)).first()
    if venue is None:
        raise HTTPException(404, f"no venue {slug!r}")
    return venue


T = TypeVar("T")


def get_or_404(session: Session, model: type[T], ident: int, what: str) -> T:
    row = session.get(model, ident)
    if row is None:
        raise HTTPException(404, f"no {what} {ident}")
    return row
