"""Staff tokens refused before they expire: one token by its id, or every token a venue was given."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, delete, select

from maitre.models import TokenRevocation, utcnow
from maitre.security.tokens import StaffClaims

log = logging.getLogger("maitre.security.revocation")


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


def purge_expired(session: Session) -> int:
    """Forget revocations of tokens that have expired anyway."""
    result = session.exec(delete(TokenRevocation).where(col(TokenRevocation.expires_at) < utcnow()))
    return int(result.rowcount or 0)


# How stale this instance's copy of the list may be: a token revoked through another instance
# (or `maitre token revoke`) is refused here within this many seconds; through this one, at once.
REFRESH_SECONDS = 2.0


class RevocationList:
    """The list as this instance last read it, read again at most every REFRESH_SECONDS on demand.

    During a database outage the last list read stands (a validly signed, unexpired token is not
    refused for want of the database), and only one caller at a time waits on a read.
    """

    def __init__(self, engine: Engine, refresh: float = REFRESH_SECONDS) -> None:
        self.engine = engine
        self.refresh = refresh
        self._tokens: frozenset[str] = frozenset()
        self._venues: dict[str, float] = {}  # venue → revoked every token issued until (unix time)
        self._read_at = -float("inf")
        self._lock = threading.Lock()

    def revoked(self, claims: StaffClaims) -> bool:
        if time.monotonic() - self._read_at >= self.refresh and self._lock.acquire(blocking=False):
            try:
                self._read()
            finally:
                self._lock.release()
        if claims.token_id is not None and claims.token_id in self._tokens:
            return True
        until = self._venues.get(claims.venue)
        return until is not None and claims.issued <= until

    def invalidate(self) -> None:
        """Read the list again at the next check (after a revocation made here)."""
        self._read_at = -float("inf")

    def _read(self) -> None:
        try:
            with Session(self.engine) as session:
                rows = session.exec(select(TokenRevocation)).all()
        except SQLAlchemyError as exc:
            log.warning("cannot read the token revocation list (%s); the last one read stands", exc)
            self._read_at = time.monotonic()  # try again after `refresh`, not at every request
            return
        tokens, venues = set(), {}
        for row in rows:
            kind, _, name = row.key.partition(":")
            if kind == "token":
                tokens.add(name)
            else:
                at = row.revoked_at if row.revoked_at.tzinfo else row.revoked_at.replace(tzinfo=UTC)
                venues[name] = at.timestamp()
        self._tokens, self._venues = frozenset(tokens), venues
        self._read_at = time.monotonic()
