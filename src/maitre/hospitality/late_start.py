"""The kitchen starts a pre-order the door did not: consent given after arrival, or seated by hand.

The guest page promises "your order is started once you're seated" to a guest whose band did not
start it; these are the two ways that promise is kept. Each writes the same `kitchen:{reservation}`
ticket as an arrival would, so the ticket is started at most once whoever gets there first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from maitre.alerts.store import append_alert, find_alert
from maitre.hospitality.menu_check import ordered_allergen_warnings
from maitre.hospitality.party import load_party
from maitre.hospitality.tickets import fires_on_arrival, ticket_body
from maitre.models import (
    Alert,
    AlertKind,
    PreOrderItem,
    Reservation,
    ReservationStatus,
    ScreenRole,
    Venue,
    row_id,
)

# The party is in the house: a kitchen consent given now starts the order now.
IN_THE_HOUSE = (ReservationStatus.PARTIALLY_ARRIVED, ReservationStatus.ARRIVED, ReservationStatus.SEATED)


def start_ticket(session: Session, venue: Venue, reservation: Reservation, started_on: str) -> Alert | None:
    """Write the reservation's kitchen ticket if it has a pre-order and no ticket yet; else None.

    `started_on` says why on the ticket ("seated", "consent"). Allergies and diets are those of the
    members who agreed to share them with the kitchen, whatever started the ticket.
    """
    rid = row_id(reservation)
    if find_alert(session, venue, f"kitchen:{rid}") is not None:
        return None
    items = list(
        session.exec(
            select(PreOrderItem).where(PreOrderItem.reservation_id == rid).order_by(col(PreOrderItem.id))
        )
    )
    if not items:
        return None
    # The same ticket an arrival writes (tickets.py): starters now, mains and desserts held for a cook.
    fire = [i for i in items if fires_on_arrival(i)]
    hold = [i for i in items if not fires_on_arrival(i)]
    at = datetime.now(UTC).timestamp()
    party = load_party(session, reservation)
    payload = ticket_body(session, reservation, fire, hold, started_on, at, party)
    # Started by a seat or a consent, not by the door: the food goes out whoever agreed to the
    # kitchen's greeting, so its allergies are those of every member who agreed to share them.
    sharing = [m for m in party.members if m.guest.consent_allergies and m.prefs is not None]
    allergies = _union(m.prefs.allergies for m in sharing if m.prefs)
    payload["allergies"] = allergies
    payload["dietary"] = _union(m.prefs.dietary for m in sharing if m.prefs)
    payload["allergen_warnings"] = ordered_allergen_warnings(
        session, reservation.venue_id, allergies, [i.name for i in items]
    )
    return append_alert(
        session, venue, ScreenRole.KITCHEN, AlertKind.KITCHEN_START, rid, payload, f"kitchen:{rid}"
    )


def start_on_consent(session: Session, reservation: Reservation) -> Alert | None:
    """The guest turned kitchen consent on: if their party is already in the house, start the order now."""
    if reservation.status not in IN_THE_HOUSE:
        return None
    venue = session.get(Venue, reservation.venue_id)
    assert venue is not None
    return start_ticket(session, venue, reservation, "consent")


def _union(lists: Iterable[list[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for items in lists:
        for item in items:
            seen.setdefault(item, None)
    return list(seen)
