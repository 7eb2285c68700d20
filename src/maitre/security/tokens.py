"""Staff screen tokens: a venue, a role and an expiry, signed with HMAC-SHA256 (stdlib only).

A token reads `mt1.<claims>.<signature>`, both parts base64url without padding; the claims are
JSON `{"venue": "bistro", "role": "host", "exp": 1795412345}`. They are signed, not encrypted:
a token says nothing a member of staff holding it does not already know.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

log = logging.getLogger("maitre.security.tokens")

TOKEN_VERSION = "mt1"  # noqa: S105 (a format tag, not a secret)
# Guest tokens carry their own tag, and the tag is signed: neither kind passes for the other.
GUEST_TOKEN_VERSION = "mg1"  # noqa: S105 (a format tag, not a secret)
MAX_TOKEN_CHARS = 1024  # a real token is ~150; anything far longer is not worth decoding
DEFAULT_TOKEN_HOURS = 12.0  # one service, with room for set-up and close
# The longest a staff token may live (MAITRE_STAFF_TOKEN_MAX_HOURS): a day covers a double shift;
# a token claiming more is refused, so tokens signed for weeks before this limit stop working too.
MAX_TOKEN_HOURS = 24.0


class StaffRole(StrEnum):
    HOST = "host"
    KITCHEN = "kitchen"
    MANAGER = "manager"  # may open any screen of the venue


class InvalidToken(Exception):
    """The token is malformed, forged or expired; str() says which, for the close reason."""


@dataclass(frozen=True, slots=True)
class StaffClaims:
    venue: str
    role: StaffRole
    expires: float
    token_id: str | None = None  # what `maitre token revoke` names; None for tokens made before ids
    issued: float = 0.0  # unix time; 0 for tokens made before it was recorded

    def may_open(self, venue: str, screen: str) -> bool:
        """May the holder see this venue's screen (`host` or `kitchen`)?"""
        return venue == self.venue and self.role in (StaffRole.MANAGER, screen)


@dataclass(frozen=True, slots=True)
class GuestClaims:
    """A guest's phone session: one reservation, and nothing else."""

    reservation_id: int
    guest_id: int
    expires: float


class TokenSigner:
    """Issues and verifies tokens with one key; the key never leaves this object."""

    __slots__ = ("_key", "max_hours")

    def __init__(self, key: bytes, max_hours: float = MAX_TOKEN_HOURS) -> None:
        if len(key) < 16:
            raise ValueError("the secret key must be at least 16 bytes")
        self._key = key
        self.max_hours = max_hours

    def issue(self, venue: str, role: StaffRole, hours: float = DEFAULT_TOKEN_HOURS) -> str:
        if hours > self.max_hours:
            raise ValueError(f"a staff token lasts at most {self.max_hours:g} hours")
        now = time.time()
        claims = {
            "venue": venue,
            "role": role.value,
            "exp": int(now + hours * 3600),
            "iat": round(now, 3),
            "jti": secrets.token_urlsafe(12),
        }
        return self._seal(TOKEN_VERSION, claims)

    def verify(self, token: str, now: float | None = None) -> StaffClaims:
        claims = self._open(token, TOKEN_VERSION)
        try:
            venue, role, exp = claims["venue"], StaffRole(claims["role"]), claims["exp"]
            token_id, issued = claims.get("jti"), claims.get("iat", 0.0)
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidToken("malformed token") from exc
        if not isinstance(venue, str) or not isinstance(exp, int | float):
            raise InvalidToken("malformed token")
        if not isinstance(token_id, str | None) or not isinstance(issued, int | float):
            raise InvalidToken("malformed token")
        _check_expiry(exp, now)
        if exp - (time.time() if now is None else now) > self.max_hours * 3600 + 60:
            raise InvalidToken("token lasts longer than this service allows: get a new one")
        return StaffClaims(venue, role, float(exp), token_id, float(issued))

    def issue_guest(self, reservation_id: int, guest_id: int, minutes: float) -> str:
        claims = {
            "role": "guest",
            "reservation": reservation_id,
            "guest": guest_id,
            "exp": int(time.time() + minutes * 60),
        }
        return self._seal(GUEST_TOKEN_VERSION, claims)

    def verify_guest(self, token: str, now: float | None = None) -> GuestClaims:
        claims = self._open(token, GUEST_TOKEN_VERSION)
        try:
            role, rid, gid, exp = claims["role"], claims["reservation"], claims["guest"], claims["exp"]
        except (KeyError, TypeError) as exc:
            raise InvalidToken("malformed token") from exc
        if role != "guest" or not all(isinstance(v, int) for v in (rid, gid, exp)):
            raise InvalidToken("malformed token")
        _check_expiry(exp, now)
        return GuestClaims(rid, gid, float(exp))

    def _seal(self, version: str, claims: Mapping[str, object]) -> str:
        signed = f"{version}.{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
        return f"{signed}.{_b64(self._sign(signed))}"

    def _open(self, token: str, version: str) -> dict[str, Any]:
        """The claims of a well-formed token of this version with a good signature; else InvalidToken."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken("malformed token")
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != version:
            raise InvalidToken("malformed token")
        try:
            signature, raw = _unb64(parts[2]), _unb64(parts[1])
        except (ValueError, binascii.Error) as exc:
            raise InvalidToken("malformed token") from exc
        # Check the signature before reading a byte of the claims: a forged body is never parsed.
        if not hmac.compare_digest(signature, self._sign(f"{parts[0]}.{parts[1]}")):
            raise InvalidToken("bad signature")
        try:
            claims = json.loads(raw)
        except ValueError as exc:
            raise InvalidToken("malformed token") from exc
        if not isinstance(claims, dict):
            raise InvalidToken("malformed token")
        return claims

    def _sign(self, text: str) -> bytes:
        return hmac.new(self._key, text.encode(), hashlib.sha256).digest()


def _check_expiry(exp: float, now: float | None) -> None:
    if (time.time() if now is None else now) >= exp:
        raise InvalidToken("token expired")


def signer_for(secret: str | None, max_hours: float = MAX_TOKEN_HOURS) -> TokenSigner:
    """A signer for the configured secret, or for a random one (tokens then die with the process;
    `maitre serve` refuses to start without a secret, so only tests and embedding code get here)."""
    if secret:
        return TokenSigner(secret.encode(), max_hours)
    log.warning(
        "MAITRE_SECRET_KEY is not set: signing screen tokens with a random key; "
        "they will not survive a restart"
    )
    return TokenSigner(secrets.token_bytes(32), max_hours)


# Secrets that ship in this repository or its documentation, and the like: a service signing
# with one accepts tokens anyone who read them can forge.
PLACEHOLDER_SECRETS = frozenset(
    {"change-me-to-something-long-and-random", "changeme", "change-me", "secret", "password"}
)
MIN_SECRET_CHARS = 32


def secret_problem(secret: str | None) -> str | None:
    """Why this secret must not sign tokens in production, or None if it may."""
    if not secret:
        return "MAITRE_SECRET_KEY (or MAITRE_SECRET_KEY_FILE) is not set"
    if secret.strip().lower() in PLACEHOLDER_SECRETS or "change-me" in secret.lower():
        return "MAITRE_SECRET_KEY is a placeholder (such as .env.example's): anyone can forge tokens with it"
    if len(secret) < MIN_SECRET_CHARS:
        return f"MAITRE_SECRET_KEY is shorter than {MIN_SECRET_CHARS} characters"
    if len(set(secret)) < 8:
        return "MAITRE_SECRET_KEY repeats too few characters to be random"
    return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or not text.isascii():
        raise ValueError("empty or non-ascii")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
