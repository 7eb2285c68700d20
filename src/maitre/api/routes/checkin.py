"""The guest's phone: find my reservation, link my band, tell us about me, choose consents, pre-order.

Every route but `POST /api/guest/session` needs the guest token it returns, and reaches that one
reservation (and its guest) only. Every route is rate limited per client address, and look-ups
(and band links) more strictly, per address and per code.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, StringConstraints
from sqlmodel import Session, col, func, select

from maitre.alerts.store import find_alert, to_read
from maitre.api.deps import (
    RATE_LIMITED,
    ServiceDep,
    SessionDep,
    client_address,
    guest_rate_limit,
    spend,
)
from maitre.db import session_scope
from maitre.guests import consent
from maitre.guests.erasure import erase_guest
from maitre.guests.ratelimit import RateLimiter
from maitre.guests.visit_status import visit_status
from maitre.hospitality.late_start import start_on_consent
from maitre.hospitality.menu_check import ordered_allergen_warnings
from maitre.models import (
    RESERVATION_CODE_ALPHABET,
    AlertRead,
    Band,
    ConsentPurpose,
    Guest,
    MenuItem,
    MenuItemRead,
    Preference,
    PreOrderItem,
    PreOrderItemRead,
    Reservation,
    ReservationStatus,
    Venue,
    row_id,
)
from maitre.security.tokens import GuestClaims, InvalidToken, TokenSigner

router = APIRouter(
    prefix="/api/guest", tags=["guest"], dependencies=[Depends(guest_rate_limit)], responses=RATE_LIMITED
)
_bearer = HTTPBearer(auto_error=False, description="a guest token from POST /api/guest/session")

# Text a guest types: no control characters (they have no business on a card), bounded length.
Line = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")
]
Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60, pattern=r"^[^\x00-\x1f\x7f]*$")
]
Note = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$")
]
NO_MATCH = "No reservation matches that code and last name."


def guest_claims(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> GuestClaims:
    if credentials is None:
        raise HTTPException(401, "a guest token is required", headers={"WWW-Authenticate": "Bearer"})
    signer: TokenSigner = request.app.state.signer
    try:
        return signer.verify_guest(credentials.credentials)
    except InvalidToken as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc


GuestDep = Annotated[GuestClaims, Depends(guest_claims)]


def mine(session: Session, claims: GuestClaims) -> tuple[Reservation, Guest]:
    """The token's reservation and guest; 401 once either is gone or erased."""
    reservation = session.get(Reservation, claims.reservation_id)
    guest = session.get(Guest, claims.guest_id)
    if reservation is None or guest is None or reservation.guest_id != guest.id or guest.erased_at:
        raise HTTPException(401, "this check-in session has ended; find your reservation again")
    return reservation, guest


class Lookup(BaseModel):
    code: str = Field(min_length=1, max_length=32)
    last_name: str = Field(min_length=1, max_length=100)


class GuestSession(BaseModel):
    token: str = Field(description="send as `Authorization: Bearer …`; reaches this reservation only")
    expires: datetime
    reservation_id: int


def normalise_code(code: str) -> str:
    return "".join(c for c in code.upper() if c not in " -")


TOO_MANY_TRIES = "Too many tries. Wait a moment and try again."


@router.post(
    "/session",
    response_model=GuestSession,
    responses={404: {"description": "no such code and last name"}},
)
def open_session(body: Lookup, request: Request, session: SessionDep, service: ServiceDep) -> GuestSession:
    """Confirmation code + last name → a short-lived guest token for that reservation."""
    limits: CheckinLimits = request.app.state.checkin_limits
    client = client_address(request)
    spend(limits.by_client, client, TOO_MANY_TRIES)
    code = normalise_code(body.code)
    if not code or any(c not in RESERVATION_CODE_ALPHABET for c in code):
        raise HTTPException(404, NO_MATCH)
    # Per code and address: a stranger who knows a code spends only their own tries on it, and
    # cannot lock its guest out.
    spend(limits.by_code, f"{client} {code}", TOO_MANY_TRIES)
    found = session.exec(select(Reservation, Guest).join(Guest).where(Reservation.code == code)).first()
    # Compare names in constant time, and answer a wrong code and a wrong name alike.
    wanted = body.last_name.strip().casefold().encode()
    if found is None or found[1].erased_at is not None:
        hmac.compare_digest(wanted, wanted)
        raise HTTPException(404, NO_MATCH)
    reservation, guest = found
    if not hmac.compare_digest(wanted, guest.last_name.strip().casefold().encode()):
        raise HTTPException(404, NO_MATCH)
    signer: TokenSigner = request.app.state.signer
    minutes = service.settings.guest_token_minutes
    token = signer.issue_guest(row_id(reservation), row_id(guest), minutes)
    expires = datetime.fromtimestamp(signer.verify_guest(token).expires, UTC)
    return GuestSession(token=token, expires=expires, reservation_id=row_id(reservation))


