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
            self.tickets[rid] = {
                **_card(alert),
                "fired_at": None if p.get("held") else alert.created_at.isoformat(),
                "bumped_at": None,
                "allergens_acknowledged": not p.get("allergies"),
            }
            return
        if kind == AlertKind.ERASED:
            self.tickets.pop(rid, None)
            return
        ticket = self.tickets.get(rid)
        if ticket is None:
            return
        if kind == AlertKind.KITCHEN_FIRE:
            ticket.update(
                items=[*ticket["items"], *ticket["held"]], held=[], fired_at=alert.created_at.isoformat()
            )
        elif kind == AlertKind.BUMP:
            ticket["bumped_at"] = alert.created_at.isoformat()
        elif kind == AlertKind.RECALL:
            ticket["bumped_at"] = None
        elif kind == AlertKind.ALLERGEN_ACK:
            ticket["allergens_acknowledged"] = True

    def ordered(self) -> list[Card]:
        return sorted(self.tickets.values(), key=lambda t: t["seq"])


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
