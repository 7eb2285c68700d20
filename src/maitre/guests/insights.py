"""A venue's figures: how often guests are greeted by name, how fast they sit, what the kitchen gains."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, or_, select

from maitre.hospitality.party import earlier_visits
from maitre.models import Alert, AlertKind, Reservation, ReservationStatus, ScreenRole, Venue, row_id

CAME = (
    ReservationStatus.PARTIALLY_ARRIVED,
    ReservationStatus.ARRIVED,
    ReservationStatus.SEATED,
    ReservationStatus.COMPLETED,
)


@dataclass
class Spread:
    n: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        if not values:
            return cls(0, None, None)
        ordered = sorted(values)
        p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
        return cls(len(values), round(statistics.median(ordered), 1), round(p90, 1))


@dataclass
class VenueFigures:
    venue: str
    start: datetime
    end: datetime
    reservations: int  # booked in the period, not cancelled
    arrived: int  # of those, parties whose arrival we saw (or who were seated)
    greeted_by_name: int
    greeted_share: float | None
    arrival_to_seat_s: Spread  # from the first band at the door to the host's "seat"
    kitchen_lead_s: Spread  # how much earlier the kitchen started than it would have at seating
    kitchen_started_on_arrival: int
    repeat_guests: int
    repeat_rate: float | None  # of the parties that came, the share whose booker had come before

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # SQLite drops the offset


def venue_figures(session: Session, venue: Venue, start: datetime, end: datetime) -> VenueFigures:
    reservations = list(
        session.exec(
            select(Reservation).where(
                Reservation.venue_id == venue.id,
                col(Reservation.at) >= start,
                col(Reservation.at) < end,
                Reservation.status != ReservationStatus.CANCELLED,
            )
        )
    )
    ids = [row_id(r) for r in reservations]
    firsts: dict[tuple[int, AlertKind], datetime] = {}
    lasts: dict[tuple[int, AlertKind], datetime] = {}
    kinds = (AlertKind.GREET, AlertKind.SEAT, AlertKind.KITCHEN_START)
    for alert in session.exec(
        select(Alert)
        .where(
            col(Alert.reservation_id).in_(ids),
            col(Alert.kind).in_(kinds),
            # The host's seat, not the copy that puts the table on the kitchen's ticket.
            or_(col(Alert.role) == ScreenRole.HOST, col(Alert.kind) == AlertKind.KITCHEN_START),
        )
        .order_by(col(Alert.seq))
    ):
        key = (int(alert.reservation_id or 0), alert.kind)
        firsts.setdefault(key, _aware(alert.created_at))
        lasts[key] = _aware(alert.created_at)
    came = [r for r in reservations if r.status in CAME or r.arrived_at is not None]
    greeted = sum((row_id(r), AlertKind.GREET) in firsts for r in came)
    to_seat, lead = [], []
    for r in came:
        rid = row_id(r)
        seated = (
            lasts.get((rid, AlertKind.SEAT))
            if r.status in (ReservationStatus.SEATED, ReservationStatus.COMPLETED)
            else None
        )
        if seated is not None and r.arrived_at is not None:
            to_seat.append((seated - _aware(r.arrived_at)).total_seconds())
        started = firsts.get((rid, AlertKind.KITCHEN_START))
        if seated is not None and started is not None:
            lead.append((seated - started).total_seconds())
    repeat = sum(earlier_visits(session, r.guest_id, r.at) > 0 for r in came)
    return VenueFigures(
        venue=venue.slug,
        start=start,
        end=end,
        reservations=len(reservations),
        arrived=len(came),
        greeted_by_name=greeted,
        greeted_share=round(greeted / len(came), 3) if came else None,
        arrival_to_seat_s=Spread.of(to_seat),
        kitchen_lead_s=Spread.of(lead),
        kitchen_started_on_arrival=sum((row_id(r), AlertKind.KITCHEN_START) in firsts for r in came),
        repeat_guests=repeat,
        repeat_rate=round(repeat / len(came), 3) if came else None,
    )
