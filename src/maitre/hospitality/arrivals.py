"""Match a band's presence to its party's reservation and issue the greet and kitchen alerts."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, or_, select

from maitre.alerts.store import append_alert, find_alert, to_read
from maitre.db import insert_new, session_scope, table_of
from maitre.guests.personalization import TagRules, greet_extras
from maitre.hospitality.party import Party, display_name, earlier_visits, load_party
from maitre.hospitality.tickets import HELD_COURSES, fires_on_arrival, ticket_body
from maitre.models import (
    OPEN_STATUSES,
    Alert,
    AlertKind,
    AlertRead,
    Band,
    Guest,
    GuestArrival,
    PartyMember,
    Preference,
    PreOrderItem,
    Reservation,
    ReservationStatus,
    ScreenRole,
    Venue,
    row_id,
)
from maitre.presence import PresenceEvent

log = logging.getLogger("maitre.hospitality")


# An unhurried walk up to a restaurant door; guests slow down at the end, so the ETA errs early.
WALKING_SPEED_M_S = 1.3


@dataclass(frozen=True)
class ArrivalWindow:
    early: timedelta  # how long before the reservation time a guest may arrive
    late: timedelta  # how long after


@dataclass(frozen=True)
class AlertRules:
    kitchen_on_approach_minutes: int = 25  # items this slow start when the party approaches
    vip_visits: int = 5  # earlier visits that make a guest a VIP
    tags: TagRules = field(default_factory=TagRules)  # the greet card's tags, suggestion and offer


# The matching statements are built once: building one and its cache key costs more than
# SQLite takes to run it.
_CONSENTING_GUEST = (
    select(Guest, Venue)
    .join(Band, col(Band.guest_id) == Guest.id)
    .join(Venue, col(Venue.slug) == bindparam("venue"))  # one row: no condition joins it to the guest
    .where(
        col(Band.advertiser_id) == bindparam("band"),
        or_(col(Guest.consent_greeting), col(Guest.consent_kitchen)),
    )
)
_OPEN_RESERVATION = (
    select(Reservation)
    .where(
        col(Reservation.venue_id) == bindparam("venue_id"),
        or_(
            col(Reservation.guest_id) == bindparam("guest_id"),
            col(Reservation.id).in_(
                select(PartyMember.reservation_id).where(col(PartyMember.guest_id) == bindparam("guest_id"))
            ),
        ),
        col(Reservation.status).in_(OPEN_STATUSES),
        col(Reservation.at) >= bindparam("earliest"),
        col(Reservation.at) <= bindparam("latest"),
    )
    .order_by(col(Reservation.at))
    .limit(1)
)
# The bands of everyone in an open reservation in a time range: those who booked it and its party.
_BOOKED = (
    select(col(Reservation.id), col(Reservation.guest_id))
    .join(Venue, col(Reservation.venue_id) == Venue.id)
    .where(
        col(Venue.slug) == bindparam("venue"),
        col(Reservation.status).in_(OPEN_STATUSES),
        col(Reservation.at) >= bindparam("low"),
        col(Reservation.at) <= bindparam("high"),
    )
    .subquery()
)
_EXPECTED_BANDS = select(Band.advertiser_id).where(
    or_(
        col(Band.guest_id).in_(select(_BOOKED.c.guest_id)),
        col(Band.guest_id).in_(
            select(PartyMember.guest_id).where(col(PartyMember.reservation_id).in_(select(_BOOKED.c.id)))
        ),
    )
)
_RESERVATIONS = table_of(Reservation)
_MARK_ARRIVED = (
    update(_RESERVATIONS)
    .where(_RESERVATIONS.c.id == bindparam("rid"))
    .values(status=bindparam("to"), arrived_at=bindparam("since"))
)
_PRE_ORDER = (
    select(PreOrderItem)
    .where(col(PreOrderItem.reservation_id) == bindparam("reservation_id"))
    .order_by(col(PreOrderItem.id))
)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class Arrivals:
    """Applies presence events to reservations; returns the alerts it issued, already committed."""

    def __init__(self, engine: Engine, window: ArrivalWindow, rules: AlertRules | None = None) -> None:
        self.engine = engine
        self.window = window
        self.rules = rules or AlertRules()

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

    def expected_bands(self, venue: str, earliest: float, latest: float) -> set[str]:
        """The bands of everyone in an open reservation at the venue that an event from `earliest` to
        `latest` could match (own or as a party member): for any other band, handle finds nothing."""
        low, high = _utc(earliest) - self.window.late, _utc(latest) + self.window.early
        # One statement, built once, on a bare connection: called for every burst of approaches,
        # three ORM queries cost more than the bands they let go.
        with self.engine.connect() as conn:
            found = conn.execute(_EXPECTED_BANDS, {"venue": venue, "low": low, "high": high})
            return set(found.scalars())

    def _match(self, session: Session, event: PresenceEvent) -> tuple[Venue, Guest, Reservation] | None:
        """Band → guest (who consented) → the open reservation, here and near now, of a party they are in."""
        found = session.exec(_CONSENTING_GUEST, params={"band": event.band, "venue": event.venue}).first()
        if found is None:
            return None
        guest, venue = found
        at = _utc(event.at)
        # A guest may arrive `early` before the booked time, or `late` after it.
        window = {"earliest": at - self.window.late, "latest": at + self.window.early}
        reservation = session.exec(
            _OPEN_RESERVATION, params={"venue_id": venue.id, "guest_id": guest.id, **window}
        ).first()
        if reservation is None:
            log.info("band %s: guest %s has no open reservation at %s now", event.band, guest.id, venue.slug)
            return None
        return venue, guest, reservation

    def _approaching(
        self, session: Session, event: PresenceEvent, venue: Venue, guest: Guest, reservation: Reservation
    ) -> list[Alert]:
        if reservation.status != ReservationStatus.EXPECTED:
            return []
        rid = row_id(reservation)
        issued: list[Alert | None] = []
        if guest.consent_greeting:
            reservation.status = ReservationStatus.APPROACHING
            session.add(reservation)
            payload: dict[str, object] = {
                "reservation_id": rid,
                "name": display_name(guest, session.get(Preference, guest.id)),
                "party_size": reservation.party_size,
                "distance_m": event.distance_m,
                "eta_s": round(event.distance_m / WALKING_SPEED_M_S, 1),
                "confidence": event.confidence,
                "at": event.at,
            }
            issued.append(
                append_alert(
                    session, venue, ScreenRole.HOST, AlertKind.APPROACHING, rid, payload, f"approaching:{rid}"
                )
            )
        if guest.consent_kitchen:
            items = _items(session, rid)
            slow = [i for i in items if i.prep_minutes >= self.rules.kitchen_on_approach_minutes]
            if slow:
                rest = [i for i in items if i.prep_minutes < self.rules.kitchen_on_approach_minutes]
                ticket = self._ticket(session, reservation, slow, rest, "approach", event.at)
                issued.append(
                    append_alert(
                        session,
                        venue,
                        ScreenRole.KITCHEN,
                        AlertKind.KITCHEN_START,
                        rid,
                        ticket,
                        f"kitchen:{rid}",
                    )
                )
        return [a for a in issued if a is not None]

    def _arrived(
        self, session: Session, event: PresenceEvent, venue: Venue, guest: Guest, reservation: Reservation
    ) -> list[Alert]:
        rid, guest_id = row_id(reservation), row_id(guest)
        party = load_party(session, reservation)
        if any(m.arrived for m in party.members if m.guest.id == guest_id):
            return []  # heard at the door again
        arrival = {"reservation_id": rid, "guest_id": guest_id, "at": _utc(event.at)}
        if not insert_new(session, GuestArrival, arrival, ("reservation_id", "guest_id")):
            return []  # a concurrent writer recorded this arrival first
        party = party.with_arrival(guest_id)  # as recorded just now, without reading it back
        status = ReservationStatus.ARRIVED if party.everyone_arrived else ReservationStatus.PARTIALLY_ARRIVED
        arrived_at = reservation.arrived_at or _utc(event.at)
        # A Core UPDATE, and the ORM told its copy matches: the unit of work's flush cost a millisecond.
        session.connection().execute(_MARK_ARRIVED, {"rid": rid, "to": status, "since": arrived_at})
        set_committed_value(reservation, "status", status)
        set_committed_value(reservation, "arrived_at", arrived_at)
        # Read once: the greet card's suggestion needs the names, the kitchen the tickets.
        items = _items(session, rid)
        issued: list[Alert | None] = []
        # The party is greeted once, when its first member who consented to greeting arrives; every
        # other arrival updates the card and the book instead.
        greet = None
        if guest.consent_greeting:
            greet = append_alert(
                session,
                venue,
                ScreenRole.HOST,
                AlertKind.GREET,
                rid,
                self._greet(session, guest, party, [i.name for i in items], event),
                f"greet:{rid}",
            )
            issued.append(greet)
        if greet is None:
            update: dict[str, object] = {
                "reservation_id": rid,
                "name": display_name(guest, party.prefs_of(guest_id)) if guest.consent_greeting else None,
                "status": reservation.status.value,
                "arrived": party.arrived,
                "members": party.roll(),
                "at": event.at,
            }
            issued.append(
                append_alert(
                    session,
                    venue,
                    ScreenRole.HOST,
                    AlertKind.PARTY_UPDATE,
                    rid,
                    update,
                    f"arrival:{rid}:{guest_id}",
                )
            )
        if items and guest.consent_kitchen:
            started = find_alert(session, venue, f"kitchen:{rid}")
            if started is None:
                # Starters (and dishes of no course) fire now; mains and desserts wait for a cook's tap.
                now = [i for i in items if fires_on_arrival(i)]
                later = [i for i in items if not fires_on_arrival(i)]
                ticket = self._ticket(session, reservation, now, later, "arrival", event.at, party)
                issued.append(
                    append_alert(
                        session,
                        venue,
                        ScreenRole.KITCHEN,
                        AlertKind.KITCHEN_START,
                        rid,
                        ticket,
                        f"kitchen:{rid}",
                    )
                )
            elif started.payload.get("held"):
                # The party is here: what was held for them fires, but for courses a cook fires.
                held = started.payload["held"]
                fire: dict[str, object] = {
                    "reservation_id": rid,
                    "items": [i for i in held if isinstance(i, dict) and i.get("course") not in HELD_COURSES]
                    if isinstance(held, list)
                    else [],
                    "at": event.at,
                }
                issued.append(
                    append_alert(
                        session, venue, ScreenRole.KITCHEN, AlertKind.KITCHEN_FIRE, rid, fire, f"fire:{rid}"
                    )
                )
        return [a for a in issued if a is not None]

    def _greet(
        self, session: Session, guest: Guest, party: Party, ordered: list[str], event: PresenceEvent
    ) -> dict[str, object]:
        reservation = party.reservation
        prefs = party.prefs_of(row_id(guest))
        visits = earlier_visits(session, reservation.guest_id, reservation.at)
        # Tags and the suggestion are about the guest named on the card (who consented to greeting).
        extras = greet_extras(session, guest, prefs, reservation, ordered, event.venue, self.rules.tags)
        return {
            **extras,
            "reservation_id": reservation.id,
            "name": display_name(guest, prefs),
            "pronunciation": prefs.pronunciation if prefs else None,
            "party_size": reservation.party_size,
            "occasion": prefs.occasion if prefs else None,
            "allergies": party.allergies(kitchen=False),
            "dietary": party.dietary(kitchen=False),
            "notes": prefs.notes if prefs else None,
            "reservation_at": reservation.at.isoformat(),
            "status": reservation.status.value,
            "arrived": party.arrived,
            "members": party.roll(),
            "visits": visits,
            "vip": visits >= self.rules.vip_visits or "vip" in extras["tags"],  # type: ignore[operator]
            "confidence": event.confidence,
            "at": event.at,
        }

    def _ticket(
        self,
        session: Session,
        reservation: Reservation,
        fire: list[PreOrderItem],
        hold: list[PreOrderItem],
        started_on: str,
        at: float,
        party: Party | None = None,
    ) -> dict[str, object]:
        party = party or load_party(session, reservation)
        return ticket_body(session, reservation, fire, hold, started_on, at, party)


def _items(session: Session, reservation_id: int) -> list[PreOrderItem]:
    return list(session.exec(_PRE_ORDER, params={"reservation_id": reservation_id}))
