"""Erasure and retention: what is left of a guest who asked to be forgotten, and of old location data.

Raw sightings are never stored (ingest keeps them in memory only, per band, until it is no longer
heard); what is stored that came from location is purged by `purge_location` (docs/explain/privacy.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from maitre.alerts.store import append_alert
from maitre.db import session_scope
from maitre.guests.consent import FIELDS
from maitre.hospitality.party import booking_name, display_name, load_party
from maitre.models import (
    OPEN_STATUSES,
    Alert,
    AlertKind,
    Band,
    ConsentEvent,
    Guest,
    GuestArrival,
    PartyMember,
    Preference,
    Reservation,
    ReservationStatus,
    ScreenRole,
    Venue,
    row_id,
    utcnow,
)

log = logging.getLogger("maitre.privacy")

ERASED_FIRST, ERASED_LAST = "Erased", "Guest"
REDACTED = "Guest"  # what a card shows where an erased guest's name was
_PERSONAL_TEXT = ("pronunciation", "occasion", "notes", "suggestion", "offer")
_PERSONAL_LISTS = ("allergies", "dietary", "tags", "favourites", "allergen_warnings")
_LOCATION = ("distance_m", "eta_s", "confidence")


class Erased:
    """What an erasure touched: the bands to stop following, and the screen events to publish."""

    __slots__ = ("alerts", "bands")

    def __init__(self) -> None:
        self.bands: list[str] = []
        self.alerts: list[tuple[str, Alert]] = []  # (venue slug, new `erased` event)


def erase_guest(session: Session, guest: Guest) -> Erased:
    """Forget the guest: details, bands, arrivals, party places, alert contents; cancel open bookings.

    The Guest row stays as an anonymous tombstone so the venue's book keeps its counts (a party of
    two at eight) without saying who; ConsentEvent rows stay as the record of what was granted.
    """
    done = Erased()
    gid = row_id(guest)
    if guest.erased_at is not None:
        return done
    prefs = session.get(Preference, gid)
    names = {guest.first_name, display_name(guest, prefs), f"{guest.first_name} {guest.last_name[:1]}."}
    for purpose, field in FIELDS.items():
        if getattr(guest, field):
            session.add(ConsentEvent(guest_id=gid, purpose=purpose, granted=False, source="erasure"))
            setattr(guest, field, False)
    if prefs is not None:
        session.delete(prefs)
    for band in session.exec(select(Band).where(Band.guest_id == gid)):
        done.bands.append(band.advertiser_id)
        band.guest_id = None
        session.add(band)
    booked = list(session.exec(select(Reservation).where(Reservation.guest_id == gid)))
    cancelled: set[int] = set()
    for reservation in booked:
        # A party not yet here is cancelled; one already in the house stays (it is eating).
        if reservation.status in OPEN_STATUSES:
            reservation.status = ReservationStatus.CANCELLED
            session.add(reservation)
            cancelled.add(row_id(reservation))
    joined = list(session.exec(select(PartyMember.reservation_id).where(PartyMember.guest_id == gid)))
    session.execute(delete(GuestArrival).where(col(GuestArrival.guest_id) == gid))
    session.execute(delete(PartyMember).where(col(PartyMember.guest_id) == gid))
    guest.first_name, guest.last_name, guest.email = ERASED_FIRST, ERASED_LAST, None
    guest.erased_at = utcnow()
    session.add(guest)
    session.flush()
    touched: dict[int, Reservation] = {}
    for reservation in booked:
        if _scrub_alerts(session, row_id(reservation), _scrub_all):
            touched[row_id(reservation)] = reservation
    for rid in joined:
        if _scrub_alerts(session, rid, lambda p: _scrub_names(p, names)):
            reservation_row = session.get(Reservation, rid)
            if reservation_row is not None:
                touched[rid] = reservation_row
    for rid, reservation in touched.items():
        venue = session.get(Venue, reservation.venue_id)
        assert venue is not None
        party = load_party(session, reservation)
        booker = party.members[0].guest if party.members else None
        # What changed, so that open screens and a screen opened later show the same book row.
        changed: dict[str, object] = {
            "reservation_id": rid,
            "cancelled": rid in cancelled,
            "status": reservation.status.value,
            "name": booking_name(booker) if booker else REDACTED,
            "arrived": party.arrived,
            "members": party.roll(),
        }
        for role in (ScreenRole.HOST, ScreenRole.KITCHEN):
            payload = dict(changed)
            alert = append_alert(session, venue, role, AlertKind.ERASED, rid, payload)
            if alert is not None:
                done.alerts.append((venue.slug, alert))
    return done


def purge_location(session: Session, before: datetime) -> dict[str, int]:
    """Delete or blank what location told us before `before`: per-guest arrival times, approach distances.

    The reservation's own arrival time (when the party came in, as a host would note it) stays.
    """
    arrivals = session.execute(delete(GuestArrival).where(col(GuestArrival.at) < before))
    scrubbed = 0
    old = session.exec(
        select(Alert).where(Alert.kind == AlertKind.APPROACHING, col(Alert.created_at) < before)
    )
    for alert in old:
        if any(alert.payload.get(k) is not None for k in _LOCATION):
            alert.payload = {**alert.payload, **dict.fromkeys(_LOCATION)}
            session.add(alert)
            scrubbed += 1
    return {"guest_arrivals": int(getattr(arrivals, "rowcount", 0) or 0), "approach_alerts": scrubbed}


Scrub = Callable[[dict[str, object]], dict[str, object]]


def _scrub_alerts(session: Session, reservation_id: int, scrub: Scrub) -> bool:
    rows = list(session.exec(select(Alert).where(Alert.reservation_id == reservation_id)))
    for alert in rows:
        alert.payload = scrub(alert.payload)
        session.add(alert)
    return bool(rows)


def _scrub_all(payload: dict[str, object]) -> dict[str, object]:
    """The party's cards keep their shape (and their seq) but nothing about who the guest is."""
    p = dict(payload)
    for key in ("name", "party"):
        if p.get(key) is not None:
            p[key] = REDACTED
    for key in (*_PERSONAL_TEXT, *_LOCATION):
        if key in p:
            p[key] = None
    for key in _PERSONAL_LISTS:
        if key in p:
            p[key] = []
    members = p.get("members")
    if isinstance(members, list):
        p["members"] = [{**m, "name": None} if isinstance(m, dict) else m for m in members]
    return p


def _scrub_names(payload: dict[str, object], names: set[str]) -> dict[str, object]:
    """Another party's cards: only the erased member's name goes."""
    p = dict(payload)
    if p.get("name") in names:
        p["name"] = REDACTED
    members = p.get("members")
    if isinstance(members, list):
        p["members"] = [
            {**m, "name": None} if isinstance(m, dict) and m.get("name") in names else m for m in members
        ]
    return p


# Location records are purged this often; with a 24 h retention, nothing outlives it by more than this.
PURGE_EVERY_SECONDS = 300.0


def purge_expired(engine: Engine, retention_hours: float) -> dict[str, int]:
    with session_scope(engine) as session:
        return purge_location(session, utcnow() - timedelta(hours=retention_hours))


async def purge_periodically(
    engine: Engine, retention_hours: float, every: float = PURGE_EVERY_SECONDS
) -> None:
    """Run `purge_expired` now and then every `every` seconds, until cancelled."""
    while True:
        try:
            done = await asyncio.to_thread(purge_expired, engine, retention_hours)
            if any(done.values()):
                log.info("retention purge: %s", done)
        except OperationalError as exc:
            log.warning("retention purge skipped, database unavailable: %s", exc)
        await asyncio.sleep(every)
