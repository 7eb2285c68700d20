"""Revoking staff tokens before they expire: one token, or every token of the venue."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field, model_validator

from maitre.api.deps import SessionDep, VenueManagerDep
from maitre.security.revocation import RevocationList, revoke_token, revoke_venue
from maitre.security.tokens import InvalidToken, TokenSigner

router = APIRouter(prefix="/api/venues", tags=["staff"])


class Revocation(BaseModel):
    token: str | None = Field(default=None, max_length=1024, description="the token to refuse from now on")
    all: bool = Field(default=False, description="refuse every token of the venue issued until now")

    @model_validator(mode="after")
    def _one(self) -> Revocation:
        if (self.token is None) == (not self.all):
            raise ValueError("give either a token or all: true")
        return self


class Revoked(BaseModel):
    revoked: str = Field(description="`token`, or `venue` for every token issued until `at`")
    at: datetime | None = None


@router.post("/{slug}/tokens/revoke", response_model=Revoked)
def revoke(
    slug: str, body: Revocation, request: Request, session: SessionDep, claims: VenueManagerDep
) -> Revoked:
    """Refuse a token of this venue (a lost tablet's), or all of them, from the next request on."""
    signer: TokenSigner = request.app.state.signer
    revocations: RevocationList = request.app.state.revocations
    if body.all:
        # The manager's own token goes too: sign in again to carry on.
        at = revoke_venue(session, slug, signer.max_hours)
        session.commit()  # before the list is read again
        revocations.invalidate()
        return Revoked(revoked="venue", at=at)
    assert body.token is not None
    try:
        target = signer.verify(body.token)
    except InvalidToken as exc:
        raise HTTPException(422, f"not a token this service accepts: {exc}") from exc
    if target.venue != slug:
        raise HTTPException(403, "the token is for another venue")
    try:
        revoke_token(session, target)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    session.commit()
    revocations.invalidate()
    return Revoked(revoked="token")