class CheckinLimits:
    """Look-up budgets: per client address (enumeration), per code from one address (guessing a
    name for a code)."""

    def __init__(self, burst: int, per_minute: float) -> None:
        self.by_client = RateLimiter(burst, per_minute)
        self.by_code = RateLimiter(max(3, burst // 2), max(1.0, per_minute / 3))
        self.bands = RateLimiter(burst, per_minute)


class GuestPreferences(BaseModel):
    preferred_name: Line | None = None
    pronunciation: Line | None = None
    allergies: list[Tag] = Field(default_factory=list, max_length=20)
    dietary: list[Tag] = Field(default_factory=list, max_length=20)
    occasion: Line | None = None
    notes: Note | None = None


class LinkBand(BaseModel):
    label: str = Field(min_length=1, max_length=32, description="the code printed on the band")


GUEST_MAX_PORTIONS = 20  # of one dish from a phone; more is a typo or a party the venue should hear of


class Order(BaseModel):
    menu_item_id: int
    quantity: int = Field(default=1, description=f"1 to {GUEST_MAX_PORTIONS}")
    modifiers: list[Tag] = Field(default_factory=list, max_length=10)
    # Checked in the route, so the guest's phone gets one plain sentence, not a list of errors.


def normalise_label(label: str) -> str:
    return label.strip().upper().replace(" ", "")


@router.get("/me")
def read_me(claims: GuestDep, session: SessionDep, service: ServiceDep) -> dict[str, object]:
    """Everything the service holds for this reservation's guest, and what happens when they arrive."""
    reservation, guest = mine(session, claims)
    venue = session.get(Venue, reservation.venue_id)
    assert venue is not None
    prefs = session.get(Preference, guest.id) or Preference(guest_id=row_id(guest))
    bands = list(session.exec(select(Band).where(Band.guest_id == guest.id).order_by(col(Band.id))))
    items = _items(session, row_id(reservation))
    return {
        "reservation": {
            "id": reservation.id,
            "code": reservation.code,
            "at": reservation.at.isoformat(),
            "party_size": reservation.party_size,
            "status": reservation.status.value,
            "table": reservation.table_label,
        },
        "venue": {"slug": venue.slug, "name": venue.name, "timezone": venue.timezone},
        "guest": {"first_name": guest.first_name, "last_name": guest.last_name, "email": guest.email},
        "preferences": _prefs_out(prefs),
        "consents": consent.current(guest),
        "bands": [{"label": b.label or "(no code)"} for b in bands],
        "items": [
            {**PreOrderItemRead.model_validate(i).model_dump(), "price_cents": i.price_cents} for i in items
        ],
        "can_preorder": _can_preorder(session, reservation, venue),
        # The guest's own allergies against what they ordered (their own words: no consent needed).
        "allergen_warnings": ordered_allergen_warnings(
            session, reservation.venue_id, prefs.allergies, [i.name for i in items]
        ),
        "currency": service.settings.currency,
        "status_line": visit_status(session, reservation, guest),
    }


def _prefs_out(prefs: Preference) -> dict[str, object]:
    return prefs.model_dump(exclude={"guest_id"})


@router.put("/me/preferences")
def set_preferences(body: GuestPreferences, claims: GuestDep, session: SessionDep) -> dict[str, object]:
    _, guest = mine(session, claims)
    prefs = session.get(Preference, guest.id) or Preference(guest_id=row_id(guest))
    prefs.sqlmodel_update(body.model_dump())
    session.add(prefs)
    session.flush()
    return _prefs_out(prefs)


@router.put("/me/consent")
async def set_consent(body: consent.Consents, claims: GuestDep, service: ServiceDep) -> dict[str, object]:
    """Change any purpose; a withdrawal stops the band being followed before this returns.

    Kitchen consent given once the party is in the house starts the pre-order now (late_start).
    """
    answers: dict[str, object] = {}

    def write() -> list[AlertRead]:
        with session_scope(service.engine) as session:
            reservation, guest = mine(session, claims)
            changed = consent.change(session, guest, body, source="guest")
            consent.retrack(session, service.directory, service.presence, row_id(guest))
            answers.update(consent.current(guest))
            granted = any(e.purpose == ConsentPurpose.KITCHEN and e.granted for e in changed)
            ticket = start_on_consent(session, reservation) if granted else None
            session.flush()
            answers["status_line"] = visit_status(session, reservation, guest)
            venue = session.get(Venue, reservation.venue_id)
            assert venue is not None
            return [to_read(ticket, venue.slug)] if ticket is not None else []

    await service.hub.record(write)
    return answers


class Email(BaseModel):
    email: Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=320, pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$"),
    ] = Field(description="where offers and the note after the visit go; empty to remove it")


@router.put("/me/email", responses={422: {"description": "not an e-mail address"}})
def set_email(body: Email, claims: GuestDep, session: SessionDep) -> dict[str, str | None]:
    """The guest's e-mail address, for offers (with marketing consent); empty removes it."""
    _, guest = mine(session, claims)
    guest.email = body.email or None
    session.add(guest)
    return {"email": guest.email}


@router.post("/me/bands", status_code=201, responses={404: {}, 409: {}})
def link_band(
    body: LinkBand, claims: GuestDep, request: Request, session: SessionDep, service: ServiceDep
) -> dict[str, str]:
    _, guest = mine(session, claims)
    limits: CheckinLimits = request.app.state.checkin_limits
    spend(limits.bands, client_address(request), TOO_MANY_TRIES)
    label = normalise_label(body.label)
    band = session.exec(select(Band).where(func.upper(col(Band.label)) == label)).first()
    if band is None:
        raise HTTPException(404, f"No band has the code {label!r}. Check the code printed on the band.")
    if band.guest_id is not None and band.guest_id != guest.id:
        raise HTTPException(409, "This band is already linked to someone else. Ask the host for another.")
    band.guest_id = row_id(guest)
    session.add(band)
    session.flush()
    consent.retrack(session, service.directory, service.presence, row_id(guest))
    return {"label": label}


@router.delete("/me/bands/{label}", status_code=204)
def unlink_band(label: str, claims: GuestDep, session: SessionDep, service: ServiceDep) -> Response:
    _, guest = mine(session, claims)
    band = session.exec(
        select(Band).where(func.upper(col(Band.label)) == normalise_label(label), Band.guest_id == guest.id)
    ).first()
    if band is None:
        raise HTTPException(404, "You have no band with that code.")
    band.guest_id = None
    session.add(band)
    session.flush()
    consent.untrack_band(service.directory, service.presence, band.advertiser_id)
    return Response(status_code=204)


@router.get("/menu", response_model=list[MenuItemRead])
def read_menu(claims: GuestDep, session: SessionDep) -> list[MenuItem]:
    reservation, _ = mine(session, claims)
    return list(
        session.exec(
            select(MenuItem)
            .where(MenuItem.venue_id == reservation.venue_id, col(MenuItem.available))
            .order_by(col(MenuItem.name))
        )
    )


@router.post("/me/items", response_model=PreOrderItemRead, status_code=201)
def order(body: Order, claims: GuestDep, session: SessionDep) -> PreOrderItem:
    reservation, _ = mine(session, claims)
    venue = session.get(Venue, reservation.venue_id)
    assert venue is not None
    if not _can_preorder(session, reservation, venue):
        raise HTTPException(409, "The kitchen has already started on this reservation.")
    if not 1 <= body.quantity <= GUEST_MAX_PORTIONS:
        raise HTTPException(422, f"Choose from 1 to {GUEST_MAX_PORTIONS} of a dish.")
    dish = session.get(MenuItem, body.menu_item_id)
    if dish is None or dish.venue_id != reservation.venue_id or not dish.available:
        raise HTTPException(404, "That dish is not on the menu.")
    item = PreOrderItem(
        reservation_id=row_id(reservation),
        name=dish.name,
        quantity=body.quantity,
        prep_minutes=dish.prep_minutes,
        modifiers=list(body.modifiers),
        price_cents=dish.price_cents,
        course=dish.course,
    )
    session.add(item)
    session.flush()
    return item


@router.delete("/me/items/{item_id}", status_code=204)
def cancel_item(item_id: int, claims: GuestDep, session: SessionDep) -> Response:
    reservation, _ = mine(session, claims)
    venue = session.get(Venue, reservation.venue_id)
    assert venue is not None
    item = session.get(PreOrderItem, item_id)
    if item is None or item.reservation_id != reservation.id:
        raise HTTPException(404, "No such item on your order.")
    if not _can_preorder(session, reservation, venue):
        raise HTTPException(409, "The kitchen has already started on this reservation.")
    session.delete(item)
    return Response(status_code=204)


@router.delete("/me", responses={200: {"description": "erased"}})
async def erase_me(claims: GuestDep, service: ServiceDep) -> dict[str, object]:
    """Erase the guest: details, bands, arrivals and alert contents go; open bookings are cancelled."""
    published: list[int] = []

    def write() -> list[AlertRead]:
        with session_scope(service.engine) as session:
            _, guest = mine(session, claims)
            erased = erase_guest(session, guest)
            for band in erased.bands:
                consent.untrack_band(service.directory, service.presence, band)
            reads = [to_read(alert, slug) for slug, alert in erased.alerts]
        published.extend(a.seq for a in reads)
        return reads

    await service.hub.record(write)
    return {"erased": True, "screens_updated": len(published)}


def _items(session: Session, reservation_id: int) -> list[PreOrderItem]:
    return list(
        session.exec(
            select(PreOrderItem)
            .where(PreOrderItem.reservation_id == reservation_id)
            .order_by(col(PreOrderItem.id))
        )
    )


def _can_preorder(session: Session, reservation: Reservation, venue: Venue) -> bool:
    open_ = reservation.status in (ReservationStatus.EXPECTED, ReservationStatus.APPROACHING)
    return open_ and find_alert(session, venue, f"kitchen:{reservation.id}") is None
