"""What we know of a guest from their own visits: history, favourite dishes, tags and a suggestion."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, or_, select

from maitre.guests.offers import OfferRules
from maitre.hospitality.party import VISITED
from maitre.models import Guest, PartyMember, Preference, PreOrderItem, Reservation, Venue, row_id

# A dish ordered on this many earlier visits is "the usual".
USUAL_AFTER_VISITS = 2


@dataclass(frozen=True)
class TagRules:
    regular_visits: int = 2
    vip_visits: int = 5
    vip_spend_cents: int = 100_000  # 0: spend never makes a VIP
    offers: OfferRules = field(default_factory=OfferRules)


@dataclass(frozen=True)
class Visit:
    reservation_id: int
    venue: str
    venue_name: str
    at: datetime
    party_size: int
    items: list[str]
    spend_cents: int


@dataclass
class Profile:
    visits: list[Visit]
    favourites: list[str]  # most ordered first
    usual: str | None
    spend_cents: int
    tags: list[str]


# Built once (see hospitality/arrivals.py); the greet card reads a guest's history before tonight.
_HISTORY = (
    select(Reservation, Venue)
    .join(Venue, col(Reservation.venue_id) == Venue.id)
    .where(
        or_(
            col(Reservation.guest_id) == bindparam("guest_id"),
            col(Reservation.id).in_(
                select(PartyMember.reservation_id).where(col(PartyMember.guest_id) == bindparam("guest_id"))
            ),
        ),
        col(Reservation.status).in_(VISITED),
    )
    .order_by(col(Reservation.at).desc())
)
_HISTORY_BEFORE = _HISTORY.where(col(Reservation.at) < bindparam("before"))


def visit_history(session: Session, guest_id: int, before: datetime | None = None) -> list[Visit]:
    """The guest's visits, any venue, booked or as a party member, newest first."""
    query, params = (_HISTORY, {}) if before is None else (_HISTORY_BEFORE, {"before": before})
    found = session.exec(query, params={"guest_id": guest_id, **params}).all()
    items: dict[int, list[PreOrderItem]] = {}
    if found:  # every visit's items in one query
        ids = [row_id(reservation) for reservation, _ in found]
        for item in session.exec(
            select(PreOrderItem)
            .where(col(PreOrderItem.reservation_id).in_(ids))
            .order_by(col(PreOrderItem.id))
        ):
            items.setdefault(item.reservation_id, []).append(item)
    visits = []
    for reservation, venue in found:
        ordered = items.get(row_id(reservation), [])
        visits.append(
            Visit(
                row_id(reservation),
                venue.slug,
                venue.name,
                reservation.at,
                reservation.party_size,
                [i.name for i in ordered],
                sum(i.price_cents * i.quantity for i in ordered),
            )
        )
    return visits


def profile(
    session: Session,
    guest: Guest,
    rules: TagRules,
    before: datetime | None = None,
    occasion: str | None = None,
) -> Profile:
    """History and what follows from it; `occasion`: what the guest, here today, is celebrating."""
    visits = visit_history(session, row_id(guest), before)
    counts: Counter[str] = Counter()
    for v in visits:
        counts.update(set(v.items))  # a dish counts once per visit
    favourites = [name for name, _ in counts.most_common(5)]
    usual = favourites[0] if favourites and counts[favourites[0]] >= USUAL_AFTER_VISITS else None
    spend = sum(v.spend_cents for v in visits)
    tags = []
    if not visits:
        tags.append("first_visit")
    if len(visits) >= rules.regular_visits:
        tags.append("regular")
    if len(visits) >= rules.vip_visits or (rules.vip_spend_cents and spend >= rules.vip_spend_cents):
        tags.append("vip")
    if occasion:
        tags.append("celebrating")
    return Profile(visits, favourites, usual, spend, tags)


def suggestion(p: Profile, ordered: list[str]) -> str | None:
    """A line for the host: what to say beyond the name."""
    if p.usual and p.usual not in ordered:
        return f"Welcome back — your usual {p.usual}?"
    if p.visits:
        return f"Welcome back — last here {p.visits[0].at:%d %b}"
    return "First visit — welcome them in"


def greet_extras(
    session: Session,
    guest: Guest,
    prefs: Preference | None,
    reservation: Reservation,
    ordered: list[str],
    venue: str,
    rules: TagRules,
) -> dict[str, object]:
    """Tags, a suggestion, and (with marketing consent only) an offer, for the greet card.

    `ordered`: the names of the party's pre-ordered dishes, which the caller has read already.
    """
    occasion = prefs.occasion if prefs else None
    p = profile(session, guest, rules, before=reservation.at, occasion=occasion)
    offer = rules.offers.offer_for(venue, p.tags) if guest.consent_marketing else None
    return {
        "tags": p.tags,
        "favourites": p.favourites[:3],
        "suggestion": suggestion(p, ordered),
        "offer": offer.text if offer else None,
    }
