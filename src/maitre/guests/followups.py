"""Post-visit follow-ups for the venue's marketing tools: a CSV of guests who consented to marketing."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import NamedTuple

from sqlmodel import Session, col, select

from maitre.guests.personalization import TagRules, profile
from maitre.hospitality.party import VISITED
from maitre.models import Guest, Preference, Reservation, Venue

COLUMNS = ("first_name", "last_name", "email", "visit_at", "visits", "favourite", "tags", "occasion", "offer")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Followups(NamedTuple):
    csv: str
    guest_ids: list[int]  # whose data the file holds, for the staff-read log


def followups_csv(
    session: Session, venue: Venue, start: datetime, end: datetime, rules: TagRules
) -> Followups:
    """One row per guest who visited in [start, end) and consented to marketing; nobody else."""
    rows = session.exec(
        select(Reservation, Guest)
        .join(Guest, col(Reservation.guest_id) == Guest.id)
        .where(
            Reservation.venue_id == venue.id,
            col(Reservation.status).in_(VISITED),
            col(Reservation.at) >= start,
            col(Reservation.at) < end,
            col(Guest.consent_marketing),
            col(Guest.erased_at).is_(None),
        )
        .order_by(col(Reservation.at))
    ).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    latest: dict[int, tuple[Reservation, Guest]] = {}
    for reservation, guest in rows:
        latest[int(guest.id or 0)] = (reservation, guest)  # one row per guest: their latest visit
    for reservation, guest in latest.values():
        prefs = session.get(Preference, guest.id)
        # The visit being followed up was the occasion.
        p = profile(session, guest, rules, occasion=prefs.occasion if prefs else None)
        offer = rules.offers.offer_for(venue.slug, p.tags)
        writer.writerow(
            [
                _cell(v)
                for v in (
                    guest.first_name,
                    guest.last_name,
                    guest.email or "",
                    reservation.at.isoformat(),
                    str(len(p.visits)),
                    p.favourites[0] if p.favourites else "",
                    " ".join(p.tags),
                    prefs.occasion if prefs and prefs.occasion else "",
                    (offer.followup or offer.text) if offer else "",
                )
            ]
        )
    return Followups(out.getvalue(), list(latest))


def _cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value
