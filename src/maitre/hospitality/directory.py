"""Who the ingest path may know: registered gateways, door gateways and consenting bands."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session, col, or_, select

from maitre.floorplan import VenueModel, WallSpec, check_plan
from maitre.identity.resolver import EidResolver, RotatingBand
from maitre.ingest.tracked import TrackedBands
from maitre.models import Band, Gateway, Guest, Venue, VenueLayout

K = TypeVar("K")
V = TypeVar("V")


class Directory:
    """Live sets that ingest and presence read; mutated in place so their holders see changes."""

    def __init__(self) -> None:
        self.gateways: set[tuple[str, str]] = set()
        # (venue, gateway) → role, and venue → geometry: both read by the presence engine.
        self.gateway_roles: dict[tuple[str, str], str] = {}
        self.venue_models: dict[str, VenueModel] = {}
        # venue → what its stored plan cannot do or will do unexpectedly (floorplan.check_plan),
        # for /readyz and /metrics: a plan stored before the checks existed is not silently trusted.
        self.plan_problems: dict[str, list[str]] = {}
        self.tracked_bands: set[str] = TrackedBands()
        # Only consenting guests' rotating bands are registered: nobody else's ids even resolve.
        self.resolver = EidResolver()
        # The fixed ids of rotating bands: such a band never advertises it, so hearing one is a
        # forgery by someone who learnt it (a label, a listing), and ingest refuses it.
        self.rotating_ids: set[str] = set()
        # Told of each change made here (guest id, or None for everything), with the session that
        # made it: the service tells the other instances once that session commits.
        self.changed: Callable[[Session, int | None], None] | None = None

    def reload(self, session: Session, announce: bool = True) -> None:
        """Re-read everything. Ingest reads these while this runs (in a worker thread): each set and
        map gains its new entries before it loses its stale ones, never passing through empty."""
        rows = session.exec(select(Venue, Gateway).join(Gateway, col(Gateway.venue_id) == Venue.id)).all()
        gateways = {(v.slug, g.name) for v, g in rows}
        self.gateways |= gateways
        self.gateways &= gateways
        _replace(self.gateway_roles, {(v.slug, g.name): g.role.value for v, g in rows})
        models = {}
        for venue in session.exec(select(Venue).where(col(Venue.layout).is_not(None))):
            placed = {g.name: (g.x, g.y) for v, g in rows if v.id == venue.id}
            if venue.layout and placed:
                models[venue.slug] = venue_model(venue.layout, placed)
        _replace(self.venue_models, models)
        roles = {g.name: g.role.value for _, g in rows}
        problems = {}
        for slug, model in models.items():
            check = check_plan(model, {name: roles.get(name, "") for name in model.gateways})
            if check.errors or check.warnings:
                problems[slug] = [f"error: {e}" for e in check.errors] + check.warnings
        _replace(self.plan_problems, problems)
        # Streamed: a resort's hundred thousand bands as objects at once were ~100 MB at the peak.
        consenting = (
            select(Band)
            .join(Guest, col(Band.guest_id) == Guest.id)
            .where(or_(col(Guest.consent_greeting), col(Guest.consent_kitchen)))
            .execution_options(yield_per=2000)
        )
        current: set[str] = set()
        for band in session.exec(consenting):
            self._track(band)
            current.add(band.advertiser_id)
        stale = self.tracked_bands - current
        self.tracked_bands -= stale
        self.rotating_ids -= stale
        for advertiser_id in stale:
            self.resolver.forget(advertiser_id)
        if announce and self.changed is not None:
            self.changed(session, None)

    def refresh_bands_of(self, session: Session, guest_id: int, announce: bool = True) -> None:
        """Re-derive tracking for one guest's bands, after consent or band links change."""
        guest = session.get(Guest, guest_id)
        consenting = guest is not None and (guest.consent_greeting or guest.consent_kitchen)
        for band in session.exec(select(Band).where(Band.guest_id == guest_id)):
            if consenting:
                self._track(band)
            else:
                self.tracked_bands.discard(band.advertiser_id)
                self.rotating_ids.discard(band.advertiser_id)
                self.resolver.forget(band.advertiser_id)
        if announce and self.changed is not None:
            self.changed(session, guest_id)

    def _track(self, band: Band) -> None:
        if band.identity_key and band.rotation_exponent is not None and band.eid_epoch is not None:
            self.rotating_ids.add(band.advertiser_id)  # before it is tracked: never a moment accepted
        else:
            self.rotating_ids.discard(band.advertiser_id)
        self.tracked_bands.add(band.advertiser_id)
        if band.identity_key and band.rotation_exponent is not None and band.eid_epoch is not None:
            rotating = RotatingBand(
                band.advertiser_id,
                bytes.fromhex(band.identity_key),
                band.rotation_exponent,
                band.eid_epoch.timestamp(),
            )
            self.resolver.register(rotating, time.time())


def _replace(target: dict[K, V], new: dict[K, V]) -> None:
    """Make `target` equal `new` in place, adding before removing."""
    target.update(new)
    for key in [k for k in target if k not in new]:
        del target[key]


def venue_model(layout: dict[str, object], gateways: dict[str, tuple[float, float]]) -> VenueModel:
    """The presence engine's view of a venue: its stored layout plus where its gateways hang."""
    parsed = VenueLayout.model_validate(layout)
    return VenueModel(
        gateways=gateways,
        walls=[WallSpec(w.x0, w.y0, w.x1, w.y1, w.loss_db) for w in parsed.walls],
        inside=list(parsed.inside),
        door=parsed.door,
        bounds=parsed.bounds,
        sigma_db=parsed.sigma_db,
        host_stand=parsed.host_stand,
        heights=dict(parsed.gateway_heights),
        gains=dict(parsed.gateway_gains),
    )


class PlanMissing(LookupError):
    """The venue has no plan to use: unknown, no layout, or no gateways (the message says which)."""


def registered_plan(session: Session, slug: str) -> tuple[VenueModel, dict[str, str]]:
    """A venue's plan as registered, and its gateways' roles by name."""
    venue = session.exec(select(Venue).where(Venue.slug == slug)).first()
    if venue is None:
        raise PlanMissing(f"no venue {slug!r} in the database")
    if not venue.layout:
        raise PlanMissing(
            f"venue {slug!r} has no layout: PUT /api/venues/{slug}/layout first (walls, inside, door)"
        )
    gateways = session.exec(select(Gateway).where(Gateway.venue_id == venue.id)).all()
    if not gateways:
        raise PlanMissing(f"venue {slug!r} has no gateways")
    model = venue_model(venue.layout, {g.name: (g.x, g.y) for g in gateways})
    return model, {g.name: str(g.role) for g in gateways}
