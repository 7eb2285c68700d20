"""Offer rules per venue, from a TOML file a manager can read and edit (docs/explain/privacy.md).

```toml
[bistro]
[[bistro.offers]]
id = "birthday-dessert"
when = ["celebrating"]                  # every tag listed must be on the guest
text = "Dessert on the house for the celebration"
followup = "Happy birthday again — your next dessert is on us"   # optional, for the CSV export
```
Offers are shown and exported only for guests who consented to marketing.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

KNOWN_TAGS = frozenset({"first_visit", "regular", "vip", "celebrating"})


@dataclass(frozen=True, slots=True)
class Offer:
    id: str
    when: frozenset[str]
    text: str
    followup: str | None = None


class OfferRules:
    """Venue slug → its offers, in file order; the first that fits a guest is theirs."""

    __slots__ = ("_by_venue",)

    def __init__(self, by_venue: dict[str, list[Offer]] | None = None) -> None:
        self._by_venue = by_venue or {}

    def offer_for(self, venue: str, tags: list[str]) -> Offer | None:
        have = set(tags)
        return next((o for o in self._by_venue.get(venue, []) if o.when <= have), None)


def load_offer_rules(path: Path | None) -> OfferRules:
    """Parse the rules file; a mistake in it stops the start with a message that says where."""
    if path is None:
        return OfferRules()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    by_venue: dict[str, list[Offer]] = {}
    for venue, section in data.items():
        if not isinstance(section, dict) or not isinstance(section.get("offers", []), list):
            raise ValueError(f"{path}: [{venue}] must hold an array of [[{venue}.offers]]")
        offers = []
        for n, raw in enumerate(section.get("offers", []), 1):
            where = f"{path}: {venue} offer {n}"
            if (
                not isinstance(raw, dict)
                or not isinstance(raw.get("id"), str)
                or not isinstance(raw.get("text"), str)
            ):
                raise ValueError(f"{where}: needs an id and a text")
            when = raw.get("when", [])
            if not isinstance(when, list) or not set(when) <= KNOWN_TAGS:
                raise ValueError(f"{where}: when must list tags among {sorted(KNOWN_TAGS)}")
            followup = raw.get("followup")
            offers.append(
                Offer(
                    raw["id"], frozenset(when), raw["text"], followup if isinstance(followup, str) else None
                )
            )
        by_venue[venue] = offers
    return OfferRules(by_venue)
