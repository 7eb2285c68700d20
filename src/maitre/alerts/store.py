"""Writing and reading the screen event log. Writes are transactional and idempotent per dedupe key."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from maitre.models import Alert, AlertKind, AlertRead, ScreenRole, Venue


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

    The sequence counter is bumped with an UPDATE … RETURNING inside the caller's transaction,
    so concurrent writers serialise on the venue row and numbers are never reused.
    """
    assert venue.id is not None
    if dedupe_key is not None and find_alert(session, venue, dedupe_key) is not None:
        return None
    try:
        with session.begin_nested():
            seq = session.execute(
                update(Venue)
                .where(col(Venue.id) == venue.id)
                .values(alert_seq=col(Venue.alert_seq) + 1)
                .returning(col(Venue.alert_seq))
            ).scalar_one()
            alert = Alert(
                venue_id=venue.id,
                seq=seq,
                role=role,
                kind=kind,
                reservation_id=reservation_id,
                dedupe_key=dedupe_key,
                payload=payload,
            )
            session.add(alert)
            session.flush()
    except IntegrityError:
        # A concurrent writer issued it first; the savepoint rolled our seq bump back too.
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
