"""What a cook's tap does to a ticket: acknowledge its allergy, fire a course, mark a dish or the ticket done.

Refusals are written for the cook at the pass, not for a developer: they say what to do instead.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from maitre.alerts.store import append_alert, find_alert
from maitre.models import Alert, AlertKind, ScreenRole, Venue

Card = dict[str, Any]
COURSE_ORDER = (None, "starter", "main", "dessert")  # dishes of no course go with the first
NO_NAME = "kitchen screen"  # who acknowledged, when the screen sent no name


class KitchenRefusal(Exception):
    """The tap does not fit the ticket as it is now; str() says why, for the cook."""

    def __init__(self, reason: str, status: int = 409) -> None:
        super().__init__(reason)
        self.status = status


def acknowledge(ticket: Card, by: str | None) -> dict[str, object]:
    if ticket["allergens_acknowledged"]:
        who = ticket.get("allergens_acknowledged_by")
        raise KitchenRefusal(f"The allergy is already acknowledged{f' by {who}' if who else ''}.")
    return {"reservation_id": ticket["reservation_id"], "by": by or NO_NAME}


def fire_next_course(ticket: Card) -> dict[str, object]:
    """The held dishes of the earliest course still held: a tap fires one course at a time."""
    if ticket["bumped_at"] is not None:
        raise KitchenRefusal("This ticket is bumped: recall it first.")
    held: list[Card] = ticket["held"]
    if not held:
        raise KitchenRefusal("Nothing is held on this ticket: every dish is already fired.")
    course = min((i.get("course") for i in held), key=_course_rank)
    return {
        "reservation_id": ticket["reservation_id"],
        "items": [i for i in held if i.get("course") == course],
        "course": course,
        "by_hand": True,
    }


def bump(ticket: Card, item_id: int | None) -> dict[str, object]:
    """The whole ticket done, or (with item_id) one dish of it."""
    payload: dict[str, object] = {"reservation_id": ticket["reservation_id"]}
    if not ticket["allergens_acknowledged"]:
        allergies = ", ".join(ticket.get("allergies") or [])
        raise KitchenRefusal(f"Read the allergy ({allergies}) and tap Acknowledge first: nothing was bumped.")
    if ticket["bumped_at"] is not None:
        raise KitchenRefusal("This ticket is already bumped.")
    if item_id is not None:
        _fired_dish(ticket, item_id)
        if item_id in ticket["done"]:
            raise KitchenRefusal("That dish is already marked done.")
        return {**payload, "item_id": item_id}
    held = ticket["held"]
    if held:
        courses = sorted({str(i.get("course") or "later") for i in held}, key=_course_rank)
        raise KitchenRefusal(
            f"{len(held)} held dish{'es' if len(held) > 1 else ''} ({', '.join(courses)}) not fired yet: "
            "fire them, or they would leave the rail unmade."
        )
    return payload


def recall(ticket: Card, item_id: int | None) -> dict[str, object]:
    payload: dict[str, object] = {"reservation_id": ticket["reservation_id"]}
    if item_id is not None:
        _fired_dish(ticket, item_id)
        if item_id not in ticket["done"]:
            raise KitchenRefusal("That dish is not marked done.")
        return {**payload, "item_id": item_id}
    if ticket["bumped_at"] is None:
        raise KitchenRefusal("This ticket is not bumped.")
    return payload


def echo_table(session: Session, venue: Venue, host_event: Alert) -> Alert | None:
    """A party seated (or unseated) at the host stand: tell the kitchen its ticket's table."""
    p = host_event.payload
    seated = host_event.kind == AlertKind.SEAT
    if not (seated or (host_event.kind == AlertKind.UNDO and p.get("action") == AlertKind.SEAT)):
        return None
    rid = host_event.reservation_id
    if rid is None or find_alert(session, venue, f"kitchen:{rid}") is None:
        return None  # no ticket to put a table on
    payload: dict[str, object] = {"reservation_id": rid, "table": p["table"] if seated else None}
    kind = AlertKind.SEAT if seated else AlertKind.UNDO
    return append_alert(session, venue, ScreenRole.KITCHEN, kind, rid, payload, f"table:{host_event.seq}")


def _fired_dish(ticket: Card, item_id: int) -> None:
    if not any(i.get("id") == item_id for i in ticket["items"]):
        if any(i.get("id") == item_id for i in ticket["held"]):
            raise KitchenRefusal("That dish is held: fire its course first.")
        raise KitchenRefusal(f"There is no dish {item_id} on this ticket.", 404)


def _course_rank(course: str | None) -> int:
    return COURSE_ORDER.index(course) if course in COURSE_ORDER else len(COURSE_ORDER)
