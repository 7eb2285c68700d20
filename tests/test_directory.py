"""The directory ingest reads while it is re-read: still-valid entries never disappear midway."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from maitre.db import session_scope
from maitre.hospitality.directory import Directory
from maitre.models import Band, Gateway, GatewayRole, Guest, Venue, row_id


class Watched(set[Any]):
    """A set that checks, after every change, that the entries that must stay are still there."""

    def __init__(self, must_stay: set[Any]) -> None:
        super().__init__()
        self.must_stay = must_stay
        self.armed = False
        self.changes = 0

    def _check(self) -> None:
        self.changes += 1
        if self.armed:
            assert self.must_stay <= self, f"{self.must_stay - self} vanished during a reload"

    def clear(self) -> None:
        super().clear()
        self._check()

    def add(self, item: Any) -> None:
        super().add(item)
        self._check()

    def update(self, *others: Any) -> None:
        super().update(*others)
        self._check()

    def __ior__(self, other: Any) -> Watched:
        super().__ior__(other)
        self._check()
        return self

    def __iand__(self, other: Any) -> Watched:
        super().__iand__(other)
        self._check()
        return self

    def __isub__(self, other: Any) -> Watched:
        super().__isub__(other)
        self._check()
        return self


def test_reload_keeps_every_still_tracked_band_and_gateway_while_it_runs(engine: Engine) -> None:
    with session_scope(engine) as session:
        venue = Venue(slug="bistro", name="Bistro")
        session.add(venue)
        session.flush()
        session.add(Gateway(name="door", role=GatewayRole.DOOR, venue_id=row_id(venue)))
        session.add(Gateway(name="old", role=GatewayRole.APPROACH, venue_id=row_id(venue)))
        for i, consent in enumerate((True, True, False)):
            guest = Guest(first_name=f"G{i}", last_name="T", consent_greeting=consent)
            session.add(guest)
            session.flush()
            session.add(Band(advertiser_id=f"band:{i:016x}", guest_id=row_id(guest)))
    directory = Directory()
    staying_bands = {f"band:{0:016x}", f"band:{1:016x}"}
    directory.tracked_bands = Watched(staying_bands)
    directory.gateways = Watched({("bistro", "door")})
    with session_scope(engine) as session:
        directory.reload(session)
    assert directory.tracked_bands == staying_bands
    assert directory.gateways == {("bistro", "door"), ("bistro", "old")}

    # A gateway removed and a guest's consent withdrawn meanwhile; the rest must never blink.
    with session_scope(engine) as session:
        old = session.exec(select(Gateway).where(Gateway.name == "old")).one()
        session.delete(old)
        withdrawn = session.get(Guest, 2)
        assert withdrawn is not None
        withdrawn.consent_greeting = False
        session.add(withdrawn)
    directory.tracked_bands.must_stay = {f"band:{0:016x}"}  # type: ignore[attr-defined]
    for watched in (directory.tracked_bands, directory.gateways):
        watched.armed = True  # type: ignore[attr-defined]
    with session_scope(engine) as session:
        directory.reload(session)
    assert directory.tracked_bands == {f"band:{0:016x}"}
    assert directory.gateways == {("bistro", "door")}
    assert directory.tracked_bands.changes > 0  # type: ignore[attr-defined]
