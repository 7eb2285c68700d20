"""Writing and reading the screen event log. Writes are transactional and idempotent per dedupe key."""

from __future__ import annotations

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from maitre.db import insert_new
from maitre.models import Alert, AlertKind, AlertRead, ScreenRole, Venue, utcnow

_INSERTED = ("venue_id", "seq", "role", "kind", "reservation_id", "dedupe_key", "payload", "created_at")


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
    counter = col(Venue.alert_seq)
    seq = connection.execute(
        update(Venue).where(col(Venue.id) == venue.id).values(alert_seq=counter + 1).returning(counter)
    ).scalar_one()
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
        connection.execute(insert(Alert).values(row))
    elif not insert_new(session, Alert, row, ("venue_id", "dedupe_key")):
        connection.execute(update(Venue).where(col(Venue.id) == venue.id).values(alert_seq=counter - 1))
        return None
    return alert


def find_alert(session: Session, venue: Venue, dedupe_key: str) -> Alert | None:
    return session.exec(
        select(Alert).where(Alert.venue_id == venue.id, Alert.dedupe_key == dedupe_key)
    ).first()


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
