"""What the host may change about a booking at the stand, and how an undo takes it back.

Each change returns the payload of one `booking` event: what changed, and the status and party
size before and after, so every host screen (and an undo) applies it without asking again.
"""

from __future__ import annotations

from maitre.models import OPEN_STATUSES, Reservation, ReservationStatus, utcnow

HERE = (ReservationStatus.PARTIALLY_ARRIVED, ReservationStatus.ARRIVED)
# What each change turns the booking into, and the statuses it may start from.
TO_STATUS = {
    "arrive": (ReservationStatus.ARRIVED, (*OPEN_STATUSES, ReservationStatus.PARTIALLY_ARRIVED)),
    "no_show": (ReservationStatus.NO_SHOW, OPEN_STATUSES),
    "cancel": (ReservationStatus.CANCELLED, (*OPEN_STATUSES, *HERE)),
}
# Said to the host when a change does not fit, by the booking's status.
WHY_NOT = {
    ReservationStatus.SEATED: "the party is already seated",
    ReservationStatus.COMPLETED: "the visit is over",
    ReservationStatus.CANCELLED: "the booking is cancelled (undo that first)",
    ReservationStatus.NO_SHOW: "the party is marked as a no-show (undo that first)",
    ReservationStatus.ARRIVED: "the party is already here",
    ReservationStatus.PARTIALLY_ARRIVED: "part of the party is already here",
}


class BookingRefused(Exception):
    """The change does not fit the booking's state; the message says why, for the host."""


def change_booking(reservation: Reservation, change: str, party_size: int | None = None) -> dict[str, object]:
    """Apply the change to the reservation (the caller adds it to the session); the event's payload."""
    before_status, before_size = reservation.status, reservation.party_size
    if change in TO_STATUS:
        to, allowed = TO_STATUS[change]
        if reservation.status not in allowed:
            raise BookingRefused(f"cannot mark {_what(change)}: {WHY_NOT.get(reservation.status, 'not now')}")
        reservation.status = to
        if to == ReservationStatus.ARRIVED and reservation.arrived_at is None:
            reservation.arrived_at = utcnow()
    elif change == "ready":
        if reservation.status not in HERE:
            raise BookingRefused("only a party waiting here can be told their table is ready")
    elif change == "late":
        if reservation.status not in OPEN_STATUSES:
            raise BookingRefused(f"cannot mark as late: {WHY_NOT.get(reservation.status, 'not now')}")
    elif change == "party_size":
        if reservation.status in (ReservationStatus.COMPLETED, ReservationStatus.CANCELLED):
            raise BookingRefused(f"cannot change the party size: {WHY_NOT[reservation.status]}")
        if party_size is None or party_size == reservation.party_size:
            raise BookingRefused("the party size is already that")
        reservation.party_size = party_size
    else:
        raise BookingRefused(f"no such change {change!r}")
    return {
        "reservation_id": reservation.id,
        "change": change,
        "status": reservation.status.value,
        "previous_status": before_status.value,
        "party_size": reservation.party_size,
        "previous_party_size": before_size,
        "at": utcnow().isoformat(),
    }


def undo_booking(reservation: Reservation, payload: dict[str, object]) -> None:
    """Take a change back: the status and party size it found."""
    reservation.status = ReservationStatus(str(payload["previous_status"]))
    previous = payload.get("previous_party_size")
    if isinstance(previous, int):
        reservation.party_size = previous
    if payload.get("change") == "arrive" and reservation.status in OPEN_STATUSES:
        reservation.arrived_at = None


def _what(change: str) -> str:
    return {"arrive": "as arrived", "no_show": "as a no-show", "cancel": "as cancelled"}[change]
