"""The role rule's per-batch loop, compiled: link filters updated, then which bands may change state.

One pass over one gateway's batch (distinct bands): each sighting's link filter is started or
updated exactly as `RssiKalman` does it (the same operations in the same order, so the same
bits), then each band's fresh links are ranked by role and the few bands whose state may move
are written out for the state machine in Python (role_rule.RoleRule._step). Numba compiles it
once per machine and caches the result beside this file (or in the user's cache directory).
"""

from __future__ import annotations

import math

import numba

from maitre.compiled import unchecked

# Link planes and band planes, as role_rule.py lays them out.
X, RATE, P00, P01, P11, LAST = range(6)
HEARD, ARRIVED, APPROACHING, INSIDE_SINCE, OUTSIDE_SINCE = range(5)
# Column roles.
NO_ROLE, DOOR_ROLE, INSIDE_ROLE, APPROACH_ROLE = range(4)
# Scalar settings, in this order, in the `cfg` array.
(
    STALE_S,
    ACCEL_NOISE,
    FADING_VAR,
    FLOOR_VAR,
    PATH_LOSS_EXPONENT,
    ARRIVE_M,
    INSIDE_M,
    APPROACH_M,
    LEAVE_M,
    INSIDE_MARGIN_DB,
    APPROACH_RATE_DB_S,
    SLACK,
) = range(12)
# What the kernel writes per candidate, beside its position in the batch.
OUT_LEVEL, OUT_MARGIN, OUT_RATE, OUT_DOOR, OUT_COLUMN = range(5)

_SIGNATURE = numba.int64(
    numba.float64[:, :, ::1],  # links (row, column, plane)
    numba.float64[:, ::1],  # band state (row, plane)
    numba.intp[::1],  # rows, distinct
    numba.float64[::1],  # t
    numba.float64[::1],  # z: level relative to the 1 m power
    numba.float64[::1],  # packets summarised
    numba.int64,  # the batch's gateway column
    numba.int8[::1],  # role of each column
    numba.float64[::1],  # cfg
    numba.int64[::1],  # out: position in the batch of each candidate
    numba.float64[:, ::1],  # out: level, margin, rate, door, column of each candidate
)


