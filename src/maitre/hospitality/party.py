"""A reservation's party: who belongs to it, who of them has arrived, and how often they came before."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, bindparam, union
from sqlmodel import Session, and_, col, func, select

from maitre.models import Guest, GuestArrival, PartyMember, Preference, Reservation, ReservationStatus

# Statuses that mean the guest really came (and so count as a visit).
VISITED = (ReservationStatus.SEATED, ReservationStatus.COMPLETED)


@dataclass(frozen=True, slots=True)
class Member:
    guest: Guest
    prefs: Preference | None
    arrived: bool


class Party:
    """The booker first, then the other members in the order they were added."""

    __slots__ = ("members", "reservation")

    def __init__(self, reservation: Reservation, members: list[Member]) -> None:
        self.reservation = reservation
        self.members = members

    def with_arrival(self, guest_id: int) -> Party:
        """The same party with this member arrived (what load_party would read once it is recorded)."""
        members = [Member(m.guest, m.prefs, m.arrived or m.guest.id == guest_id) for m in self.members]
        return Party(self.reservation, members)

    def prefs_of(self, guest_id: int) -> Preference | None:
        return next((m.prefs for m in self.members if m.guest.id == guest_id), None)

    @property
    def arrived(self) -> int:
        return sum(m.arrived for m in self.members)

    @property
    def everyone_arrived(self) -> bool:
        return all(m.arrived for m in self.members)

    def roll(self) -> list[dict[str, object]]:
        """Who is expected and who is here; a member who did not consent to greeting is never named."""
        return [
            {
                "name": display_name(m.guest, m.prefs) if m.guest.consent_greeting else None,
                "arrived": m.arrived,
            }
            for m in self.members
        ]

    def allergies(self, kitchen: bool) -> list[str]:
        """Allergies of the members who consented to this screen and to sharing them, first seen first."""
        return _union(m.prefs.allergies for m in self._sharing_health(kitchen) if m.prefs)

    def dietary(self, kitchen: bool) -> list[str]:
        return _union(m.prefs.dietary for m in self._sharing_health(kitchen) if m.prefs)

    def _sharing_health(self, kitchen: bool) -> list[Member]:
        # Health data needs its own consent on top of the screen's (GDPR Art. 9).
        return [m for m in self._consenting(kitchen) if m.guest.consent_allergies]

    def _consenting(self, kitchen: bool) -> list[Member]:
        return [m for m in self.members if (m.guest.consent_kitchen if kitchen else m.guest.consent_greeting)]


# Built once, as the arrivals' statements (hospitality/arrivals.py).
_MEMBERS = (
    select(Guest, Preference, PartyMember.id, GuestArrival.id)
    .outerjoin(Preference, col(Preference.guest_id) == Guest.id)
    .outerjoin(
        PartyMember,
        and_(col(PartyMember.guest_id) == Guest.id, col(PartyMember.reservation_id) == bindparam("rid")),
    )
    .outerjoin(
        GuestArrival,
        and_(col(GuestArrival.guest_id) == Guest.id, col(GuestArrival.reservation_id) == bindparam("rid")),
    )
    # IN (booker ∪ members) rather than OR: an OR across the joins scans every guest.
    .where(
        col(Guest.id).in_(
            union(
                select(bindparam("booker", type_=Integer)),
                select(PartyMember.guest_id).where(col(PartyMember.reservation_id) == bindparam("rid")),
            )
        )
    )
)
_VISITS = (
    select(func.count())
    .select_from(Reservation)
    .where(
        col(Reservation.guest_id) == bindparam("guest_id"),
        col(Reservation.status).in_(VISITED),
        col(Reservation.at) < bindparam("before"),
    )
)


def load_party(session: Session, reservation: Reservation) -> Party:
    """The party in one query: each member with their preferences and whether they have arrived."""
    booker = reservation.guest_id
    rows = session.exec(_MEMBERS, params={"rid": reservation.id, "booker": booker}).all()
    # The booker first, then the others in the order they were added.
    ordered = sorted(rows, key=lambda row: (row[0].id != booker, row[2] or 0))
    return Party(
        reservation, [Member(guest, prefs, arrived is not None) for guest, prefs, _, arrived in ordered]
    )


def earlier_visits(session: Session, guest_id: int, before: datetime) -> int:
    """Reservations of this guest, at any venue, before `before`, that were seated or completed."""
    return session.exec(_VISITS, params={"guest_id": guest_id, "before": before}).one()


def display_name(guest: Guest, prefs: Preference | None) -> str:
    return (prefs.preferred_name if prefs and prefs.preferred_name else None) or guest.first_name


def booking_name(guest: Guest) -> str:
    """The name the table is booked under, as the host stand's book shows it ("Guest" once erased)."""
    if guest.erased_at is not None:
        return "Guest"
    return f"{guest.first_name} {guest.last_name[:1]}."


def _union(lists: Iterable[list[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for items in lists:
        for item in items:
            seen.setdefault(item, None)
    return list(seen)
