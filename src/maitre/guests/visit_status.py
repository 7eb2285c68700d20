"""What the guest's page says their visit will be like: one sentence, from what the service holds now."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from maitre.alerts.boards import fold_host
from maitre.alerts.store import to_read
from maitre.guests import consent
from maitre.hospitality.party import display_name
from maitre.models import (
    Alert,
    AlertKind,
    Band,
    ConsentPurpose,
    Guest,
    Preference,
    PreOrderItem,
    Reservation,
    ReservationStatus,
    ScreenRole,
    row_id,
)


def visit_status(session: Session, reservation: Reservation, guest: Guest) -> str:
    """The status line for this guest's page, from what the service holds now."""
    gid = row_id(guest)
    prefs = session.get(Preference, gid) or Preference(guest_id=gid)
    banded = session.exec(select(Band.id).where(Band.guest_id == gid)).first() is not None
    ordered = (
        session.exec(select(PreOrderItem.id).where(PreOrderItem.reservation_id == reservation.id)).first()
        is not None
    )
    # "You chose not to be recognised" only for a guest who did choose: not for a switch left as it came.
    chose = any(
        e.purpose == ConsentPurpose.GREETING and e.source == "guest" for e in consent.history(session, gid)
    )
    return status_line(reservation, guest, prefs, banded, ordered, waitlist(session, reservation), chose)


def waitlist(session: Session, reservation: Reservation) -> dict[str, Any] | None:
    """The walk-in's place on the waitlist (quoted wait, whether the table is ready); None if not on it."""
    rid = row_id(reservation)
    events = session.exec(
        select(Alert)
        .where(
            Alert.reservation_id == rid,
            Alert.role == ScreenRole.HOST,
            col(Alert.kind).in_((AlertKind.BOOKING, AlertKind.UNDO)),
        )
        .order_by(col(Alert.seq))
    )
    return fold_host(to_read(a, "") for a in events).waiting.get(rid)


def status_line(
    reservation: Reservation,
    guest: Guest,
    prefs: Preference,
    banded: bool,
    ordered: bool,
    waiting: dict[str, Any] | None = None,
    chose_no_greeting: bool = True,
) -> str:
    """One sentence for the guest: what the venue will do when they come."""
    status = reservation.status
    if waiting is not None and status in (ReservationStatus.ARRIVED, ReservationStatus.PARTIALLY_ARRIVED):
        if waiting["ready"]:
            return "Your table is ready! Please come to the host stand."
        quoted = waiting["quoted_minutes"]
        about = f" The wait is about {quoted} minutes." if quoted else ""
        return f"You're on the waitlist.{about} This page tells you when your table is ready."
    if status == ReservationStatus.CANCELLED:
        return "This reservation is cancelled."
    if status in (ReservationStatus.COMPLETED, ReservationStatus.NO_SHOW):
        return "This visit is over. Thank you!"
    if status == ReservationStatus.SEATED:
        return f"You're seated at table {reservation.table_label}. Enjoy!"
    if status in (ReservationStatus.ARRIVED, ReservationStatus.PARTIALLY_ARRIVED):
        return "You're here — the host knows you've arrived."
    if banded and guest.consent_greeting:
        line = (
            f"The host is expecting you, and will greet you as {display_name(guest, prefs)} when you arrive."
        )
    elif banded and chose_no_greeting:
        line = (
            "The host is expecting you. You chose not to be recognised by your band, so it stays anonymous."
        )
    elif banded:
        line = "The host is expecting you. Turn on “Greet me by name” below to be greeted when you arrive."
    else:
        line = "The host is expecting you. Link your band to be greeted by name."
    if ordered:
        line += (
            " The kitchen starts your order as you arrive."
            if banded and guest.consent_kitchen
            else " Your order is started once you're seated."
        )
    return line
