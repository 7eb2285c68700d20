"""Staff actions from the screens, written as events in the venue's sequence, in one transaction.

Each action carries an id its screen chose; a retried request with the same id returns the
event already written instead of writing another, so a tap counts once however often it is sent.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator
from sqlmodel import Session, col, select

from maitre.alerts import kitchen_actions
from maitre.alerts.boards import fold_host, fold_kitchen
from maitre.alerts.store import append_alert, find_alert, lock_venue_log, to_read
from maitre.hospitality.booking_changes import BookingRefused, change_booking, undo_booking
from maitre.hospitality.late_start import start_ticket
from maitre.models import (
    OPEN_STATUSES,
    Alert,
    AlertKind,
    AlertRead,
    Reservation,
    ReservationStatus,
    ScreenRole,
    Venue,
)

ActionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
StaffName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[^\x00-\x1f\x7f]*$")
]

# Statuses a host may seat from: the open ones, and an arrived party.
SEATABLE = (*OPEN_STATUSES, ReservationStatus.ARRIVED)


class ActionKind(StrEnum):
    GREET_ACK = "greet_ack"
    SEAT = "seat"
    UNDO = "undo"
    BUMP = "bump"
    RECALL = "recall"
    ALLERGEN_ACK = "allergen_ack"
    FIRE = "fire"  # kitchen: fire the next held course (its event is a kitchen_fire)
    # The booking at the stand (booking_changes.py): one BOOKING event each, undone like a seat.
    ARRIVE = "arrive"
    NO_SHOW = "no_show"
    CANCEL = "cancel"
    LATE = "late"
    PARTY_SIZE = "party_size"
    READY = "ready"  # a waiting walk-in's table is ready: their phone says so


# The event an action writes, where its kind is not the action's own.
EVENT_OF = {ActionKind.FIRE: AlertKind.KITCHEN_FIRE}

BOOKING_ACTIONS = (
    ActionKind.ARRIVE,
    ActionKind.NO_SHOW,
    ActionKind.CANCEL,
    ActionKind.LATE,
    ActionKind.PARTY_SIZE,
    ActionKind.READY,
)
HOST_ACTIONS = (ActionKind.GREET_ACK, ActionKind.SEAT, ActionKind.UNDO, *BOOKING_ACTIONS)


class StaffAction(BaseModel):
    action_id: ActionId = Field(description="chosen by the screen; a retry with the same id counts once")
    kind: ActionKind
    reservation_id: int
    table: str | None = Field(default=None, min_length=1, max_length=32, description="for seat")
    item_id: int | None = Field(default=None, description="bump or recall: one dish of the ticket, not all")
    by: StaffName | None = Field(
        default=None, description="allergen_ack: the name or initials of who read it"
    )
    party_size: int | None = Field(default=None, ge=1, le=50, description="for party_size")

    @model_validator(mode="after")
    def _table_for_seat(self) -> StaffAction:
        if self.kind == ActionKind.SEAT and not (self.table and self.table.strip()):
            raise ValueError("seat needs a table")
        if self.kind == ActionKind.PARTY_SIZE and self.party_size is None:
            raise ValueError("party_size needs the new party size")
        return self

    @property
    def screen(self) -> ScreenRole:
        return ScreenRole.HOST if self.kind in HOST_ACTIONS else ScreenRole.KITCHEN


class ActionRefused(Exception):
    """The action does not fit the current state; `status` is the HTTP status that says why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def perform(
    session: Session, venue: Venue, action: StaffAction, follow: list[Alert] | None = None
) -> tuple[Alert, bool]:
    """Write the action's event (and its effect on the reservation); returns it, and whether it is new.

    Events the action set off (a seated party's kitchen ticket) are appended to `follow`, after it.
    """
    key = f"action:{action.action_id}"
    done = _replayed(session, venue, key, action)
    if done is not None:
        return done, False
    lock_venue_log(session, venue)
    done = _replayed(session, venue, key, action)  # a concurrent retry may have won the lock first
    if done is not None:
        return done, False
    reservation = session.get(Reservation, action.reservation_id)
    if reservation is None or reservation.venue_id != venue.id:
        raise ActionRefused(404, f"no reservation {action.reservation_id} at {venue.slug}")
    history = [
        to_read(a, venue.slug)
        for a in session.exec(
            select(Alert)
            .where(Alert.reservation_id == reservation.id, Alert.role == action.screen)
            .order_by(col(Alert.seq))
        )
    ]
    if action.screen == ScreenRole.HOST:
        kind, payload = _host(session, reservation, action, history)
    else:
        kind, payload = _kitchen(action, history)
    alert = append_alert(session, venue, action.screen, kind, reservation.id, payload, key)
    assert alert is not None  # we hold the log lock and checked the key under it
    if kind == AlertKind.SEAT:
        # Seated by hand: a pre-order no band started starts now, as the guest page promised.
        ticket = start_ticket(session, venue, reservation, "seated")
        if ticket is not None and follow is not None:
            follow.append(ticket)
    return alert, True


