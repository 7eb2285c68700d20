"""Staff accounts: salted scrypt password hashes, and the check behind `POST /api/login`.

A hash reads `scrypt$<n>$<r>$<p>$<salt>$<key>` (salt and key base64url): the cost travels with
the hash, so raising it later leaves old hashes verifiable.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from maitre.models import StaffAccount
from maitre.security.tokens import StaffRole

# scrypt cost: n=2^14, r=8 is the RFC 7914 interactive-login figure; ~16 MiB and ~50 ms a check.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
MIN_PASSWORD_CHARS = 12  # NIST SP 800-63B asks for 8 at least; staff tablets are shared, so more
MAX_PASSWORD_CHARS = 256  # scrypt takes any length; a bound keeps a login request cheap
USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]{1,64}$"
_USERNAME_RE = re.compile(USERNAME_PATTERN)
_VENUE_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # a topic level, as maitre.wire.NAME_PATTERN


class StaffAccountError(ValueError):
    """A staff account that cannot be made as asked; str() says why."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether the password matches the stored hash; False for a hash this module did not write."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, key = _unb64(parts[4]), _unb64(parts[5])
        derived = _scrypt(password, salt, n, r, p)
    except ValueError:  # not base64, or parameters scrypt refuses
        return False
    return hmac.compare_digest(derived, key)


@functools.cache
def _decoy_hash() -> str:
    """Checked when no account matches, so an unknown name takes as long as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def add_account(
    session: Session, username: str, password: str, venue: str, role: StaffRole, replace: bool = False
) -> StaffAccount:
    """Create an account (or, with replace, reset an existing one's password, venue and role)."""
    if not _USERNAME_RE.match(username):
        raise StaffAccountError("usernames are 1-64 of A-Z a-z 0-9 _ . @ -")
    if not _VENUE_RE.match(venue):
        raise StaffAccountError("venue slugs are 1-64 of A-Z a-z 0-9 _ -")
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise StaffAccountError(f"passwords are {MIN_PASSWORD_CHARS}-{MAX_PASSWORD_CHARS} characters")
    account = session.exec(select(StaffAccount).where(StaffAccount.username == username)).first()
    if account is not None and not replace:
        raise StaffAccountError(f"staff account {username!r} already exists (use --replace to reset it)")
    if account is None:
        account = StaffAccount(username=username, venue=venue, role=role.value, password_hash="")
    account.venue, account.role, account.disabled = venue, role.value, False
    account.password_hash = hash_password(password)
    session.add(account)
    try:
        session.flush()
    except IntegrityError as exc:  # made by someone else meanwhile
        raise StaffAccountError(f"staff account {username!r} already exists") from exc
    return account


def authenticate(session: Session, username: str, password: str) -> StaffAccount | None:
    """The enabled account with this name and password, else None (in about the same time either way)."""
    if len(password) > MAX_PASSWORD_CHARS or not _USERNAME_RE.match(username):
        verify_password(password[:MAX_PASSWORD_CHARS], _decoy_hash())
        return None
    account = session.exec(select(StaffAccount).where(StaffAccount.username == username)).first()
    if account is None or account.disabled:
        verify_password(password, _decoy_hash())
        return None
    if not verify_password(password, account.password_hash):
        return None
    return account


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # maxmem: OpenSSL's default (32 MiB) is just enough for n=2^14, r=8; leave room for a raise.
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES, maxmem=128 * 2**20)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
