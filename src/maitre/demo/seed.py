"""Demo data: a bistro, its gateways and tonight's guests, written through the same models as the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import msgspec
from sqlalchemy.engine import Engine

from maitre.db import session_scope
from maitre.models import (
    Band,
    Gateway,
    GatewayRole,
    Guest,
    MenuItem,
    Preference,
    PreOrderItem,
    Reservation,
    Venue,
    Zone,
    ZoneKind,
    row_id,
    utcnow,
)
from maitre.sim.band import BandFirmware
from maitre.sim.venue import Layout, presence_model


@dataclass(frozen=True)
class DemoGuest:
    first: str
    last: str
    party: int
    preferred: str | None = None
    pronunciation: str | None = None
    occasion: str | None = None
    allergies: tuple[str, ...] = ()
    dietary: tuple[str, ...] = ()
    items: tuple[tuple[str, int, int], ...] = ()  # (name, quantity, prep minutes)
    consent: bool = True


DEMO_GUESTS = (
    DemoGuest(
        "Sarah",
        "Chen",
        2,
        occasion="Anniversary",
        allergies=("peanuts",),
        items=(("Burrata", 1, 6), ("Duck confit", 2, 18)),
    ),
    DemoGuest(
        "Siobhán",
        "O'Neill",
        4,
        pronunciation="shi-VAWN",
        occasion="Birthday",
        items=(("Sourdough & butter", 2, 3),),
    ),
    DemoGuest(
        "Tomás",
        "Alvarez",
        3,
        preferred="Tom",
        dietary=("vegetarian",),
        allergies=("shellfish",),
        items=(("Mushroom risotto", 1, 20), ("Tarte tatin", 3, 12)),
    ),
    DemoGuest("Aiko", "Tanaka", 2, dietary=("gluten-free",)),
    DemoGuest("Ngozi", "Okafor", 6, occasion="Promotion", items=(("Sharing platter", 2, 15),)),
    # Has a reservation and a band but never agreed to be recognised: must never be greeted.
    DemoGuest("Lars", "Nilsson", 2, consent=False, items=(("Steak frites", 2, 16),)),
)


def seed_venue(engine: Engine, layout: Layout, name: str = "Le Petit Bistro", plan: bool = True) -> int:
    """Create the venue, its zones and gateways from the layout; returns the venue id.

    With plan=False the venue gets no floor plan, and presence uses the gateways' roles alone."""
    with session_scope(engine) as session:
        model = presence_model(layout)
        floor_plan = {"walls": msgspec.to_builtins(model.walls), "inside": model.inside, "door": model.door}
        venue = Venue(
            slug=layout.venue, name=name, layout={**floor_plan, "bounds": model.bounds} if plan else None
        )
        session.add(venue)
        session.flush()
        venue_id = row_id(venue)
        zones: dict[str, Zone] = {}
        for z in layout.zones:
            zone = Zone(venue_id=venue_id, name=z.name, kind=ZoneKind(z.kind))
            session.add(zone)
            zones[z.kind] = zone
        session.flush()
        for g in layout.gateways:
            placed = zones.get({"door": "door", "inside": "dining"}.get(g.role, "approach"))
            session.add(
                Gateway(
                    venue_id=venue_id,
                    name=g.name,
                    role=GatewayRole(g.role),
                    x=g.x,
                    y=g.y,
                    zone_id=row_id(placed) if placed else None,
                )
            )
        return venue_id


# The bistro's menu: (name, description, prep minutes, price in cents). Pre-orders are priced from it.
DEMO_MENU = (
    ("Sourdough & butter", "Warm loaf, cultured butter", 3, 600),
    ("Burrata", "Tomatoes, basil, olive oil", 6, 1400),
    ("Sharing platter", "Charcuterie, cheeses, pickles", 15, 2600),
    ("Duck confit", "Lentils, cherry jus", 18, 2600),
    ("Mushroom risotto", "Wild mushrooms, parmesan", 20, 2100),
    ("Steak frites", "Bavette, béarnaise, fries", 16, 2800),
    ("Tarte tatin", "Crème fraîche", 12, 900),
)


def seed_menu(engine: Engine, venue_id: int) -> None:
    """Put the bistro's dishes on its menu, for the guest page's pre-order."""
    with session_scope(engine) as session:
        for name, description, prep, price in DEMO_MENU:
            session.add(
                MenuItem(
                    venue_id=venue_id,
                    name=name,
                    description=description,
                    prep_minutes=prep,
                    price_cents=price,
                )
            )


_PRICES = {name: price for name, _, _, price in DEMO_MENU}


def seed_guest(
    engine: Engine, venue_id: int, guest: DemoGuest, band: BandFirmware, at_offset: timedelta
) -> tuple[int, str]:
    """Create a guest with preferences, a band and a reservation at now + at_offset.

    Returns the guest's id and the reservation's check-in code."""
    with session_scope(engine) as session:
        row = Guest(
            first_name=guest.first,
            last_name=guest.last,
            consent_greeting=guest.consent,
            consent_kitchen=guest.consent,
            consent_allergies=guest.consent,
        )
        session.add(row)
        session.flush()
        guest_id = row_id(row)
        session.add(
            Preference(
                guest_id=guest_id,
                preferred_name=guest.preferred,
                pronunciation=guest.pronunciation,
                occasion=guest.occasion,
                allergies=list(guest.allergies),
                dietary=list(guest.dietary),
            )
        )
        rot = band.rotation
        session.add(
            Band(
                advertiser_id=band.advertiser_id,
                guest_id=guest_id,
                label=band.advertiser_id[-6:].upper(),
                identity_key=rot.identity_key.hex() if rot else None,
                rotation_exponent=rot.exponent if rot else None,
                eid_epoch=datetime.fromtimestamp(rot.epoch, UTC) if rot else None,
            )
        )
        reservation = Reservation(
            venue_id=venue_id, guest_id=guest_id, party_size=guest.party, at=utcnow() + at_offset
        )
        session.add(reservation)
        session.flush()
        for name, quantity, prep in guest.items:
            session.add(
                PreOrderItem(
                    reservation_id=row_id(reservation),
                    name=name,
                    quantity=quantity,
                    prep_minutes=prep,
                    price_cents=_PRICES.get(name, 0),
                )
            )
        return guest_id, reservation.code
