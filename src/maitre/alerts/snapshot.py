"""What a screen gets when it connects: today's state as of one sequence number, or the events it missed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, select

from maitre.alerts.boards import fold_host, fold_kitchen
from maitre.alerts.store import alerts_since, to_read
from maitre.hospitality.party import booking_name, earlier_visits, load_party
from maitre.models import Alert, Reservation, ReservationStatus, ScreenRole, Venue, row_id

log = logging.getLogger("maitre.alerts")

# A service that runs past midnight belongs to the evening it started in.
SERVICE_DAY_STARTS = time(4, 0)
# A screen further behind than this gets a fresh snapshot: cheaper than replaying the evening.
RESUME_LIMIT = 2000

Frame = dict[str, object]


def opening_frames(
    session: Session,
    slug: str,
    role: ScreenRole,
    since: int,
    config: Frame,
    vip_visits: int,
    now: datetime | None = None,
) -> tuple[int, list[Frame]] | None:
    """(venue seq, frames) for a screen connecting after `since`; None if there is no such venue.

    `since` 0 (a new screen), ahead of the venue (its log was reset) or too far behind gets a
    snapshot; otherwise a `resume` frame and then exactly the events after `since`.
    """
    venue = session.exec(select(Venue).where(Venue.slug == slug)).first()
    if venue is None:
        return None
    now = now or datetime.now(UTC)
    seq = venue.alert_seq  # every event up to here is committed: it was numbered in its transaction
    head: Frame = {
        "venue": slug,
        "venue_name": venue.name,
        "role": role.value,
        "seq": seq,
        "now": now.isoformat(),
        "config": {**config, "timezone": venue.timezone},
    }
    if 0 < since <= seq and seq - since <= RESUME_LIMIT:
        missed = [a for a in alerts_since(session, venue, role, since, limit=RESUME_LIMIT) if a.seq <= seq]
        return seq, [
            {"type": "resume", "since": since, **head},
            *({"type": "alert", **to_read(a, slug).model_dump(mode="json")} for a in missed),
        ]
    return seq, [{"type": "snapshot", **head, **_state(session, venue, role, seq, now, vip_visits)}]


def service_day(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The venue's service day around `now`, in UTC: from SERVICE_DAY_STARTS local to the next."""
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r; using UTC", timezone)
        tz = ZoneInfo("UTC")
    local = now.astimezone(tz)
    day = (local - timedelta(hours=SERVICE_DAY_STARTS.hour, minutes=SERVICE_DAY_STARTS.minute)).date()
    start = datetime.combine(day, SERVICE_DAY_STARTS, tz)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def _state(
    session: Session, venue: Venue, role: ScreenRole, seq: int, now: datetime, vip_visits: int
) -> Frame:
    start, end = service_day(now, venue.timezone)
    todays = (col(Reservation.at) >= start, col(Reservation.at) < end)
    events = [
        to_read(a, venue.slug)
        for a in session.exec(
            select(Alert)
            .join(Reservation, col(Alert.reservation_id) == Reservation.id)
            .where(Alert.venue_id == venue.id, Alert.role == role, Alert.seq <= seq, *todays)
            .order_by(col(Alert.seq))
        )
    ]
    if role == ScreenRole.KITCHEN:
        return {"tickets": fold_kitchen(events).ordered()}
    reservations = list(
        session.exec(
            select(Reservation)
            .where(Reservation.venue_id == venue.id, *todays)
            .order_by(col(Reservation.at), col(Reservation.id))
        )
    )
    board = fold_host(events)
    approaching = {r.id for r in reservations if r.status == ReservationStatus.APPROACHING}
    return {
        "reservations": [
            {
                **book_row(session, r, vip_visits),
                "late": r.id in board.late,
                "late_seq": board.late.get(row_id(r)),  # an undo of that mark clears it
                "waiting": board.waiting.get(row_id(r)),
            }
            for r in reservations
        ],
        "approaching": sorted(
            (c for rid, c in board.approaching.items() if rid in approaching), key=lambda c: c["seq"]
        ),
        "greets": board.open_greets(),
    }


def book_row(session: Session, reservation: Reservation, vip_visits: int) -> Frame:
    """A line of the host stand's book."""
    party = load_party(session, reservation)
    booker = party.members[0].guest if party.members else None
    visits = earlier_visits(session, reservation.guest_id, reservation.at)
    return {
        "id": reservation.id,
        "name": booking_name(booker) if booker else f"#{reservation.id}",
        "party_size": reservation.party_size,
        "at": reservation.at.isoformat(),
        "status": reservation.status.value,
        "table": reservation.table_label,
        "arrived": party.arrived,
        "members": party.roll(),
        "visits": visits,
        "vip": visits >= vip_visits,
    }
