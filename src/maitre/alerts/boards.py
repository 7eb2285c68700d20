"""What a screen shows, folded from its events in sequence order: pure, no I/O.

The screens' JavaScript applies the same events the same way (web/static/host.js, kitchen.js);
the service folds them to build a snapshot for a screen that connects, and to check that a
staff action still makes sense (a ticket is bumped once, an undo has something to take back).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from maitre.models import AlertKind, AlertRead

Card = dict[str, Any]

# Staff actions an undo can take back, newest first.
UNDOABLE = (AlertKind.GREET_ACK, AlertKind.SEAT, AlertKind.BOOKING)


def _card(alert: AlertRead) -> Card:
    return {**alert.payload, "seq": alert.seq, "created_at": alert.created_at.isoformat()}


class HostBoard:
    """Approaching parties and greet cards, with what the hosts did to them."""

    __slots__ = ("approaching", "greets", "late", "undoable", "waiting")

    def __init__(self) -> None:
        self.approaching: dict[int, Card] = {}
        self.greets: dict[int, Card] = {}
        self.late: dict[int, int] = {}  # parties the host marked as running late → seq of that mark
        # Walk-ins on the waitlist: quoted wait, since when, and the seq of "table ready" (0: not yet).
        self.waiting: dict[int, Card] = {}
        # Per reservation: (seq, kind) of the staff actions not yet undone, oldest first.
        self.undoable: dict[int, list[tuple[int, AlertKind]]] = {}

    def apply(self, alert: AlertRead) -> None:
        rid, kind, p = alert.reservation_id, alert.kind, alert.payload
        if rid is None:
            return
        if kind == AlertKind.APPROACHING:
            self.approaching[rid] = _card(alert)
        elif kind == AlertKind.GREET:
            self.approaching.pop(rid, None)
            self.greets[rid] = {**_card(alert), "acknowledged": False, "table": None}
        elif kind == AlertKind.PARTY_UPDATE:
            self.approaching.pop(rid, None)
            if rid in self.greets:
                self.greets[rid].update(status=p["status"], arrived=p["arrived"], members=p["members"])
        elif kind == AlertKind.GREET_ACK:
            if rid in self.greets:
                self.greets[rid]["acknowledged"] = True
            self.undoable.setdefault(rid, []).append((alert.seq, kind))
        elif kind == AlertKind.SEAT:
            self.approaching.pop(rid, None)
            if rid in self.greets:
                self.greets[rid].update(table=p["table"], status=p["status"])
            self.undoable.setdefault(rid, []).append((alert.seq, kind))
        elif kind == AlertKind.BOOKING:
            if rid in self.greets:
                self.greets[rid].update(status=p["status"], party_size=p["party_size"])
            change = p["change"]
            if change == "walk_in":  # a new booking, not a change to undo; waitlisted if a wait was quoted
                if p.get("quoted_minutes") is None:
                    return
                self.waiting[rid] = {
                    "quoted_minutes": p.get("quoted_minutes"),
                    "since": alert.created_at.isoformat(),
                    "ready": 0,
                    "code": p.get("code"),
                }
                return
            if change == "late":
                self.late[rid] = alert.seq
            if change == "ready" and rid in self.waiting:
                self.waiting[rid]["ready"] = alert.seq
            self.undoable.setdefault(rid, []).append((alert.seq, kind))
        elif kind == AlertKind.ERASED:  # the guest erased their data: no card of theirs stays up
            self.approaching.pop(rid, None)
            self.greets.pop(rid, None)
            self.undoable.pop(rid, None)
        elif kind == AlertKind.UNDO:
            stack = self.undoable.get(rid, [])
            stack[:] = [(seq, k) for seq, k in stack if seq != p["undoes"]]
            card = self.greets.get(rid)
            if card is not None:
                if p["action"] == AlertKind.GREET_ACK:
                    card["acknowledged"] = False
                elif p["action"] == AlertKind.SEAT:
                    card.update(table=None, status=p["status"])
                elif p["action"] == AlertKind.BOOKING:
                    card.update(status=p["status"], party_size=p.get("party_size", card["party_size"]))
            if self.late.get(rid) == p["undoes"]:
                del self.late[rid]
            wait = self.waiting.get(rid)
            if wait is not None and wait["ready"] == p["undoes"]:
                wait["ready"] = 0

    def last_undoable(self, reservation_id: int) -> tuple[int, AlertKind] | None:
        stack = self.undoable.get(reservation_id)
        return stack[-1] if stack else None

    def open_greets(self) -> list[Card]:
        """Greet cards of parties not yet seated, oldest first."""
        return sorted((c for c in self.greets.values() if c["table"] is None), key=lambda c: c["seq"])


class KitchenRail:
    """Tickets: open ones on the rail, bumped ones kept for recall."""

    __slots__ = ("tickets",)

    def __init__(self) -> None:
        self.tickets: dict[int, Card] = {}

    def apply(self, alert: AlertRead) -> None:
        rid, kind, p = alert.reservation_id, alert.kind, alert.payload
        if rid is None:
            return
        if kind == AlertKind.KITCHEN_START:
            arrived = p.get("started_on") != "approach"
            self.tickets[rid] = {
                **_card(alert),
                "table": p.get("table"),
                "arrived": arrived,
                "fired_at": alert.created_at.isoformat() if arrived or not p.get("held") else None,
                "bumped_at": None,
                "done": [],
                "allergens_acknowledged": not p.get("allergies"),
                "allergens_acknowledged_by": None,
                "allergens_acknowledged_at": None,
            }
            return
        if kind == AlertKind.ERASED:
            self.tickets.pop(rid, None)
            return
        ticket = self.tickets.get(rid)
        if ticket is None:
            return
        if kind == AlertKind.KITCHEN_FIRE:
            named = p.get("items")
            fired = fire(ticket["held"], named if isinstance(named, list) else [])
            ticket.update(
                items=[*ticket["items"], *fired], held=[i for i in ticket["held"] if i not in fired]
            )
            if not p.get("by_hand"):  # the party arrived
                ticket.update(arrived=True, fired_at=alert.created_at.isoformat())
        elif kind == AlertKind.BUMP:
            if p.get("item_id") is not None:
                ticket["done"] = [*ticket["done"], p["item_id"]]
            else:
                ticket["bumped_at"] = alert.created_at.isoformat()
        elif kind == AlertKind.RECALL:
            if p.get("item_id") is not None:
                ticket["done"] = [i for i in ticket["done"] if i != p["item_id"]]
            else:
                ticket["bumped_at"] = None
        elif kind == AlertKind.ALLERGEN_ACK:
            ticket.update(
                allergens_acknowledged=True,
                allergens_acknowledged_by=p.get("by"),
                allergens_acknowledged_at=alert.created_at.isoformat(),
            )
        elif kind in (AlertKind.SEAT, AlertKind.UNDO):  # the host seated the party (or took it back)
            ticket["table"] = p.get("table")

    def ordered(self) -> list[Card]:
        return sorted(self.tickets.values(), key=lambda t: t["seq"])


def fire(held: list[Card], fired: list[Card]) -> list[Card]:
    """The held dishes a kitchen_fire names, by id; all of them for a ticket from before dishes had ids."""
    ids = [i.get("id") for i in fired]
    if any(i is None for i in ids):
        return list(held)
    return [i for i in held if i.get("id") in ids]


def fold_host(alerts: Iterable[AlertRead]) -> HostBoard:
    board = HostBoard()
    for alert in alerts:
        board.apply(alert)
    return board


def fold_kitchen(alerts: Iterable[AlertRead]) -> KitchenRail:
    rail = KitchenRail()
    for alert in alerts:
        rail.apply(alert)
    return rail
