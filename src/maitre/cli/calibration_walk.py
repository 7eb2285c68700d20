"""The calibration walk behind `maitre calibrate`: lead the walker from stop to stop, fit the venue.

The command reads the venue's plan and gateway places from the database, listens to the venue's
sightings on the broker, and leads the walker from stop to stop (Enter on arrival; it counts the
standing time). Between stops the walker is taken to walk straight at an even pace. At the end
it fits the venue's spread (presence/calibration.py) and, with --save, stores it with the layout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise

import msgspec
import paho.mqtt.client as paho
from sqlalchemy.engine import Engine
from sqlmodel import select

from maitre import wire
from maitre.db import session_scope
from maitre.floorplan import STAND_S, VenueModel, Waypoint, route
from maitre.hospitality.directory import PlanMissing, registered_plan
from maitre.models import Venue
from maitre.mqtt import BrokerAddress, make_client
from maitre.presence.calibration import Calibration, CalibrationError, fit
from maitre.wire import Sighting


class CalibrationRefused(Exception):
    """The venue cannot be calibrated as it stands: no layout, no placed gateways, no broker."""


def load_model(engine: Engine, slug: str) -> VenueModel:
    with session_scope(engine) as session:
        try:
            return registered_plan(session, slug)[0]
        except PlanMissing as exc:
            raise CalibrationRefused(str(exc)) from exc


def save_calibration(engine: Engine, slug: str, calibration: Calibration) -> None:
    """Store the walk's sigma and per-gateway gains with the venue's layout."""
    with session_scope(engine) as session:
        venue = session.exec(select(Venue).where(Venue.slug == slug)).one()
        venue.layout = {
            **(venue.layout or {}),
            "sigma_db": calibration.sigma_db,
            "gateway_gains": dict(calibration.gains),
        }
        session.add(venue)


@dataclass
class WalkRecorder:
    """Collects one band's sightings from every gateway of a venue while the walk lasts."""

    broker: BrokerAddress
    venue: str
    band: str
    heard: list[tuple[str, Sighting]] = field(default_factory=list)
    other_bands: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._client = make_client(self.broker, client_id=f"maitre-calibrate-{time.monotonic_ns()}")
        topic = wire.sightings_topic(self.venue, "any").replace("/gw/any/", "/gw/+/")
        self._client.on_connect = lambda c, *_: c.subscribe(topic, wire.QOS)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = self._on_message

    def start(self, timeout: float = 10.0) -> None:
        try:
            self._client.connect(self.broker.host, self.broker.port, keepalive=15)
        except OSError as exc:
            raise CalibrationRefused(f"cannot reach the broker at {self.broker.url()}: {exc}") from exc
        self._client.loop_start()
        if not self._subscribed.wait(timeout):
            self.stop()
            raise CalibrationRefused(f"the broker at {self.broker.url()} did not take the subscription")

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        try:
            batch = wire.decode_batch(bytes(msg.payload))
        except (msgspec.ValidationError, msgspec.DecodeError):
            return
        mine = [(batch.gateway, s) for s in batch.sightings if s.id == self.band]
        with self._lock:
            self.heard += mine
            self.other_bands += len(batch.sightings) - len(mine)

    def sightings(self) -> list[tuple[str, Sighting]]:
        with self._lock:
            return sorted(self.heard, key=lambda gs: gs[1].t)


def where_from(timeline: list[tuple[float, float, float]]) -> Callable[[float], tuple[float, float] | None]:
    """The walker's place at time t from (t, x, y) marks: straight lines between them, None outside."""

    def where(t: float) -> tuple[float, float] | None:
        if not timeline or t < timeline[0][0] or t > timeline[-1][0]:
            return None
        for (t0, x0, y0), (t1, x1, y1) in pairwise(timeline):
            if t0 <= t <= t1:
                f = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
                return x0 + f * (x1 - x0), y0 + f * (y1 - y0)
        return timeline[-1][1], timeline[-1][2]

    return where


def walk(
    stops: list[Waypoint],
    arrive: Callable[[Waypoint], None],
    say: Callable[[str], None],
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> list[tuple[float, float, float]]:
    """Lead the walker stop by stop; the (t, x, y) marks of arrivals and departures."""
    timeline: list[tuple[float, float, float]] = []
    for k, stop in enumerate(stops, 1):
        arrive(stop)
        timeline.append((clock(), stop.x, stop.y))
        if stop.stand_s:
            say(f"  [{k}/{len(stops)}] stand still for {stop.stand_s:g} s …")
            sleep(stop.stand_s)
            timeline.append((clock(), stop.x, stop.y))
            say("  walk on")
    return timeline


def calibrate(
    engine: Engine,
    broker: BrokerAddress,
    venue: str,
    band: str,
    stand_s: float = STAND_S,
    arrive: Callable[[Waypoint], None] | None = None,
    say: Callable[[str], None] = print,
) -> Calibration:
    """Run the walk against the live gateways; the fitted calibration.

    Raises CalibrationRefused (nothing to calibrate against) or CalibrationError (the walk said too little).
    """
    model = load_model(engine, venue)
    stops = route(model, stand_s)

    def ask(stop: Waypoint) -> None:
        input(f"Walk to {stop.name} ({stop.x:.1f}, {stop.y:.1f}) m, then press Enter ")

    recorder = WalkRecorder(broker, venue, band)
    recorder.start()
    try:
        standing = sum(stop.stand_s for stop in stops)
        say(f"Calibrating {venue}: {len(stops)} places, {standing:.0f} s of them standing still.")
        timeline = walk(stops, arrive or ask, say)
    finally:
        recorder.stop()
    heard = recorder.sightings()
    if not heard:
        raise CalibrationError(
            f"no gateway of {venue} heard {band} during the walk ({recorder.other_bands} sightings of "
            "other bands): is the band on, advertising its fixed id, and are the gateways running?"
        )
    return fit(model, where_from(timeline), heard)
