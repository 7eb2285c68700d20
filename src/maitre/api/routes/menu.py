"""A venue's menu: the dishes guests may pre-order from their phones, with prep times and prices."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from maitre.api.deps import SessionDep, StaffDep, VenueManagerDep, require_venue, venue_by_slug
from maitre.models import MenuItem, MenuItemBase, MenuItemRead

router = APIRouter(prefix="/api/venues", tags=["menu"])


@router.get("/{slug}/menu", response_model=list[MenuItemRead])
def list_menu(slug: str, session: SessionDep, claims: StaffDep) -> list[MenuItem]:
    """Every dish, available or not (guests read theirs at /api/guest/menu)."""
    require_venue(claims, slug)
    venue = venue_by_slug(session, slug)
    return list(
        session.exec(select(MenuItem).where(MenuItem.venue_id == venue.id).order_by(col(MenuItem.name)))
    )


@router.post("/{slug}/menu", response_model=MenuItemRead, status_code=201)
def add_dish(slug: str, body: MenuItemBase, session: SessionDep, claims: VenueManagerDep) -> MenuItem:
    venue = venue_by_slug(session, slug)
    dish = MenuItem.model_validate(body, update={"venue_id": venue.id})
    session.add(dish)
    try:
        session.flush()
    except IntegrityError as exc:
        raise HTTPException(409, f"{body.name!r} is already on the menu") from exc
    return dish


@router.put("/{slug}/menu/{item_id}", response_model=MenuItemRead)
def change_dish(
    slug: str, item_id: int, body: MenuItemBase, session: SessionDep, claims: VenueManagerDep
) -> MenuItem:
    """Change a dish (set `available` false to take it off the phones; past orders keep their copy)."""
    venue = venue_by_slug(session, slug)
    dish = session.get(MenuItem, item_id)
    if dish is None or dish.venue_id != venue.id:
        raise HTTPException(404, f"no dish {item_id} at {slug}")
    dish.sqlmodel_update(body.model_dump())
    session.add(dish)
    try:
        session.flush()
    except IntegrityError as exc:
        raise HTTPException(409, f"{body.name!r} is already on the menu") from exc
    return dish
