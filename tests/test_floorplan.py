"""A venue's plan, checked before the engine relies on it: refused with the reason, or warned about."""

from __future__ import annotations

import numpy as np

from maitre.floorplan import VenueModel, WallSpec, check_plan, default_bounds
from maitre.presence.grid import VenueGrid

FACADE = [WallSpec(-8, 2, -0.75, 2), WallSpec(0.75, 2, 8, 2)]
GATEWAYS = {"door": (0.7, 3.5), "street": (1.3, 1.0), "dining": (0.0, 9.0)}


def plan(**changes: object) -> VenueModel:
    fields: dict[str, object] = {
        "gateways": GATEWAYS,
        "walls": FACADE,
        "inside": [(-8.0, 2.0, 8.0, 14.0)],
        "door": (0.0, 2.0),
    }
    fields.update(changes)
    return VenueModel(**fields)  # type: ignore[arg-type]


def test_an_ordinary_plan_passes_without_a_word() -> None:
    check = check_plan(plan(), {"door": "door", "street": "approach", "dining": "inside"})
    assert check.errors == [] and check.warnings == []


def test_an_inside_area_that_does_not_start_at_the_door_is_refused() -> None:
    check = check_plan(plan(inside=[(-8.0, 4.0, 8.0, 14.0)]))
    assert len(check.errors) == 1
    assert "which side of the door" in check.errors[0] and "door test is off" in check.errors[0]


def test_gateways_or_rooms_outside_the_bounds_are_refused() -> None:
    check = check_plan(plan(bounds=(-5.0, -5.0, 5.0, 8.0)))
    assert any("dining lie outside the bounds" in e for e in check.errors)
    assert any("inside area" in e and "reaches past the bounds" in e for e in check.errors)


def test_a_gateway_over_the_door_is_named_in_a_warning() -> None:
    check = check_plan(plan(gateways={**GATEWAYS, "lintel": (0.0, 1.9)}))
    assert check.errors == []
    assert any("lintel" in w and "over the door" in w for w in check.warnings)


def test_a_door_away_from_the_facade_and_gateways_only_inside_are_warned_about() -> None:
    check = check_plan(
        plan(walls=[WallSpec(-8, 6, 8, 6)], gateways={"door": (0.7, 3.5), "dining": (0.0, 9.0)})
    )
    assert any("from every wall" in w for w in check.warnings)
    assert any("every gateway hangs inside" in w for w in check.warnings)


def test_the_default_area_covers_the_whole_room_not_just_the_gateways() -> None:
    model = plan(inside=[(-3.0, 2.0, 3.0, 30.0)])
    _, y0, _, y1 = default_bounds(model)
    assert y1 >= 30.0 and y0 <= 1.0
    grid = VenueGrid(model, 2.2, 8.0)
    assert grid.ys.max() > 29.0  # the far end of the room is on the grid


def test_a_gateway_hung_high_is_expected_quieter_nearby_and_the_same_far_away() -> None:
    from maitre.presence.grid import expected_levels

    low, high = plan(), plan(heights={"door": 2.8})
    near, far = (np.array([0.7]), np.array([3.6])), (np.array([0.7]), np.array([30.0]))
    assert expected_levels(high, 2.2, "door", *near)[0] < expected_levels(low, 2.2, "door", *near)[0] - 10
    assert abs(expected_levels(high, 2.2, "door", *far)[0] - expected_levels(low, 2.2, "door", *far)[0]) < 0.1


def test_the_door_test_walks_guests_to_the_plans_host_stand() -> None:
    from maitre.floorplan import host_stand_depth, inward
    from maitre.presence.door_test import DoorTest

    deep = plan(host_stand=(0.5, 5.0))
    assert host_stand_depth(deep) == 3.0 and host_stand_depth(plan()) == 1.0
    near, far = DoorTest(plan(), inward(plan()), 2.2, 8.0), DoorTest(deep, inward(deep), 2.2, 8.0)
    # "walked in" ends at the stand: the last expected level at the door gateway differs.
    assert not np.allclose(near.mu1, far.mu1)
    assert np.allclose(near.mu0, far.mu0)  # still outside is the same either way


def test_a_host_stand_outside_or_heights_of_unknown_gateways_are_reported() -> None:
    check = check_plan(plan(host_stand=(0.0, 1.0), heights={"nowhere": 2.0}))
    assert any("host stand" in e for e in check.errors)
    assert any("nowhere" in w for w in check.warnings)
