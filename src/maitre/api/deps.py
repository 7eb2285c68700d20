"""Shared dependencies: database sessions and the running service."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Request
from sqlmodel import Session, select

from maitre.db import session_scope
from maitre.models import Venue
from maitre.service import VenueService


def get_service(request: Request) -> VenueService:
    service: VenueService = request.app.state.service
    return service


def get_session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.service.engine) as session:
        yield session


ServiceDep = Annotated[VenueService, Depends(get_service)]
SessionDep = Annotated[Session, Depends(get_session)]


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