@numba.njit(_SIGNATURE, cache=True)
def observe_round(links, state, rows, t, z, count, column, roles, cfg, out_index, out_values):  # type: ignore[no-untyped-def]
    """Update the batch's links and return how many bands may change state (written to out_*)."""
    stale = cfg[STALE_S]
    q = cfg[ACCEL_NOISE]
    approach_gateway = roles[column] == APPROACH_ROLE
    found = 0
    for i in range(rows.shape[0]):
        row = rows[i]
        ti = t[i]
        link = links[row, column]
        dt = ti - link[LAST]
        restart = not (dt <= stale)  # no link yet (NaN), or unheard too long: start afresh
        newer = dt > 0  # not newer than what we have: a late duplicate, it changes nothing
        if restart:
            link[X] = z[i]
            link[RATE] = 0.0
            link[P00] = 25.0
            link[P01] = 0.0
            link[P11] = 4.0
            link[LAST] = ti
        elif newer:
            # RssiKalman.update, term for term.
            x, rate, p00, p01, p11 = link[X], link[RATE], link[P00], link[P01], link[P11]
            dt2 = dt * dt
            x = x + rate * dt
            p00 = p00 + dt * (2 * p01 + dt * p11) + q * dt2 * dt / 3
            p01 = p01 + dt * p11 + q * dt2 / 2
            p11 = p11 + q * dt
            s = p00 + (cfg[FADING_VAR] / max(count[i], 1.0) + cfg[FLOOR_VAR])
            k0 = p00 / s
            k1 = p01 / s
            y = z[i] - x
            link[X] = x + k0 * y
            link[RATE] = rate + k1 * y
            link[P11] = p11 - k1 * p01
            link[P01] = (1 - k0) * p01
            link[P00] = (1 - k0) * p00
            link[LAST] = ti
        else:
            continue
        band = state[row]
        band[HEARD] = max(band[HEARD], ti)
        arrived = band[ARRIVED] != 0
        if approach_gateway and not arrived:
            continue  # outside readings only ever hold an arrival back
        # Per role, the loudest fresh link (the first column wins a tie).
        door = inside = outside = -math.inf
        door_col = inside_col = 0
        for c in range(links.shape[1]):
            role = roles[c]
            if role == NO_ROLE:
                continue
            other = links[row, c]
            age = ti - other[LAST]
            if not age <= stale:
                continue
            level = other[X] + other[RATE] * age
            if role == DOOR_ROLE:
                if level > door:
                    door, door_col = level, c
            elif role == INSIDE_ROLE:
                if level > inside:
                    inside, inside_col = level, c
            elif level > outside:
                outside = level
        has_door = door > -math.inf
        if not has_door and not inside > -math.inf:
            continue
        near = door if has_door else inside
        near_col = door_col if has_door else inside_col
        # With no approach gateway hearing the band, the door level alone must carry the decision.
        margin = near - outside if outside > -math.inf else cfg[INSIDE_MARGIN_DB]
        near_rate = links[row, near_col, RATE]
        d = 10.0 ** (-near / (10 * cfg[PATH_LOSS_EXPONENT]))
        slack = cfg[SLACK]
        if arrived:
            moving = (
                d >= cfg[LEAVE_M] * (1 - slack)
                or margin <= -cfg[INSIDE_MARGIN_DB]
                or not math.isnan(band[OUTSIDE_SINCE])
            )
        else:
            radius = cfg[ARRIVE_M] if has_door else cfg[INSIDE_M]
            moving = (
                (d <= radius * (1 + slack) and margin >= cfg[INSIDE_MARGIN_DB])
                or (
                    band[APPROACHING] == 0
                    and has_door
                    and d <= cfg[APPROACH_M] * (1 + slack)
                    and near_rate >= cfg[APPROACH_RATE_DB_S]
                )
                or not math.isnan(band[INSIDE_SINCE])
            )
        if moving:
            out_index[found] = i
            values = out_values[found]
            values[OUT_LEVEL] = near
            values[OUT_MARGIN] = margin
            values[OUT_RATE] = near_rate
            values[OUT_DOOR] = 1.0 if has_door else 0.0
            values[OUT_COLUMN] = near_col
            found += 1
    return found


@numba.njit(
    numba.int64(numba.intp[::1], numba.uint64[::1], numba.uint64[::1], numba.boolean[::1]), cache=True
)
def keep_keyed(rows, keys, row_key, row_keyed):  # type: ignore[no-untyped-def]
    """rows[i] = -1 where that row no longer holds keys[i] (freed, perhaps reused); how many still do."""
    held = 0
    for i in range(rows.shape[0]):
        row = rows[i]
        if row >= 0 and row_keyed[row] and row_key[row] == keys[i]:
            held += 1
        else:
            rows[i] = -1
    return held


@numba.njit(
    numba.int64(numba.intp[::1], numba.int64[::1], numba.int64[::1], numba.int64, numba.int64[::1]),
    cache=True,
)
def occurrences(rows, mark, seen, stamp, out):  # type: ignore[no-untyped-def]
    """out[i]: how many times rows[i] came earlier in the batch; returns the most (0: all distinct).

    `mark` and `seen` have a slot per row; `mark` must hold no `stamp` yet.
    """
    most = 0
    for i in range(rows.shape[0]):
        row = rows[i]
        if mark[row] == stamp:
            seen[row] += 1
            out[i] = seen[row]
            most = max(most, seen[row])
        else:
            mark[row] = stamp
            seen[row] = 0
            out[i] = 0
    return most


observe_round_unchecked = unchecked(observe_round)
# For callers whose arrays are made to the signature on the spot.
keep_keyed_unchecked = unchecked(keep_keyed)
occurrences_unchecked = unchecked(occurrences)