def _replayed(session: Session, venue: Venue, key: str, action: StaffAction) -> Alert | None:
    done = find_alert(session, venue, key)
    kind = EVENT_OF.get(action.kind, action.kind)
    if done is not None and (done.kind != kind or done.reservation_id != action.reservation_id):
        raise ActionRefused(409, "this action id was already used for another action")
    return done


def _host(
    session: Session, reservation: Reservation, action: StaffAction, history: list[AlertRead]
) -> tuple[AlertKind, dict[str, object]]:
    board = fold_host(history)
    rid = reservation.id
    assert rid is not None
    if action.kind == ActionKind.GREET_ACK:
        card = board.greets.get(rid)
        if card is None:
            raise ActionRefused(409, "this party has not been greeted")
        if card["acknowledged"]:
            raise ActionRefused(409, "the greeting is already acknowledged")
        return AlertKind.GREET_ACK, {"reservation_id": rid}
    if action.kind in BOOKING_ACTIONS:
        try:
            return AlertKind.BOOKING, change_booking(reservation, action.kind.value, action.party_size)
        except BookingRefused as refused:
            raise ActionRefused(409, str(refused)) from None
    if action.kind == ActionKind.SEAT:
        if reservation.status == ReservationStatus.SEATED:
            raise ActionRefused(409, f"already seated at table {reservation.table_label}")
        if reservation.status not in SEATABLE:
            raise ActionRefused(409, f"a {reservation.status.value} reservation cannot be seated")
        table = (action.table or "").strip()
        payload: dict[str, object] = {
            "reservation_id": rid,
            "table": table,
            "status": ReservationStatus.SEATED.value,
            "previous_status": reservation.status.value,
        }
        reservation.status, reservation.table_label = ReservationStatus.SEATED, table
        session.add(reservation)
        return AlertKind.SEAT, payload
    last = board.last_undoable(rid)
    if last is None:
        raise ActionRefused(409, "nothing to undo for this party")
    seq, undone = last
    if undone == AlertKind.SEAT:
        seat = next(a for a in history if a.seq == seq)
        reservation.status = ReservationStatus(str(seat.payload["previous_status"]))
        reservation.table_label = None
        session.add(reservation)
    if undone == AlertKind.BOOKING:
        undo_booking(reservation, next(a for a in history if a.seq == seq).payload)
        session.add(reservation)
    return AlertKind.UNDO, {
        "reservation_id": rid,
        "undoes": seq,
        "action": undone.value,
        "status": reservation.status.value,
        "party_size": reservation.party_size,
    }


def _kitchen(action: StaffAction, history: list[AlertRead]) -> tuple[AlertKind, dict[str, object]]:
    ticket = fold_kitchen(history).tickets.get(action.reservation_id)
    if ticket is None:
        raise ActionRefused(409, "this party has no kitchen ticket")
    try:
        if action.kind == ActionKind.ALLERGEN_ACK:
            return AlertKind.ALLERGEN_ACK, kitchen_actions.acknowledge(ticket, action.by)
        if action.kind == ActionKind.FIRE:
            return AlertKind.KITCHEN_FIRE, kitchen_actions.fire_next_course(ticket)
        if action.kind == ActionKind.BUMP:
            return AlertKind.BUMP, kitchen_actions.bump(ticket, action.item_id)
        return AlertKind.RECALL, kitchen_actions.recall(ticket, action.item_id)
    except kitchen_actions.KitchenRefusal as refusal:
        raise ActionRefused(refusal.status, str(refusal)) from None
