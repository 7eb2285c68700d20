"""Match a band's presence to its guest's reservation and issue the greet and kitchen alerts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from maitre.alerts.store import append_alert, to_read
from maitre.db import session_scope
from maitre.models import (
    OPEN_STATUSES,
    Alert,
    AlertKind,
    AlertRead,
    Band,
    Guest,
    Preference,
    PreOrderItem,
    Reservation,
    ReservationStatus,
    ScreenRole,
    Venue,
)
from maitre.presence import PresenceEvent

log = logging.getLogger("maitre.hospitality")


@dataclass(frozen=True)
class ArrivalWindow:
    early: timedelta  # how long before the reservation time a guest may arrive
    late: timedelta  # how long after


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class Arrivals:
    """Applies presence events to reservations; returns the alerts it issued, already committed."""

    def __init__(self, engine: Engine, window: ArrivalWindow) -> None:
        self.engine = engine
        self.window = window

    def handle(self, event: PresenceEvent) -> list[AlertRead]:
        if event.kind == "left":
            return []  # a first version: leaving changes no reservation
        with session_scope(self.engine) as session:
            found = self._match(session, event)
            if found is None:
                return []
            venue, guest, reservation = found
            alerts = (
                self._approaching(session, event, venue, guest, reservation)
                if event.kind == "approaching"
                else self._arrived(session, event, venue, guest, reservation)
            )
            reads = [to_read(a, venue.slug) for a in alerts]
        return reads

    def _match(self, session: Session, event: PresenceEvent) -> tuple[Venue, Guest, Reservation] | None:
        """Band → guest (who consented) → that guest's open reservation here, near this time."""
        band = session.exec(select(Band).where(Band.advertiser_id == event.band)).first()
        if band is None or band.guest_id is None:
            return None
        guest = session.get(Guest, band.guest_id)
        if guest is None or not (guest.consent_greeting or guest.consent_kitchen):
            return None
        venue = session.exec(select(Venue).where(Venue.slug == event.venue)).first()
        if venue is None:
            return None
        at = _utc(event.at)
        # A guest may arrive `early` before the booked time, or `late` after it.
        reservation = session.exec(
            select(Reservation)
            .where(
                Reservation.venue_id == venue.id,
                Reservation.guest_id == guest.id,
                col(Reservation.status).in_(OPEN_STATUSES),
                col(Reservation.at) >= at - self.window.late,
                col(Reservation.at) <= at + self.window.early,
            )
            .order_by(col(Reservation.at))
        ).first()
        if reservation is None:
            log.info("band %s: guest %s has no open reservation at %s now", event.band, guest.id, venue.slug)
            return None
        return venue, guest, reservation

    def _approaching(
        self, session: Session, event: PresenceEvent, venue: Venue, guest: Guest, reservation: Reservation
    ) -> list[Alert]:
        if reservation.status != ReservationStatus.EXPECTED or not guest.consent_greeting:
            return []
        reservation.status = ReservationStatus.APPROACHING
        session.add(reservation)
        prefs = session.get(Preference, guest.id)
        payload: dict[str, object] = {
            "reservation_id": reservation.id,
            "name": _display_name(guest, prefs),
            "party_size": reservation.party_size,
            "distance_m": event.distance_m,
            "confidence": event.confidence,
            "at": event.at,
        }
        alert = append_alert(session, venue, ScreenRole.HOST, AlertKind.APPROACHING, reservation.id, payload)
        return [alert] if alert else []

    def _arrived(
        self, session: Session, event: PresenceEvent, venue: Venue, guest: Guest, reservation: Reservation
    ) -> list[Alert]:
        reservation.status = ReservationStatus.ARRIVED
        reservation.arrived_at = _utc(event.at)
        session.add(reservation)
        prefs = session.get(Preference, guest.id)
        issued: list[Alert] = []
        if guest.consent_greeting:
            greet: dict[str, object] = {
                "reservation_id": reservation.id,
                "name": _display_name(guest, prefs),
                "pronunciation": prefs.pronunciation if prefs else None,
                "party_size": reservation.party_size,
                "occasion": prefs.occasion if prefs else None,
                "allergies": list(prefs.allergies) if prefs else [],
                "dietary": list(prefs.dietary) if prefs else [],
                "notes": prefs.notes if prefs else None,
                "reservation_at": reservation.at.isoformat(),
                "confidence": event.confidence,
                "at": event.at,
            }
            alert = append_alert(session, venue, ScreenRole.HOST, AlertKind.GREET, reservation.id, greet)
            if alert:
                issued.append(alert)
        items = session.exec(select(PreOrderItem).where(PreOrderItem.reservation_id == reservation.id)).all()
        if guest.consent_kitchen and items:
            ticket: dict[str, object] = {
                "reservation_id": reservation.id,
                "party": f"{guest.first_name} {guest.last_name[:1]}.",
                "party_size": reservation.party_size,
                "items": [
                    {
                        "name": i.name,
                        "quantity": i.quantity,
                        "prep_minutes": i.prep_minutes,
                        "modifiers": i.modifiers,
                    }
                    for i in items
                ],
                "allergies": list(prefs.allergies) if prefs else [],
                "dietary": list(prefs.dietary) if prefs else [],
                "at": event.at,
            }
            alert = append_alert(
                session, venue, ScreenRole.KITCHEN, AlertKind.KITCHEN_START, reservation.id, ticket
            )
            if alert:
                issued.append(alert)
        return issued


def _display_name(guest: Guest, prefs: Preference | None) -> str:
    return (prefs.preferred_name if prefs and prefs.preferred_name else None) or guest.first_name
