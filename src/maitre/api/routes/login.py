"""Staff sign-in: a username and password (security/staff.py) for a token of the account's venue and role."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from maitre.api.deps import SessionDep, client_address, spend
from maitre.guests.ratelimit import RateLimiter
from maitre.security.staff import MAX_PASSWORD_CHARS, authenticate
from maitre.security.tokens import DEFAULT_TOKEN_HOURS, StaffRole, TokenSigner

router = APIRouter(tags=["staff"])


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)
    hours: float = Field(default=DEFAULT_TOKEN_HOURS, gt=0, le=24, description="how long the token lasts")


class StaffToken(BaseModel):
    token: str = Field(description="send as `Authorization: Bearer …`, or in a screen's hello")
    venue: str
    role: StaffRole
    expires: datetime


@router.post(
    "/api/login",
    response_model=StaffToken,
    responses={401: {"description": "wrong username or password"}, 429: {"description": "too many tries"}},
)
def login(body: Login, request: Request, session: SessionDep) -> StaffToken:
    """A staff token for the account's venue and role; tries are limited per client address."""
    limiter: RateLimiter = request.app.state.login_limiter
    spend(limiter, client_address(request), "too many sign-in attempts")
    account = authenticate(session, body.username, body.password)
    if account is None:
        raise HTTPException(401, "wrong username or password", headers={"WWW-Authenticate": "Bearer"})
    signer: TokenSigner = request.app.state.signer
    role = StaffRole(account.role)
    token = signer.issue(account.venue, role, body.hours)
    claims = signer.verify(token)
    return StaffToken(
        token=token, venue=account.venue, role=role, expires=datetime.fromtimestamp(claims.expires, UTC)
    )
