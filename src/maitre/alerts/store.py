"""Writing and reading the screen event log. Writes are transactional and idempotent per dedupe key."""

from __future__ import annotations

from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, col, select

from maitre.db import insert_new, table_of
from maitre.models import Alert, AlertKind, AlertRead, ScreenRole, Venue, utcnow

_INSERTED = ("venue_id", "seq", "role", "kind", "reservation_id", "dedupe_key", "payload", "created_at")
# Built once, from the tables' own columns (no ORM in the way): building a statement and its
# cache key costs more than SQLite takes to run it.
_VENUES = table_of(Venue)
_VENUE_ROW = update(_VENUES).where(_VENUES.c.id == bindparam("venue"))
_BUMP = _VENUE_ROW.values(alert_seq=_VENUES.c.alert_seq + 1).returning(_VENUES.c.alert_seq)
_UNBUMP = _VENUE_ROW.values(alert_seq=_VENUES.c.alert_seq - 1)
_INSERT = insert(table_of(Alert))
_BY_KEY = select(Alert).where(
    col(Alert.venue_id) == bindparam("venue"), col(Alert.dedupe_key) == bindparam("key")
)


def append_alert(
    session: Session,
    venue: Venue,
    role: ScreenRole,
    kind: AlertKind,
    reservation_id: int | None,
    payload: dict[str, object],
    dedupe_key: str | None = None,
) -> Alert | None:
    """Add an alert with the venue's next sequence number; None if its dedupe key was already used.

    The counter is bumped with an UPDATE … RETURNING inside the caller's transaction, which holds
    the venue row (SQLite: the write lock) until commit: concurrent writers serialise there and
    numbers are never reused. A taken dedupe key is found by the insert itself (ON CONFLICT DO
    NOTHING); no other writer can have taken a number since our bump, so it is simply undone.
    """
    assert venue.id is not None
    connection = session.connection()
    seq = connection.execute(_BUMP, {"venue": venue.id}).scalar_one()
    alert = Alert(
        venue_id=venue.id,
        seq=seq,
        role=role,
        kind=kind,
        reservation_id=reservation_id,
        dedupe_key=dedupe_key,
        payload=payload,
        created_at=utcnow(),
    )
    # Written with Core, not added to the session: the ORM's unit of work costs more than the insert.
    row = {name: getattr(alert, name) for name in _INSERTED}
    if dedupe_key is None:
        connection.execute(_INSERT, row)
    elif not insert_new(session, Alert, row, ("venue_id", "dedupe_key")):
        connection.execute(_UNBUMP, {"venue": venue.id})
        return None
    return alert


def find_alert(session: Session, venue: Venue, dedupe_key: str) -> Alert | None:
    return session.exec(_BY_KEY, params={"venue": venue.id, "key": dedupe_key}).first()


def lock_venue_log(session: Session, venue: Venue) -> None:
    """Take the venue's log lock for the rest of the transaction (row lock; SQLite's write lock).

    A staff action reads the state it changes only after this, so two screens acting at once on
    the same party are serialised and the second one sees the first one's result.
    """
    session.execute(update(Venue).where(col(Venue.id) == venue.id).values(alert_seq=col(Venue.alert_seq)))


def alerts_since(
    session: Session, venue: Venue, role: ScreenRole | None, since: int, limit: int = 500
) -> list[Alert]:
    query = select(Alert).where(Alert.venue_id == venue.id, Alert.seq > since)
    if role is not None:
        query = query.where(Alert.role == role)
    return list(session.exec(query.order_by(col(Alert.seq)).limit(limit)))


def to_read(alert: Alert, venue_slug: str) -> AlertRead:
    return AlertRead(
        venue=venue_slug,
        seq=alert.seq,
        role=alert.role,
        kind=alert.kind,
        reservation_id=alert.reservation_id,
        created_at=alert.created_at,
        payload=alert.payload,
    )
