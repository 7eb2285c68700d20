"""`maitre demo`: broker, service, seeded bistro and simulated crowd in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from pathlib import Path
from typing import cast

import uvicorn

from maitre.api.app import create_app
from maitre.api.hardening import server_options
from maitre.api.screen_socket import PER_MESSAGE_DEFLATE, ScreenSocketProtocol
from maitre.broker import start_embedded_broker
from maitre.cli.calibration_walk import save_calibration
from maitre.config import EMBEDDED, Settings
from maitre.db import make_engine, upgrade_schema
from maitre.demo.seed import DEMO_GUESTS, seed_guest, seed_venue
from maitre.evaluation.runner import calibrate
from maitre.gateway.agent import GatewayAgent
from maitre.mqtt import BrokerAddress
from maitre.runtime.service import VenueService
from maitre.security.tokens import StaffRole
from maitre.sim.air import Air
from maitre.sim.scenario import Scenario
from maitre.sim.scene import Scene
from maitre.sim.source import SimulatedSource
from maitre.sim.venue import bistro_layout

log = logging.getLogger("maitre.demo.run")

DEMO_DATABASE = "maitre-demo.db"
FIRST_ARRIVAL = 4.0  # seconds after start: soon enough that a new user sees it at once
ARRIVAL_GAP = 12.0
PASSER_BY_GAP = 5.0
DEMO_TOKEN_HOURS = 12.0


async def run_demo(settings: Settings, duration: float | None, fresh_db: bool) -> None:
    layout = bistro_layout()
    broker = None
    if settings.mqtt_url == EMBEDDED:
        broker, address = start_embedded_broker(settings.embedded_mqtt_port)
    else:
        address = BrokerAddress.parse(settings.mqtt_url)
    if fresh_db:
        for suffix in ("", "-wal", "-shm"):
            Path(DEMO_DATABASE + suffix).unlink(missing_ok=True)
    engine = make_engine(settings.database_url)
    upgrade_schema(engine)  # the demo's database is its own: bring it to this version's schema
    venue_id = seed_venue(engine, layout)
    # Installation day: the calibration walk, in the demo's own radio (its own draws), sets how far
    # the bistro's signals stray from its plan; presence weighs the evidence with it.
    calibration = calibrate(Scenario(name="demo-calibration", seed=7, layout="bistro"))
    save_calibration(engine, layout.venue, calibration)

    air = Air(layout, seed=7)
    scene = Scene(air, seed=7)
    names = []
    for i, guest in enumerate(DEMO_GUESTS):
        # Every guest's band advertises rotating ids (a new one every 16 s, to watch it): a fixed
        # id could be recorded on the street and replayed (issue 26).
        band = scene.new_band(rotation_exponent=4)
        # Reservations spread around now: everyone arrives within the matching window.
        seed_guest(engine, venue_id, guest, band, timedelta(minutes=5 * i - 10))
        scene.guest_arrives(
            f"{guest.first} {guest.last}", band, FIRST_ARRIVAL + i * ARRIVAL_GAP, from_left=i % 2 == 0
        )
        names.append(guest.first)
    # A band nobody registered walks in too, and a stream of passers-by walks past.
    scene.guest_arrives("stranger", scene.new_band(), FIRST_ARRIVAL + 2.5 * ARRIVAL_GAP)
    horizon = duration or 3600.0
    for k in range(int(horizon / PASSER_BY_GAP)):
        scene.passer_by(f"passer-by {k}", scene.new_band(), 1.0 + k * PASSER_BY_GAP)

    app = create_app(settings, address, engine=engine)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_level="warning",
            lifespan="on",
            ws=ScreenSocketProtocol,
            ws_per_message_deflate=PER_MESSAGE_DEFLATE,
            **server_options(settings.trusted_proxies),
        )
    )
    agents = [GatewayAgent(layout.venue, g.name, address) for g in layout.gateways]
    base = f"http://{settings.http_host}:{settings.http_port}"
    embedded = " (embedded)" if broker else ""
    print(f"Maître demo — MQTT broker {address.url()}{embedded}, database {settings.database_url}")
    # The token rides in the fragment: browsers never send it, so it stays out of request logs.
    signer = app.state.signer
    host_token = signer.issue(layout.venue, StaffRole.HOST, DEMO_TOKEN_HOURS)
    kitchen_token = signer.issue(layout.venue, StaffRole.KITCHEN, DEMO_TOKEN_HOURS)
    print(f"  host stand:  {base}/screens/host.html#token={host_token}")
    print(f"  kitchen:     {base}/screens/kitchen.html#token={kitchen_token}")
    print(f"  API docs:    {base}/docs")
    who = ", ".join(names)
    print(f"  calibration walk (simulated): {calibration.describe()}")
    print(f"  Arrivals every {ARRIVAL_GAP:.0f} s from {FIRST_ARRIVAL:.0f} s: {who}; Ctrl-C to stop.")

    tasks: list[asyncio.Task[None]] = []
    try:
        serve = asyncio.create_task(server.serve())
        while not server.started:
            if serve.done():
                serve.result()  # raises the reason (port taken, …)
                return
            await asyncio.sleep(0.05)
        service = app.state.service
        tasks.append(asyncio.create_task(_print_alerts(service, layout.venue)))
        tasks += [asyncio.create_task(a.run(SimulatedSource(air, a.gateway))) for a in agents]
        tasks.append(asyncio.create_task(air.run()))
        if duration is not None:
            await asyncio.sleep(duration)
        else:
            await serve
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serve
        if broker is not None:
            broker.stop()


async def _print_alerts(service: VenueService, venue: str) -> None:
    """Echo host and kitchen alerts on the console as they fan out."""
    hub = service.hub
    subs = [hub.subscribe(venue, "host"), hub.subscribe(venue, "kitchen")]
    getters = {asyncio.create_task(s.queue.get()): s for s in subs}
    try:
        while True:
            done, _ = await asyncio.wait(getters, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                sub = getters.pop(task)
                alert = task.result()
                if alert is None:  # closed: it fell behind (the console is not reading)
                    continue
                p = alert.payload
                if alert.kind == "greet":
                    print(f"  [host #{alert.seq}] Welcome, {p['name']} — party of {p['party_size']}")
                elif alert.kind == "kitchen_start":
                    lines = cast(list[dict[str, object]], p["items"])
                    items = ", ".join(f"{i['quantity']}× {i['name']}" for i in lines)
                    print(f"  [kitchen #{alert.seq}] start {p['party']}: {items}")
                elif alert.kind == "approaching":
                    print(f"  [host #{alert.seq}] {p['name']} approaching")
                getters[asyncio.create_task(sub.queue.get())] = sub
    finally:
        for task in getters:
            task.cancel()
        for s in subs:
            hub.unsubscribe(s)
