"""Writing and reading alerts. Writes are transactional and idempotent per reservation and kind."""

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
) -> Alert | None:
    """Add an alert with the venue's next sequence number; None if this one was already issued.

    The sequence counter is bumped with an UPDATE … RETURNING inside the caller's transaction,
    so concurrent writers serialise on the venue row and numbers are never reused.
    """
    assert venue.id is not None
    if reservation_id is not None:
        issued = session.exec(
            select(Alert.id).where(Alert.reservation_id == reservation_id, Alert.kind == kind)
        ).first()
        if issued is not None:
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
                payload=payload,
            )
            session.add(alert)
            session.flush()
    except IntegrityError:
        # A concurrent writer issued it first; the savepoint rolled our seq bump back too.
        return None
    return alert


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
