"""Staff tokens refused before they expire: one token by its id, or every token a venue was given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, delete, select

from maitre.models import TokenRevocation, utcnow
from maitre.security.tokens import StaffClaims


def _token_key(token_id: str) -> str:
    return f"token:{token_id}"


def _venue_key(venue: str) -> str:
    return f"venue:{venue}"


def revoke_token(session: Session, claims: StaffClaims) -> None:
    """Refuse this token from now on (kept on the list until it would have expired anyway)."""
    if claims.token_id is None:
        raise ValueError("this token has no id (made before tokens had one): revoke the venue's tokens")
    expires = datetime.fromtimestamp(claims.expires, UTC)
    purge_expired(session)
    session.merge(TokenRevocation(key=_token_key(claims.token_id), expires_at=expires))
    session.flush()


def revoke_venue(session: Session, venue: str, max_hours: float) -> datetime:
    """Refuse every token of the venue issued until now (a lost tablet whose token nobody noted)."""
    now = utcnow()
    until = now + timedelta(hours=max_hours, minutes=1)
    purge_expired(session)
    session.merge(TokenRevocation(key=_venue_key(venue), revoked_at=now, expires_at=until))
    session.flush()
    return now


def is_revoked(session: Session, claims: StaffClaims) -> bool:
    """Is this (validly signed, unexpired) token on the list, by itself or by its venue?"""
    keys = [_venue_key(claims.venue)]
    if claims.token_id is not None:
        keys.append(_token_key(claims.token_id))
    for row in session.exec(select(TokenRevocation).where(col(TokenRevocation.key).in_(keys))):
        if row.key.startswith("token:"):
            return True
        revoked_at = row.revoked_at if row.revoked_at.tzinfo else row.revoked_at.replace(tzinfo=UTC)
        if claims.issued <= revoked_at.timestamp():
            return True
    return False


def purge_expired(session: Session) -> int:
    """Forget revocations of tokens that have expired anyway."""
    result = session.exec(delete(TokenRevocation).where(col(TokenRevocation.expires_at) < utcnow()))
    return int(result.rowcount or 0)
