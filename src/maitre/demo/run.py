"""`maitre demo`: broker, service, seeded bistro and simulated crowd in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import cast

import uvicorn

from maitre.api.app import create_app
from maitre.api.hardening import server_options
from maitre.api.screen_socket import PER_MESSAGE_DEFLATE, ScreenSocketProtocol
from maitre.broker import start_embedded_broker
from maitre.cli.calibration_walk import save_calibration
from maitre.config import EMBEDDED, Settings
from maitre.db import make_engine, session_scope, upgrade_schema
from maitre.demo.evening import FIRST_ARRIVAL, GAP, Evening
from maitre.demo.seed import seed_menu, seed_venue
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
    # The migrations' progress is not news to someone starting a demo; warnings still show.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    upgrade_schema(engine)  # the demo's database is its own: bring it to this version's schema
    venue_id = seed_venue(engine, layout)
    seed_menu(engine, venue_id)
    # Installation day: the calibration walk, in the demo's own radio (its own draws), sets how far
    # the bistro's signals stray from its plan; presence weighs the evidence with it.
    calibration = calibrate(Scenario(name="demo-calibration", seed=7, layout="bistro"))
    save_calibration(engine, layout.venue, calibration)

    air = Air(layout, seed=7)
    scene = Scene(air, seed=7)
    evening = Evening(engine, venue_id, scene)
    first = evening.book_until(FIRST_ARRIVAL + 0.1)  # the first party, so its code can be printed now

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
    manager_token = signer.issue(layout.venue, StaffRole.MANAGER, DEMO_TOKEN_HOURS)
    print(f"  host stand:  {base}/screens/host.html#token={host_token}")
    print(f"  kitchen:     {base}/screens/kitchen.html#token={kitchen_token}")
    print(f"  insights:    {base}/screens/insights.html#token={manager_token}")
    if first:
        guest = first[0]
        print(f"  guest page:  {base}/checkin#code={first[0].code} (last name {guest.guest.last})")
    print(f"  API docs:    {base}/docs")
    print(f"  calibration walk (simulated): {calibration.describe()}")
    print(
        f"  A party sets off every {GAP[0]:.0f}-{GAP[1]:.0f} s from {FIRST_ARRIVAL:.0f} s, "
        "walk-ins now and then; check-in codes print as parties book; Ctrl-C to stop."
    )

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
        evening.on_booked = lambda b: print(
            f"  [booked] {b.guest.first} {b.guest.last}, party of {b.guest.party}: "
            f"check in at {base}/checkin#code={b.code} (last name {b.guest.last})"
        )
        evening.on_band = lambda guest_id: _follow_bands(service, guest_id)
        evening.on_walk_in = lambda _: print(
            "  [door] a walk-in, no booking (band unknown): seat them by hand"
        )
        tasks.append(asyncio.create_task(evening.run()))
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


def _follow_bands(service: VenueService, guest_id: int) -> None:
    """Tell the running service about a guest booked after it started, as linking a band on the phone does."""
    with session_scope(service.engine) as session:
        service.directory.refresh_bands_of(session, guest_id)


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
