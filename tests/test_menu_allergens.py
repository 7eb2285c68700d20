"""Menu allergens: the 14 EU codes on dishes, and a guest's allergies checked against what they ordered."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from maitre.hospitality.allergens import EU_ALLERGENS, Dish, UnknownAllergen, check_codes, codes_in, warnings
from tests.conftest import live_service
from tests.factories import guest_session, seed_booking, seed_venue


def test_the_fourteen_eu_allergens_are_defined_once_with_labels() -> None:
    assert len(EU_ALLERGENS) == 14
    assert EU_ALLERGENS["peanuts"] == "Peanuts"
    assert all(label for label in EU_ALLERGENS.values())


def test_codes_are_normalised_and_an_unknown_one_is_named_in_the_refusal() -> None:
    assert check_codes(["Milk", "peanuts", "milk"]) == ["peanuts", "milk"]
    with pytest.raises(UnknownAllergen, match=r"'kiwi' is not an EU allergen code; use one of: gluten"):
        check_codes(["milk", "kiwi"])


@pytest.mark.parametrize(
    ("allergy", "codes"),
    [
        ("peanut", {"peanuts"}),
        ("Peanuts", {"peanuts"}),
        ("shellfish", {"crustaceans", "molluscs"}),
        ("tree nuts", {"nuts"}),
        ("coeliac", {"gluten"}),
        ("fish", {"fish"}),
        ("kiwi", set()),
    ],
)
def test_free_text_allergies_map_to_codes(allergy: str, codes: set[str]) -> None:
    assert codes_in(allergy) == codes


def test_whole_words_only_so_peanut_is_not_a_tree_nut_and_shellfish_not_fish() -> None:
    assert codes_in("Peanut satay skewers") == {"peanuts"}
    assert "nuts" not in codes_in("nutmeg and coconut")
    assert "fish" not in codes_in("shellfish bisque")


def test_a_peanut_allergy_warns_of_satay_and_a_shellfish_one_of_a_dish_described_with_it() -> None:
    dishes = [
        Dish("Peanut satay skewers"),
        Dish("Seafood linguine", "with shellfish and lemon"),
        Dish("Green salad", "", ()),
        Dish("Chef's special", "", ("molluscs",)),
    ]
    found = warnings(["peanut", "shellfish"], dishes)
    assert [(w["item"], w["allergy"], w["allergens"]) for w in found] == [
        ("Peanut satay skewers", "peanut", ["peanuts"]),
        ("Seafood linguine", "shellfish", ["crustaceans", "molluscs"]),
        ("Chef's special", "shellfish", ["molluscs"]),
    ]


def test_an_allergy_with_no_code_still_warns_when_the_dish_names_it() -> None:
    found = warnings(["kiwi"], [Dish("Kiwi pavlova"), Dish("Burrata")])
    assert [(w["item"], w["allergens"]) for w in found] == [("Kiwi pavlova", [])]


async def test_menu_api_refuses_an_unknown_allergen_code_and_keeps_the_menu(engine: Engine) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        await seed_venue(staff)
        good = await staff.post(
            "/api/venues/bistro/menu",
            json={"name": "Satay", "allergens": ["Peanuts", "soya"], "course": "starter"},
        )
        assert good.status_code == 201, good.text
        assert good.json()["allergens"] == ["peanuts", "soya"]
        assert good.json()["course"] == "starter"

        bad = await staff.post("/api/venues/bistro/menu", json={"name": "Pavlova", "allergens": ["kiwi"]})
        assert bad.status_code == 422
        (error,) = bad.json()["detail"]
        assert error["msg"].startswith("'kiwi' is not an EU allergen code; use one of: gluten, crustaceans")
        changed = await staff.put(
            f"/api/venues/bistro/menu/{good.json()['id']}", json={"name": "Satay", "allergens": ["nut"]}
        )
        assert changed.status_code == 422
        assert "'nut' is not an EU allergen code" in changed.json()["detail"][0]["msg"]

        menu = (await staff.get("/api/venues/bistro/menu")).json()
        assert [(d["name"], d["allergens"]) for d in menu] == [("Satay", ["peanuts", "soya"])]


async def test_guest_sees_a_warning_when_a_pre_ordered_dish_clashes_with_their_allergy(
    engine: Engine,
) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        venue_id = await seed_venue(staff)
        booking = await seed_booking(staff, venue_id, "Ngozi", "Okafor")
        satay = (
            await staff.post(
                "/api/venues/bistro/menu", json={"name": "Peanut satay skewers", "prep_minutes": 8}
            )
        ).json()
        linguine = (
            await staff.post(
                "/api/venues/bistro/menu",
                json={"name": "Seafood linguine", "description": "Linguine with shellfish, chilli and lemon"},
            )
        ).json()
        async with await guest_session(live.base, booking) as phone:
            r = await phone.put("/api/guest/me/preferences", json={"allergies": ["peanut", "shellfish"]})
            assert r.status_code == 200
            for dish in (satay, linguine):
                assert (
                    await phone.post("/api/guest/me/items", json={"menu_item_id": dish["id"]})
                ).status_code == 201
            me = (await phone.get("/api/guest/me")).json()
        assert [(w["item"], w["allergy"], w["labels"]) for w in me["allergen_warnings"]] == [
            ("Peanut satay skewers", "peanut", ["Peanuts"]),
            ("Seafood linguine", "shellfish", ["Crustaceans", "Molluscs"]),
        ]


@pytest.mark.parametrize(
    ("quantity", "says"),
    [(0, "order at least 1; to remove a dish, cancel it instead"), (10_000, "at most 20 of one dish")],
)
async def test_a_pre_order_of_zero_or_ten_thousand_is_refused_clearly_and_the_order_kept(
    engine: Engine, quantity: int, says: str
) -> None:
    async with live_service(engine, None) as live, live.client() as staff:
        venue_id = await seed_venue(staff)
        booking = await seed_booking(staff, venue_id, "Ngozi", "Okafor")
        dish = (await staff.post("/api/venues/bistro/menu", json={"name": "Burrata"})).json()
        async with await guest_session(live.base, booking) as phone:
            assert (
                await phone.post("/api/guest/me/items", json={"menu_item_id": dish["id"]})
            ).status_code == 201
            r = await phone.post(
                "/api/guest/me/items", json={"menu_item_id": dish["id"], "quantity": quantity}
            )
            assert r.status_code == 422
            assert r.json()["detail"] == "Choose from 1 to 20 of a dish."  # one sentence for the phone
            assert [
                (i["name"], i["quantity"]) for i in (await phone.get("/api/guest/me")).json()["items"]
            ] == [("Burrata", 1)]
        # The staff route (the booking system's) refuses the same, with its own ceiling.
        r = await staff.post(
            f"/api/reservations/{booking.reservation_id}/items",
            json={"name": "Burrata", "quantity": quantity},
        )
        assert r.status_code == 422
        assert r.json()["detail"][0]["msg"].startswith(says.replace("20", "100"))


def test_the_allergen_reference_lists_every_code_with_its_label() -> None:
    page = (Path(__file__).resolve().parent.parent / "docs/reference/allergens.md").read_text(
        encoding="utf-8"
    )
    for code, label in EU_ALLERGENS.items():
        assert f"| `{code}` | {label} |" in page
