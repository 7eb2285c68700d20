"""Staff accounts: Argon2id password hashes, and the check behind `POST /api/login`.

A hash is argon2's PHC string, `$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>`: the cost
travels with the hash, so raising it later leaves old hashes verifiable, and a sign-in with a hash
made at an older cost (or with the scrypt this module wrote before, `scrypt$<n>$<r>$<p>$<salt>$<key>`,
salt and key base64url) stores a new one at today's.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from maitre.models import StaffAccount
from maitre.security.tokens import StaffRole

# argon2-cffi's defaults: RFC 9106's second recommended option, for memory-constrained machines
# (Argon2id, t=3 passes over m=64 MiB, p=4 lanes, 16-byte salt, 32-byte key). A later argon2-cffi
# that raises them makes old hashes `check_needs_rehash`, and sign-in upgrades them.
_HASHER = PasswordHasher()
ARGON2_PREFIX = "$argon2"
# Hashes written before Argon2: scrypt, still verified so existing accounts can sign in (and be
# rehashed). Their key was always this long.
SCRYPT_SCHEME = "scrypt"
SCRYPT_KEY_BYTES = 32
MIN_PASSWORD_CHARS = 12  # NIST SP 800-63B asks for 8 at least; staff tablets are shared, so more
MAX_PASSWORD_CHARS = 256  # Argon2 takes any length; a bound keeps a login request cheap
USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]{1,64}$"
_USERNAME_RE = re.compile(USERNAME_PATTERN)
_VENUE_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # a topic level, as maitre.wire.NAME_PATTERN


class StaffAccountError(ValueError):
    """A staff account that cannot be made as asked; str() says why."""


def hash_password(password: str) -> str:
    """A new Argon2id hash of the password, salted, at today's cost."""
    return _HASHER.hash(password)


def verify_password(password: str, stored: str) -> bool:
    """Whether the password matches the stored hash (Argon2, or the older scrypt); False for a hash
    this module did not write."""
    if stored.startswith(ARGON2_PREFIX):
        try:
            return _HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):  # a wrong password, or a damaged hash
            return False
    return _verify_scrypt(password, stored)


def needs_rehash(stored: str) -> bool:
    """Whether a hash that verified should be replaced: scrypt, or Argon2 below today's cost."""
    if not stored.startswith(ARGON2_PREFIX):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify_scrypt(password: str, stored: str) -> bool:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCRYPT_SCHEME:
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
    if needs_rehash(account.password_hash):  # scrypt, or an older Argon2 cost: today's from now on
        account.password_hash = hash_password(password)
        session.add(account)  # committed with the caller's session
    return account


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # maxmem: OpenSSL's default (32 MiB) is just enough for n=2^14, r=8; leave room for a raise.
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, dklen=SCRYPT_KEY_BYTES, maxmem=128 * 2**20
    )


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
