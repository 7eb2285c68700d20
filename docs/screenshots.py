"""Regenerate docs/host-screen.png, docs/kitchen-screen.png and docs/guest-page.png: a seeded evening.

    uv run python docs/screenshots.py [--out docs] [--chromium /usr/bin/chromium]

Runs the real service (no MQTT: presence events are submitted directly), seeds guests through
the REST API as a venue would, lets arrivals flow through matching and alerts, then opens both
screens at 1280×800 with staff tokens.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from playwright.async_api import async_playwright
from sqlalchemy import update
from sqlmodel import col, select

from maitre.api.app import create_app
from maitre.config import Settings
from maitre.db import make_engine, session_scope, upgrade_schema
from maitre.models import Alert
from maitre.presence import PresenceEvent
from maitre.security.tokens import StaffRole

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}

# (first, last, party, preferred, pronunciation, occasion, allergies, dietary, notes, minutes from now)
GUESTS: list[tuple[Any, ...]] = [
    ("Siobhán", "O'Neill", 4, None, "shi-VAWN", "Birthday", ["peanuts"], [], "Prefers the window", -20),
    ("Tomás", "Alvarez", 3, "Tom", None, None, ["shellfish"], ["vegetarian"], None, -10),
    ("Aiko", "Tanaka", 2, None, None, "Anniversary", [], ["gluten-free"], None, -5),
    ("Ngozi", "Okafor", 6, None, "n-GO-zee", "Promotion", [], [], None, 0),
    ("Lars", "Nilsson", 2, None, None, None, [], [], None, 10),
    ("Priya", "Raman", 2, None, None, None, [], ["vegan"], None, 20),
    ("Jonas", "Becker", 5, None, None, None, [], [], None, 35),
    ("Chloé", "Martin", 2, None, None, None, [], [], None, 50),
]
ITEMS = {
    "Siobhán": [("Sourdough & butter", 2, 3, []), ("Duck confit", 2, 18, ["no garlic"])],
    "Tomás": [("Mushroom risotto", 1, 20, ["extra parmesan"]), ("Tarte tatin", 3, 12, [])],
    "Ngozi": [("Beef Wellington", 2, 40, ["medium rare"]), ("Sharing platter", 2, 15, [])],
    "Aiko": [("Burrata", 1, 6, []), ("Duck confit", 1, 18, [])],
    "Lars": [("Steak frites", 2, 16, ["one rare, one medium"])],
}


# A kitchen rush on top: parties who let the kitchen start but not the host greet them by name, so
# the kitchen shows twelve tickets and the door keeps its cards.
# (first, last, allergies, notes, [(dish, quantity, prep, course, modifiers)], minutes ago)
RUSH: list[tuple[Any, ...]] = [
    (
        "Mei",
        "Chen",
        ["peanut"],
        "Birthday cake with a candle, please.",
        [("Peanut satay skewers", 2, 8, "starter", []), ("Duck confit", 2, 18, "main", [])],
        12,
    ),
    (
        "Oskar",
        "Lind",
        [],
        None,
        [("Burrata", 1, 6, "starter", []), ("Steak frites", 1, 16, "main", ["rare"])],
        8,
    ),
    (
        "Fatima",
        "Zahra",
        ["shellfish"],
        "No coriander in anything.",
        [("Seafood linguine", 2, 14, "main", [])],
        7,
    ),
    (
        "Jack",
        "Murphy",
        [],
        None,
        [("Soup of the day", 3, 5, "starter", []), ("Tarte tatin", 3, 12, "dessert", [])],
        4.5,
    ),
    ("Elena", "Rossi", [], None, [("Mushroom risotto", 2, 20, None, ["no parmesan"])], 3),
    (
        "Kwame",
        "Mensah",
        ["sesame"],
        None,
        [("Burrata", 2, 6, "starter", []), ("Duck confit", 2, 18, "main", [])],
        2,
    ),
    ("Sofia", "García", [], None, [("Steak frites", 4, 16, None, ["two medium", "two well done"])], 1),
    ("Henrik", "Berg", [], None, [("Sourdough & butter", 1, 3, None, [])], 0.3),
]
MENU = [
    ("Peanut satay skewers", "Chicken, peanut sauce", ["peanuts", "soya"], "starter"),
    ("Seafood linguine", "Prawns, mussels and clams, chilli", ["gluten", "crustaceans", "molluscs"], "main"),
    ("Burrata", "Tomatoes, basil", ["milk"], "starter"),
]


async def main(out: Path, chromium: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/screens.db")
        upgrade_schema(engine)  # the service checks the schema and will not start on an empty database
        settings = Settings(secret_key=secrets.token_hex(16), tables=[str(n) for n in range(1, 19)])  # type: ignore[arg-type]
        app = create_app(settings, None, engine=engine)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        try:
            signer = app.state.signer
            manager = {"Authorization": f"Bearer {signer.issue('bistro', StaffRole.MANAGER)}"}
            async with httpx.AsyncClient(base_url=base, headers=manager) as client:
                tokens = (signer.issue("bistro", StaffRole.HOST), signer.issue("bistro", StaffRole.KITCHEN))
                await _evening(client, app.state.service, tokens)
            _backdate(engine)
            await _shoot(base, app.state.signer, out, chromium)
            async with httpx.AsyncClient(base_url=base, headers=manager) as client:
                await _guest_page(client, base, out, chromium)
        finally:
            server.should_exit = True
            await task


async def _evening(client: httpx.AsyncClient, service: Any, tokens: tuple[str, str]) -> None:
    # A zone where it is about seven in the evening now: the evening's bookings all fall in one
    # service day (it starts at 04:00 local), whenever the script runs.
    behind = (datetime.now(UTC).hour - 19) % 24  # Etc/GMT+N is N hours behind UTC
    behind = behind - 24 if behind > 12 else behind
    evening = f"Etc/GMT{behind:+d}" if behind else "Etc/GMT"
    venue = {"slug": "bistro", "name": "Le Petit Bistro", "timezone": evening}
    r = await client.post("/api/venues", json=venue)
    venue_id = r.raise_for_status().json()["id"]
    now = datetime.now(UTC)
    bands: dict[str, str] = {}
    reservations: dict[str, int] = {}
    for i, (first, last, party, preferred, pron, occasion, allergies, dietary, notes, minutes) in enumerate(
        GUESTS
    ):
        guest = (
            await client.post(
                "/api/guests",
                json={
                    "first_name": first,
                    "last_name": last,
                    "consent_greeting": True,
                    "consent_kitchen": True,
                    "consent_allergies": True,
                },
            )
        ).json()
        await client.put(
            f"/api/guests/{guest['id']}/preferences",
            json={
                "preferred_name": preferred,
                "pronunciation": pron,
                "occasion": occasion,
                "allergies": allergies,
                "dietary": dietary,
                "notes": notes,
            },
        )
        bands[first] = f"band:{i + 1:016x}"
        await client.post("/api/bands", json={"advertiser_id": bands[first], "guest_id": guest["id"]})
        at = now + timedelta(minutes=minutes)
        rid = (
            await client.post(
                "/api/reservations",
                json={
                    "venue_id": venue_id,
                    "guest_id": guest["id"],
                    "party_size": party,
                    "at": at.isoformat(),
                },
            )
        ).json()["id"]
        reservations[first] = rid
        for name, qty, prep, mods in ITEMS.get(first, []):
            await client.post(
                f"/api/reservations/{rid}/items",
                json={"name": name, "quantity": qty, "prep_minutes": prep, "modifiers": mods},
            )
        if first == "Tomás":  # a regular: six earlier dinners make him a VIP
            for weeks in range(1, 7):
                past = (
                    await client.post(
                        "/api/reservations",
                        json={
                            "venue_id": venue_id,
                            "guest_id": guest["id"],
                            "party_size": 2,
                            "at": (now - timedelta(weeks=weeks)).isoformat(),
                        },
                    )
                ).json()["id"]
                await client.patch(f"/api/reservations/{past}", json={"status": "completed"})
    # Siobhán's party: two friends with their own bands.
    for i, name in enumerate(("Maeve", "Cormac")):
        friend = (
            await client.post(
                "/api/guests",
                json={
                    "first_name": name,
                    "last_name": "Byrne",
                    "consent_greeting": True,
                    "consent_kitchen": True,
                },
            )
        ).json()
        bands[name] = f"band:{0xF0 + i:016x}"
        await client.post("/api/bands", json={"advertiser_id": bands[name], "guest_id": friend["id"]})
        await client.post(
            f"/api/reservations/{reservations['Siobhán']}/party", json={"guest_id": friend["id"]}
        )

    def event(who: str, kind: str, distance: float, confidence: float) -> None:
        service.submit(PresenceEvent("bistro", bands[who], kind, time.time(), "door", distance, confidence))  # type: ignore[arg-type]

    # Six parties at the door (Lars is seated), two on the way.
    for who in ("Lars", "Aiko", "Tomás", "Siobhán", "Maeve", "Jonas", "Chloé", "Priya"):
        event(who, "arrived", 1.2, 0.93)
        await asyncio.sleep(0.3)
    event("Ngozi", "approaching", 48.0, 0.71)
    await asyncio.sleep(1.0)
    host = {"Authorization": f"Bearer {tokens[0]}"}
    kitchen = {"Authorization": f"Bearer {tokens[1]}"}
    for who, kind, extra, auth in (
        ("Lars", "seat", {"table": "7"}, host),
        ("Aiko", "greet_ack", {}, host),
        ("Tomás", "allergen_ack", {"by": "Marco"}, kitchen),
        ("Lars", "bump", {}, kitchen),
    ):
        body = {"action_id": secrets.token_hex(8), "kind": kind, "reservation_id": reservations[who], **extra}
        r = await client.post("/api/venues/bistro/actions", json=body, headers=auth)
        if r.is_error:
            raise SystemExit(f"{who} {kind}: {r.status_code} {r.text}")
    await _rush(client, service, venue_id, now, host)


async def _rush(
    client: httpx.AsyncClient, service: Any, venue_id: int, now: datetime, host: dict[str, str]
) -> None:
    for name, description, allergens, course in MENU:
        dish = {"name": name, "description": description, "allergens": allergens, "course": course}
        (await client.post("/api/venues/bistro/menu", json=dish)).raise_for_status()
    for i, (first, last, allergies, notes, items, _) in enumerate(RUSH):
        consents = {"consent_kitchen": True, "consent_allergies": True}
        guest = (
            await client.post("/api/guests", json={"first_name": first, "last_name": last, **consents})
        ).json()
        prefs = {"allergies": allergies, "notes": notes}
        await client.put(f"/api/guests/{guest['id']}/preferences", json=prefs)
        band = f"band:{0x100 + i:016x}"
        await client.post("/api/bands", json={"advertiser_id": band, "guest_id": guest["id"], "static": True})
        booking = {"venue_id": venue_id, "guest_id": guest["id"], "party_size": 2, "at": now.isoformat()}
        rid = (await client.post("/api/reservations", json=booking)).json()["id"]
        for name, qty, prep, course, mods in items:
            item = {"name": name, "quantity": qty, "prep_minutes": prep, "course": course, "modifiers": mods}
            (await client.post(f"/api/reservations/{rid}/items", json=item)).raise_for_status()
        service.submit(PresenceEvent("bistro", band, "arrived", time.time(), "door", 1.2, 0.9))
        await asyncio.sleep(0.2)
        if i < 3:  # the first of them are seated by now: their tickets show the table
            await asyncio.sleep(0.3)
            seat = {
                "action_id": secrets.token_hex(8),
                "kind": "seat",
                "reservation_id": rid,
                "table": str(9 + i),
            }
            (await client.post("/api/venues/bistro/actions", json=seat, headers=host)).raise_for_status()
    await asyncio.sleep(1.0)


def _backdate(engine: Any) -> None:
    """Spread the evening out: tickets of different ages show the timer colours (docs only)."""
    ages = {"Lars": 14, "Aiko": 9.7, "Tomás": 6.2, "Siobhán": 1.5, "Maeve": 1.1}
    ages.update({f"{r[0]} {r[1][0]}.": r[-1] for r in RUSH})
    with session_scope(engine) as session:
        for alert in session.exec(select(Alert)).all():
            payload = alert.payload
            name = str(payload.get("name") or payload.get("party") or "")
            for who, minutes in ages.items():
                if name.startswith(who):
                    session.execute(
                        update(Alert)
                        .where(col(Alert.id) == alert.id)
                        .values(created_at=alert.created_at - timedelta(minutes=minutes))
                    )


async def _shoot(base: str, signer: Any, out: Path, chromium: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for role, selector in (("host", ".card.greet"), ("kitchen", ".ticket")):
                page = await browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
                token = signer.issue("bistro", StaffRole(role))
                await page.goto(f"{base}/screens/{role}.html#token={token}")
                await page.wait_for_selector(selector)
                await page.wait_for_timeout(1200)  # timers tick once, fonts settle
                path = out / f"{role}-screen.png"
                await page.screenshot(path=str(path))
                _shrink(path)
                print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
                await page.close()
        finally:
            await browser.close()


PHONE = {"width": 390, "height": 844}


async def _guest_page(client: httpx.AsyncClient, base: str, out: Path, chromium: str) -> None:
    """A guest booked for later, on their phone: a pre-order from the menu and an allergy not yet shared."""
    for name, description, prep, price in (
        ("Burrata", "Tomatoes, basil, olive oil", 6, 1400),
        ("Duck confit", "Lentils, cherry jus", 18, 2600),
        ("Beef Wellington", "For two, carved at the table", 40, 5800),
    ):
        menu = {"name": name, "description": description, "prep_minutes": prep, "price_cents": price}
        await client.post("/api/venues/bistro/menu", json=menu)
    venue_id = (await client.get("/api/venues/bistro")).json()["id"]
    guest = (await client.post("/api/guests", json={"first_name": "Elena", "last_name": "Rossi"})).json()
    at = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    booking = {"venue_id": venue_id, "guest_id": guest["id"], "party_size": 2, "at": at}
    code = (await client.post("/api/reservations", json=booking)).json()["code"]
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport=PHONE, is_mobile=True)  # type: ignore[arg-type]
            await page.goto(f"{base}/checkin#code={code}")
            await page.locator("#last-name").fill("Rossi")
            await page.get_by_role("button", name="Find my reservation").click()
            await page.wait_for_selector("#menu li")
            await page.get_by_role("button", name="One more Duck confit").click()
            await page.get_by_role("button", name="Add Duck confit").click()
            await page.get_by_role("button", name="Add Burrata").click()
            await page.wait_for_selector("#total:not([hidden])")
            await page.locator("#allergies").fill("sesame")
            await page.wait_for_timeout(3500)  # the "added" toast goes
            path = out / "guest-page.png"
            await page.screenshot(path=str(path), full_page=True)
            _shrink(path)
            print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
        finally:
            await browser.close()


def _shrink(path: Path) -> None:
    """Quantise to a palette with pngquant when it is installed: ~150 KiB becomes ~40 KiB."""
    pngquant = shutil.which("pngquant")
    if pngquant is None:
        print("pngquant is not installed (apt-get install pngquant): keeping the full-colour PNG")
        return
    subprocess.run(  # noqa: S603 (our own file names)
        [
            pngquant,
            "--force",
            "--skip-if-larger",
            "--quality",
            "60-90",
            "--speed",
            "1",
            "--ext",
            ".png",
            str(path),
        ],
        check=False,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    asyncio.run(main(args.out, args.chromium))
