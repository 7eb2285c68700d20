"""A kitchen ticket as the kitchen screen reads it: dishes by course, table, allergies, cooks' notes."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlmodel import Session

from maitre.hospitality.allergens import codes_in
from maitre.hospitality.menu_check import ordered_allergen_warnings
from maitre.hospitality.party import Party, booking_name
from maitre.models import PreOrderItem, Reservation

# Courses a cook fires by hand when the table is ready for them; the rest fire when the party arrives.
HELD_COURSES = ("main", "dessert")

# Words that make a sentence of a guest's notes the kitchen's business (a note about the window
# seat is the host's). Allergen words count too (allergens.codes_in).
_KITCHEN_WORDS = re.compile(
    r"\b(allerg\w*|intoleran\w*|cake|candle\w*|dessert\w*|spic\w*|chil+i\w*|salt\w*|sauce\w*|dressing\w*|"
    r"rare|medium|well[- ]done|cook\w*|vegan\w*|vegetarian\w*|halal|kosher|garlic|onion\w*|pork|beef|"
    r"meat|portion\w*|sugar\w*|diabet\w*|pregnan\w*|plate\w*|kitchen|chef|no \w+|without)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


def fires_on_arrival(item: PreOrderItem) -> bool:
    return item.course not in HELD_COURSES


def item_line(item: PreOrderItem) -> dict[str, object]:
    return {
        "id": item.id,
        "name": item.name,
        "quantity": item.quantity,
        "prep_minutes": item.prep_minutes,
        "modifiers": list(item.modifiers),
        "course": item.course,
    }


def kitchen_notes(party: Party) -> list[str]:
    """Sentences of the notes of members who let the kitchen start, that concern the kitchen.

    A sentence naming an allergen is health data: it reaches the kitchen only from a member who
    also agreed to share allergies, as the allergies themselves do.
    """
    found: list[str] = []
    for member in party.members:
        notes = member.prefs.notes if member.prefs else None
        if not notes or not member.guest.consent_kitchen:
            continue
        for sentence in _SENTENCE.split(notes.strip()):
            sentence = sentence.strip()
            health = bool(codes_in(sentence)) or re.search(r"allerg|intoleran", sentence, re.IGNORECASE)
            if health and not member.guest.consent_allergies:
                continue
            if sentence and (health or _KITCHEN_WORDS.search(sentence)) and sentence not in found:
                found.append(sentence)
    return found


def ticket_body(
    session: Session,
    reservation: Reservation,
    fire: Iterable[PreOrderItem],
    hold: Iterable[PreOrderItem],
    started_on: str,
    at: float,
    party: Party,
) -> dict[str, object]:
    """The kitchen_start payload: `items` cook now, `held` wait for arrival or for a cook to fire them."""
    fire, hold = list(fire), list(hold)
    booker = party.members[0] if party.members else None
    allergies = party.allergies(kitchen=True)
    occasion = booker.prefs.occasion if booker and booker.prefs and booker.guest.consent_kitchen else None
    return {
        "reservation_id": reservation.id,
        "party": booking_name(booker.guest) if booker else f"#{reservation.id}",
        "party_size": reservation.party_size,
        "table": reservation.table_label,
        "items": [item_line(i) for i in fire],
        "held": [item_line(i) for i in hold],
        "started_on": started_on,
        "allergies": allergies,
        "dietary": party.dietary(kitchen=True),
        "allergen_warnings": ordered_allergen_warnings(
            session, reservation.venue_id, allergies, [i.name for i in (*fire, *hold)]
        ),
        "occasion": occasion,
        "notes": kitchen_notes(party),
        "at": at,
    }
