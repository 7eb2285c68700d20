"""Builders that let tests read as behaviour: a seeded venue, guests, crafted batches."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import websockets

from maitre import wire
from maitre.presence import PresenceEvent


@dataclass
class SeededGuest:
    guest_id: int
    reservation_id: int
    advertiser_id: str


def venue_payload(slug: str = "bistro") -> dict[str, Any]:
    return {"slug": slug, "name": "Le Petit Bistro"}


async def seed_venue(client: httpx.AsyncClient, slug: str = "bistro") -> int:
    r = await client.post("/api/venues", json=venue_payload(slug))
    r.raise_for_status()
    venue_id: int = r.json()["id"]
    for name, role, x, y in (("door", "door", 0.0, 4.0), ("street", "approach", 4.0, 1.5)):
        r = await client.post(
            f"/api/venues/{slug}/gateways", json={"name": name, "role": role, "x": x, "y": y}
        )
        r.raise_for_status()
    return venue_id


async def seed_guest(
    client: httpx.AsyncClient,
    venue_id: int,
    first: str,
    advertiser_id: str | None = None,
    consent: bool = True,
    reservation_in: timedelta | None = timedelta(minutes=0),
    items: tuple[str, ...] = ("Burrata",),
    allergies: tuple[str, ...] = (),
) -> SeededGuest:
    """A guest with preferences, a band and (unless reservation_in is None) a reservation."""
    advertiser_id = advertiser_id or f"band:{secrets.token_hex(8)}"
    r = await client.post(
        "/api/guests",
        json={
            "first_name": first,
            "last_name": "Test",
            "consent_greeting": consent,
            "consent_kitchen": consent,
            "consent_allergies": consent,
        },
    )
    r.raise_for_status()
    guest_id = r.json()["id"]
    r = await client.put(
        f"/api/guests/{guest_id}/preferences",
        json={"preferred_name": first, "allergies": list(allergies), "occasion": "Birthday"},
    )
    r.raise_for_status()
    # A band that advertises its fixed id: the tests publish it as a gateway would hear it.
    band = {"advertiser_id": advertiser_id, "guest_id": guest_id, "static": True}
    r = await client.post("/api/bands", json=band)
    r.raise_for_status()
    reservation_id = 0
    if reservation_in is not None:
        at = datetime.now(UTC) + reservation_in
        r = await client.post(
            "/api/reservations",
            json={"venue_id": venue_id, "guest_id": guest_id, "party_size": 2, "at": at.isoformat()},
        )
        r.raise_for_status()
        reservation_id = r.json()["id"]
        for item in items:
            r = await client.post(
                f"/api/reservations/{reservation_id}/items", json={"name": item, "quantity": 1}
            )
            r.raise_for_status()
    return SeededGuest(guest_id, reservation_id, advertiser_id)


def batch(
    gateway: str,
    seq: int,
    sightings: list[tuple[str, float]],
    venue: str = "bistro",
    boot: str = "boot-1",
    t: float | None = None,
) -> wire.SightingBatch:
    """A batch of (advertiser id, rssi) sightings stamped now (or at t)."""
    now = time.time() if t is None else t
    return wire.SightingBatch(
        v=1,
        venue=venue,
        gateway=gateway,
        boot=boot,
        seq=seq,
        sent=now,
        window=0.5,
        sightings=[wire.Sighting(id=i, rssi=r, rssi_max=r, n=5, t=now, tx=-59) for i, r in sightings],
    )


async def open_screen(
    ws_base: str, token: str, role: str = "host", venue: str = "bistro", since: int = 0
) -> tuple[websockets.ClientConnection, dict[str, Any]]:
    """A screen's websocket after its hello; returns it with the opening frame (snapshot or resume)."""
    ws = await websockets.connect(f"{ws_base}/ws/{venue}/{role}")
    await ws.send(json.dumps({"type": "hello", "token": token, "since": since}))
    opening = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert opening["type"] in ("snapshot", "resume"), opening
    return ws, opening


def presence(band: str, kind: str = "arrived", venue: str = "bistro") -> PresenceEvent:
    """A presence event stamped now, as the presence engine would emit it at the door."""
    return PresenceEvent(venue, band, kind, time.time(), "door", 1.0, 0.9)  # type: ignore[arg-type]


async def next_alerts(ws: websockets.ClientConnection, n: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The next n alert frames a screen receives (other frames skipped)."""
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while len(got) < n:
            msg = json.loads(await ws.recv())
            if msg["type"] == "alert":
                got.append(msg)
    return got


async def no_more_frames(ws: websockets.ClientConnection, wait: float = 0.5) -> None:
    """Fail if the screen receives anything within `wait` seconds."""
    try:
        async with asyncio.timeout(wait):
            msg = await ws.recv()
    except TimeoutError:
        return
    raise AssertionError(f"unexpected frame {msg!r}")


async def staff_action(
    client: httpx.AsyncClient,
    token: str,
    kind: str,
    rid: int,
    action_id: str | None = None,
    table: str | None = None,
) -> httpx.Response:
    """POST a staff action as a screen would."""
    body: dict[str, object] = {
        "action_id": action_id or secrets.token_hex(8),
        "kind": kind,
        "reservation_id": rid,
    }
    if table is not None:
        body["table"] = table
    return await client.post(
        "/api/venues/bistro/actions", json=body, headers={"Authorization": f"Bearer {token}"}
    )


@dataclass
class Booking:
    guest_id: int
    reservation_id: int
    code: str
    last_name: str
    band_label: str
    advertiser_id: str


async def seed_booking(
    staff: httpx.AsyncClient,
    venue_id: int,
    first: str,
    last: str = "Okafor",
    consents: dict[str, bool] | None = None,
    reservation_in: timedelta = timedelta(0),
    link_band: bool = False,
) -> Booking:
    """A guest as the booking system creates them (no consents unless given), a reservation, and a
    band with a printed label that (unless link_band) the guest still has to link from the phone."""
    r = await staff.post("/api/guests", json={"first_name": first, "last_name": last, **(consents or {})})
    r.raise_for_status()
    guest_id = r.json()["id"]
    label = secrets.token_hex(3).upper()
    advertiser_id = f"band:{secrets.token_hex(8)}"
    band = {
        "advertiser_id": advertiser_id,
        "label": label,
        "guest_id": guest_id if link_band else None,
        "static": True,  # the tests publish its fixed id as a gateway would hear it
    }
    (await staff.post("/api/bands", json=band)).raise_for_status()
    at = datetime.now(UTC) + reservation_in
    r = await staff.post(
        "/api/reservations",
        json={"venue_id": venue_id, "guest_id": guest_id, "party_size": 2, "at": at.isoformat()},
    )
    r.raise_for_status()
    return Booking(guest_id, r.json()["id"], r.json()["code"], last, label, advertiser_id)


async def guest_session(base: str, booking: Booking) -> httpx.AsyncClient:
    """An API client signed in as the booking's guest, the way the check-in page signs in."""
    async with httpx.AsyncClient(base_url=base) as anon:
        r = await anon.post("/api/guest/session", json={"code": booking.code, "last_name": booking.last_name})
        r.raise_for_status()
    return httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {r.json()['token']}"})
