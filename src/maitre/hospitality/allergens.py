"""The 14 allergens EU law makes a venue declare, and matching a guest's allergies against dishes.

A dish declares allergen codes (MenuItem.allergens). A guest types allergies as free text
("peanut", "shellfish", "kiwi"). Both sides are read through a keyword list to codes; a dish's
name and description are scanned the same way, so an undeclared "satay" still warns. Matching
errs towards warning: a false alarm costs a question to the guest, a miss costs a hospital visit.
Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Regulation (EU) No 1169/2011, Annex II, in its order: code → the label staff and guests read.
EU_ALLERGENS: dict[str, str] = {
    "gluten": "Cereals with gluten",
    "crustaceans": "Crustaceans",
    "eggs": "Eggs",
    "fish": "Fish",
    "peanuts": "Peanuts",
    "soya": "Soya",
    "milk": "Milk",
    "nuts": "Tree nuts",
    "celery": "Celery",
    "mustard": "Mustard",
    "sesame": "Sesame",
    "sulphites": "Sulphites",
    "lupin": "Lupin",
    "molluscs": "Molluscs",
}

# Words that mean an allergen, in a guest's allergy or a dish's name and description. Whole words
# only, so "nut" does not match "peanut", "nutmeg" or "coconut". Plural -s/-es is allowed for all.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "gluten": (
        "gluten",
        "wheat",
        "barley",
        "rye",
        "spelt",
        "kamut",
        "coeliac",
        "celiac",
        "flour",
        "bread",
        "sourdough",
        "pasta",
        "couscous",
        "semolina",
        "breadcrumb",
        "brioche",
        "pastry",
    ),
    "crustaceans": (
        "crustacean",
        "shellfish",
        "shrimp",
        "prawn",
        "crab",
        "lobster",
        "crayfish",
        "langoustine",
        "scampi",
    ),
    "eggs": ("egg", "mayonnaise", "mayo", "aioli", "meringue", "hollandaise"),
    "fish": (
        "fish",
        "anchovy",
        "anchovies",
        "salmon",
        "tuna",
        "cod",
        "sardine",
        "haddock",
        "mackerel",
        "trout",
        "sea bass",
        "hake",
        "halibut",
    ),
    "peanuts": ("peanut", "groundnut", "satay", "arachis"),
    "soya": ("soy", "soya", "soybean", "tofu", "edamame", "miso", "tempeh"),
    "milk": (
        "milk",
        "dairy",
        "lactose",
        "cheese",
        "butter",
        "cream",
        "yoghurt",
        "yogurt",
        "parmesan",
        "burrata",
        "mozzarella",
        "ghee",
    ),
    "nuts": (
        "nut",
        "tree nut",
        "almond",
        "hazelnut",
        "walnut",
        "cashew",
        "pecan",
        "pistachio",
        "macadamia",
        "brazil nut",
        "praline",
        "marzipan",
    ),
    "celery": ("celery", "celeriac"),
    "mustard": ("mustard", "dijon"),
    "sesame": ("sesame", "tahini", "hummus"),
    "sulphites": ("sulphite", "sulfite", "sulphur dioxide", "sulfur dioxide"),
    "lupin": ("lupin", "lupine"),
    "molluscs": (
        "mollusc",
        "mollusk",
        "shellfish",
        "mussel",
        "oyster",
        "clam",
        "scallop",
        "squid",
        "octopus",
        "snail",
        "escargot",
        "calamari",
        "cuttlefish",
        "whelk",
    ),
}

_PATTERNS = {
    code: re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")(?:e?s)?\b", re.IGNORECASE)
    for code, words in KEYWORDS.items()
}
_WORD = re.compile(r"[^\W\d_]{3,}")


class UnknownAllergen(ValueError):
    """A code that is not one of the 14; str() lists the ones there are."""

    def __init__(self, code: str) -> None:
        super().__init__(f"{code!r} is not an EU allergen code; use one of: {', '.join(EU_ALLERGENS)}")
        self.code = code


def check_codes(codes: Iterable[str]) -> list[str]:
    """The codes, lower-cased and without repeats, in the law's order; UnknownAllergen for any other."""
    wanted = {c.strip().lower() for c in codes}
    for code in sorted(wanted):
        if code not in EU_ALLERGENS:
            raise UnknownAllergen(code)
    return [c for c in EU_ALLERGENS if c in wanted]


def codes_in(text: str) -> set[str]:
    """The allergen codes a piece of free text names (a guest's allergy, a dish's description)."""
    found = {code for code, pattern in _PATTERNS.items() if pattern.search(text)}
    found.update(c for c in EU_ALLERGENS if c == text.strip().lower())
    return found


@dataclass(frozen=True, slots=True)
class Dish:
    """What is known of an ordered dish: its name, and the menu's description and declared codes."""

    name: str
    description: str = ""
    declared: tuple[str, ...] = ()

    def codes(self) -> set[str]:
        return set(self.declared) | codes_in(f"{self.name} {self.description}")

    def mentions(self, allergy: str) -> bool:
        """Whether the dish's words name the allergy itself ("kiwi" in "Kiwi pavlova")."""
        words = set(_WORD.findall(f"{self.name} {self.description}".casefold()))
        wanted = _WORD.findall(allergy.casefold())
        return bool(wanted) and all(w in words or w.rstrip("s") in words for w in wanted)


def warnings(allergies: Iterable[str], dishes: Iterable[Dish]) -> list[dict[str, object]]:
    """One warning per (dish, allergy) that clash: the dish, the guest's words, the codes in common."""
    found: list[dict[str, object]] = []
    dishes = list(dishes)
    for allergy in allergies:
        wanted = codes_in(allergy)
        for dish in dishes:
            common = [c for c in EU_ALLERGENS if c in wanted & dish.codes()]
            if common or dish.mentions(allergy):
                found.append(
                    {
                        "item": dish.name,
                        "allergy": allergy,
                        "allergens": common,
                        "labels": [EU_ALLERGENS[c] for c in common],
                    }
                )
    return found
