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
from maitre.hospitality.party import booking_name, load_party
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
    party = load_party(session, reservation)
    sharing = [m for m in party.members if m.guest.consent_allergies and m.prefs is not None]
    booker = party.members[0].guest if party.members else None
    payload: dict[str, object] = {
        "reservation_id": rid,
        "party": booking_name(booker) if booker else f"#{rid}",
        "party_size": reservation.party_size,
        "items": [
            {
                "name": i.name,
                "quantity": i.quantity,
                "prep_minutes": i.prep_minutes,
                "modifiers": list(i.modifiers),
            }
            for i in items
        ],
        "held": [],
        "started_on": started_on,
        "allergies": _union(m.prefs.allergies for m in sharing if m.prefs),
        "dietary": _union(m.prefs.dietary for m in sharing if m.prefs),
        "at": datetime.now(UTC).timestamp(),
    }
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
