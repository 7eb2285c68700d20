"""Staff actions from the screens: acknowledge, seat, undo; bump, recall, acknowledge allergens.

An action is an event in the venue's sequence: it reaches every screen of its kind through the
same feed as the alerts, so all host screens (or all kitchen screens) show the same state.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response
from sqlmodel import select

from maitre.alerts.actions import ActionRefused, StaffAction, perform
from maitre.alerts.kitchen_actions import echo_table
from maitre.alerts.store import to_read
from maitre.api.deps import ServiceDep, StaffDep, require_screen
from maitre.db import session_scope
from maitre.models import Alert, AlertRead, Venue

router = APIRouter(prefix="/api/venues", tags=["screens"])


@router.post(
    "/{slug}/actions",
    response_model=AlertRead,
    status_code=201,
    responses={200: {"description": "a retry: the event this action id already wrote"}},
)
async def act(
    slug: str, action: StaffAction, claims: StaffDep, service: ServiceDep, response: Response
) -> AlertRead:
    """Do a staff action: 201 with its event, 200 for a retry of one done before, 409 if it no longer fits."""
    require_screen(claims, slug, action.screen.value)
    outcome: list[tuple[AlertRead, bool]] = []

    def write() -> list[AlertRead]:
        with session_scope(service.engine) as session:
            venue = session.exec(select(Venue).where(Venue.slug == slug)).first()
            if venue is None:
                raise ActionRefused(404, f"no venue {slug!r}")
            follow: list[Alert] = []
            alert, new = perform(session, venue, action, follow)
            outcome.append((to_read(alert, slug), new))
            # A seat or its undo also puts the table on (or takes it off) the party's kitchen ticket.
            table = echo_table(session, venue, alert) if new else None
            echoed = [to_read(table, slug)] if table is not None else []
        return [outcome[0][0], *(to_read(a, slug) for a in follow), *echoed] if new else []

    try:
        await service.hub.record(write)
    except ActionRefused as refused:
        raise HTTPException(refused.status, refused.reason) from None
    alert, new = outcome[0]
    if not new:
        response.status_code = 200
    return alert
