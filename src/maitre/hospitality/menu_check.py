"""Ordered dishes checked against a guest's allergies, with what the venue's menu says of each dish."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from maitre.hospitality.allergens import Dish, warnings
from maitre.models import MenuItem


def dishes(session: Session, venue_id: int, names: Iterable[str]) -> list[Dish]:
    """Each name as a Dish, with the menu's description and declared allergens when it is on the menu.

    A pre-order keeps the dish's name (maitre.models.PreOrderItem); a dish the staff typed in by hand,
    or taken off the menu since, is still scanned by its name.
    """
    names = list(dict.fromkeys(names))
    menu = {
        m.name: m
        for m in session.exec(
            select(MenuItem).where(MenuItem.venue_id == venue_id, col(MenuItem.name).in_(names))
        )
    }
    return [
        Dish(n, menu[n].description or "", tuple(menu[n].allergens)) if n in menu else Dish(n) for n in names
    ]


def ordered_allergen_warnings(
    session: Session, venue_id: int, allergies: Iterable[str], ordered: Iterable[str]
) -> list[dict[str, object]]:
    """Warnings for every ordered dish that clashes with one of the allergies (see allergens.warnings)."""
    allergies = list(allergies)
    if not allergies:
        return []
    return warnings(allergies, dishes(session, venue_id, ordered))
