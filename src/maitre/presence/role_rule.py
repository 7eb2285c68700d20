"""The role rule, for a venue without a floor plan: a batch at a time, each link's state in arrays.

Every gateway has a role. *door* gateways hang at the host stand; *approach* gateways outside,
on the facade; *inside* gateways deeper in the room. A band is *arrived* when, for `dwell`
seconds, it is close to a door gateway (`arrive_m`, from the filtered level and the path-loss
model) **and** the door gateways hear it at least `inside_margin_db` louder than the approach
gateways do: the facade stands between a passer-by and the door gateway, and between a guest
inside and the approach gateway, so the difference flips as a guest walks in. When no door
gateway hears the band (one died), inside gateways decide on the same rule. It is only gone
again beyond `leave_m` or clearly outside, so a guest at the edge cannot flap.

One table per venue: a row per band, a column per gateway. A batch from one gateway updates its
links' filters and ranks every band's fresh links by role with array operations; only the few
bands whose state may change (inside, going, coming closer) then take the state machine in
Python, with the same float arithmetic as the per-sighting rule it replaced, so the events are
the same (tests/presence_reference.py keeps that rule as the tests' oracle).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import cast

import numpy as np
import numpy.typing as npt

from maitre.presence.engine import (
    _LN10_OVER_10,
    APPROACH,
    DOOR,
    INSIDE,
    GatewayKey,
    PresenceConfig,
    PresenceEvent,
)
from maitre.wire import Sighting

# Link state planes: level, rate, covariance (p00, p01, p11), time of the last update (NaN: no link).
X, RATE, P00, P01, P11, LAST = range(6)
# A link heard the first time, or again after stale_s: RssiKalman's starting state, plus z and t.
_START = np.array([0.0, 0.0, 25.0, 0.0, 4.0, 0.0])[:, None]  # X and LAST are set apart
# Band state planes: last heard, arrived, approaching, inside since, outside since (NaN: not).
HEARD, ARRIVED, APPROACHING, INSIDE_SINCE, OUTSIDE_SINCE = range(5)
_NEW_BAND = (0.0, 0.0, 0.0, math.nan, math.nan)
# Arrays decide which bands may change state; Python decides exactly. Distances from numpy's
# power may differ from Python's in the last bits, so the arrays' thresholds are this much wider.
_SLACK = 1e-9
FloatArray = npt.NDArray[np.float64]


class RoleRule:
    """One venue's bands under the role rule; `observe` takes one gateway's batch."""

    def __init__(self, venue: str, roles: Mapping[GatewayKey, str], config: PresenceConfig) -> None:
        self.venue = venue
        self.roles = roles  # held by reference: the service updates it in place
        self.config = config
        self.rows: dict[str, int] = {}  # band → row
        self._bands: list[str | None] = []  # row → band (None: free)
        self._free: list[int] = []
        self.columns: dict[str, int] = {}  # gateway → column
        self._gateways: list[str] = []
        self._roles_seen: tuple[str | None, ...] | None = None
        self._masks: dict[str, npt.NDArray[np.bool_] | None] = {}
        # A band's links side by side, and each link's planes side by side: one gather per batch.
        self._links: FloatArray = np.full((64, 0, 6), math.nan)  # (row, column, plane)
        self._state: FloatArray = np.array([_NEW_BAND] * 64)  # (row, plane)

    def __len__(self) -> int:
        return len(self.rows)

    def observe(self, gateway: str, sightings: Sequence[Sighting]) -> list[PresenceEvent]:
        """Feed one gateway's sightings; the events they decide, in the order of the sightings."""
        if not sightings:
            return []
        known = list(map(self.rows.get, [s.id for s in sightings]))
        rows = self._admit(sightings, known) if None in known else cast(list[int], known)
        column = self.columns.get(gateway)
        if column is None:
            column = self._add_column(gateway)
        if len(set(rows)) == len(rows):
            return [event for _, event in self._round(gateway, column, sightings, rows)]
        # A band twice in one batch (the wire allows it): its later sightings go in later rounds,
        # so each band's sightings are still taken in order.
        found: list[tuple[int, PresenceEvent]] = []
        pending = list(range(len(rows)))
        while pending:
            first = dict(zip(reversed([rows[i] for i in pending]), reversed(pending), strict=True))
            now = sorted(first.values())
            taken = self._round(gateway, column, [sightings[i] for i in now], [rows[i] for i in now])
            found += [(now[k], event) for k, event in taken]
            pending = sorted(set(pending).difference(now))
        found.sort(key=itemgetter(0))
        return [event for _, event in found]

    def expire(self, cutoff: float) -> int:
        """Forget bands last heard before `cutoff`; how many."""
        heard = self._state[:, HEARD]
        stale = [band for band, row in self.rows.items() if heard[row] < cutoff]
        for band in stale:
            self.forget(band)
        return len(stale)

    def forget(self, band: str) -> None:
        row = self.rows.pop(band, None)
        if row is None:
            return
        self._links[row] = math.nan
        self._state[row] = _NEW_BAND
        self._bands[row] = None
        self._free.append(row)

    def _admit(self, sightings: Sequence[Sighting], rows: list[int | None]) -> list[int]:
        """Rows for bands heard the first time (or the first time since they were forgotten)."""
        admitted: list[int] = []
        for i, row in enumerate(rows):
            if row is not None:
                admitted.append(row)
                continue
            band = sightings[i].id
            row = self.rows.get(band)  # twice in this batch: admitted a moment ago
            if row is None:
                if self._free:
                    row = self._free.pop()
                    self._bands[row] = band
                else:
                    row = len(self._bands)
                    self._bands.append(band)
                    if row >= len(self._state):
                        self._grow()
                self.rows[band] = row
            admitted.append(row)
        return admitted

    def _grow(self) -> None:
        links, state = self._links, self._state
        size = len(state)
        self._links = np.full((2 * size, links.shape[1], 6), math.nan)
        self._links[:size] = links
        self._state = np.array([_NEW_BAND] * (2 * size))
        self._state[:size] = state

    def _add_column(self, gateway: str) -> int:
        links = self._links
        self._links = np.full((links.shape[0], links.shape[1] + 1, 6), math.nan)
        self._links[:, :-1] = links
        self._gateways.append(gateway)
        column = self.columns[gateway] = len(self._gateways) - 1
        return column

    def _round(
        self, gateway: str, column: int, sightings: Sequence[Sighting], row_list: list[int]
    ) -> list[tuple[int, PresenceEvent]]:
        """Sightings of distinct bands; (index, event) for those that decided one."""
        cfg = self.config
        rows = np.array(row_list, dtype=np.intp)
        t = np.array([s.t for s in sightings])
        # Level relative to the band's 1 m power, so bands of different power compare.
        power = cfg.default_power_1m
        z = np.array([s.rssi - (power if s.tx is None else s.tx) for s in sightings])
        count = np.array([s.n for s in sightings], dtype=np.float64)
        links = self._links[rows].transpose(2, 0, 1)  # every link of these bands: (plane, band, column)
        heard = links[:, :, column]
        x, rate, p00, p01, p11, last = heard
        dt = t - last
        restart = ~(dt <= cfg.stale_s)  # no link yet (NaN), or unheard too long: start afresh
        newer = dt > 0  # not newer than what we have: a late duplicate, it changes nothing
        # RssiKalman.update, term for term (the same operations in the same order: the same bits).
        q = cfg.accel_noise
        dt2 = dt * dt
        x = x + rate * dt
        p00 = p00 + dt * (2 * p01 + dt * p11) + q * dt2 * dt / 3
        p01 = p01 + dt * p11 + q * dt2 / 2
        p11 = p11 + q * dt
        s = p00 + (cfg.fading_var / np.maximum(count, 1) + cfg.floor_var)
        k0 = p00 / s
        k1 = p01 / s
        y = z - x
        x = x + k0 * y
        rate = rate + k1 * y
        p11 = p11 - k1 * p01
        p01 = (1 - k0) * p01
        p00 = (1 - k0) * p00
        n = len(t)
        updated = np.array([x, rate, p00, p01, p11, t])
        # (np.count_nonzero: ndarray.all and .any go through Python wrappers, several µs a call)
        if np.count_nonzero(newer) < n:
            updated = np.where(newer, updated, heard)
        if np.count_nonzero(restart):
            updated[:, restart] = _START
            updated[X, restart] = z[restart]
            updated[LAST, restart] = t[restart]
        heard[:] = updated
        self._links[rows, column] = updated.T
        band = self._state[rows].T  # (plane, band)
        taken = restart | newer
        self._state[rows, HEARD] = np.where(taken, np.maximum(band[HEARD], t), band[HEARD])
        if self.roles.get((self.venue, gateway)) == APPROACH:
            taken &= band[ARRIVED] != 0  # outside readings only ever hold an arrival back
        if np.count_nonzero(taken) == n:
            return self._decide(rows, t, links, band, None, sightings)
        index = taken.nonzero()[0]
        if not len(index):
            return []
        return self._decide(rows[index], t[index], links[:, index], band[:, index], index, sightings)

    def _decide(
        self,
        rows: npt.NDArray[np.intp],
        t: FloatArray,
        links: FloatArray,
        band: FloatArray,
        index: npt.NDArray[np.intp] | None,
        sightings: Sequence[Sighting],
    ) -> list[tuple[int, PresenceEvent]]:
        """The rule over every fresh link of each band; the state machine for those it may move."""
        cfg = self.config
        age = t[:, None] - links[LAST]
        fresh = age <= cfg.stale_s
        level = links[X] + links[RATE] * age
        masks = self._role_masks()
        door_level, door_col = _best(level, fresh, masks[DOOR])
        inside_level, inside_col = _best(level, fresh, masks[INSIDE])
        outside_level, _ = _best(level, fresh, masks[APPROACH])
        has_door = door_level > -np.inf
        near = (has_door | (inside_level > -np.inf)).nonzero()[0]
        if not len(near):
            return []
        has_door = has_door[near]
        near_level = np.where(has_door, door_level[near], inside_level[near])
        near_col = np.where(has_door, door_col[near], inside_col[near])
        outside = outside_level[near]
        # With no approach gateway hearing the band, the door level alone must carry the decision.
        margin = np.where(outside > -np.inf, near_level - outside, cfg.inside_margin_db)
        near_rate = links[RATE, near, near_col]
        band = band[:, near]
        d = 10.0 ** (-near_level / (10 * cfg.path_loss_exponent))
        radius = np.where(has_door, cfg.arrive_m, cfg.inside_m)
        maybe_in = (d <= radius * (1 + _SLACK)) & (margin >= cfg.inside_margin_db)
        maybe_closer = (
            (band[APPROACHING] == 0)
            & has_door
            & (d <= cfg.approach_m * (1 + _SLACK))
            & (near_rate >= cfg.approach_rate_db_s)
        )
        maybe_gone = (d >= cfg.leave_m * (1 - _SLACK)) | (margin <= -cfg.inside_margin_db)
        moving = np.where(
            band[ARRIVED] != 0,
            maybe_gone | ~np.isnan(band[OUTSIDE_SINCE]),
            maybe_in | maybe_closer | ~np.isnan(band[INSIDE_SINCE]),
        )
        which = moving.nonzero()[0]
        if not len(which):
            return []
        position = near[which] if index is None else index[near[which]]
        events = []
        for i, row, at, lvl, mrg, rt, door, col in zip(
            position.tolist(),
            rows[near[which]].tolist(),
            t[near[which]].tolist(),
            near_level[which].tolist(),
            margin[which].tolist(),
            near_rate[which].tolist(),
            has_door[which].tolist(),
            near_col[which].tolist(),
            strict=True,
        ):
            event = self._step(sightings[i].id, row, at, lvl, mrg, rt, door, self._gateways[col])
            if event is not None:
                events.append((i, event))
        return events

    def _role_masks(self) -> dict[str, npt.NDArray[np.bool_] | None]:
        """Per role, which columns are its gateways' (None: no gateway has it); cached until roles change."""
        roles = tuple(self.roles.get((self.venue, g)) for g in self._gateways)
        if roles != self._roles_seen:
            self._roles_seen = roles
            self._masks = {
                role: np.array([r == role for r in roles]) if role in roles else None
                for role in (DOOR, INSIDE, APPROACH)
            }
        return self._masks

    def _step(
        self, band: str, row: int, t: float, level: float, margin: float, rate: float, door: bool, gw: str
    ) -> PresenceEvent | None:
        """The state machine for one band and its nearest fresh link, as it ran for each sighting."""
        cfg = self.config
        state = self._state
        venue = self.venue
        d = float(10 ** ((0.0 - level) / (10 * cfg.path_loss_exponent)))
        radius = cfg.arrive_m if door else cfg.inside_m
        if not state[row, ARRIVED]:
            if d <= radius and margin >= cfg.inside_margin_db:
                since = float(state[row, INSIDE_SINCE])
                if math.isnan(since):
                    since = state[row, INSIDE_SINCE] = t
                if t - since >= cfg.dwell:
                    state[row, ARRIVED] = 1.0
                    state[row, OUTSIDE_SINCE] = math.nan
                    confidence = _confidence(cfg, d, radius, margin)
                    return PresenceEvent(venue, band, "arrived", t, gw, round(d, 2), confidence)
                return None
            state[row, INSIDE_SINCE] = math.nan
            if state[row, APPROACHING] or not door:
                return None
            if d > cfg.approach_m or rate < cfg.approach_rate_db_s:
                return None
            # Level rising at r dB/s means distance shrinking at d·ln10·r/(10·n) m/s, so the time to
            # reach the door is 10·n / (ln10 · r) seconds, whatever the distance.
            eta = min(60.0, cfg.path_loss_exponent / (_LN10_OVER_10 * rate))
            state[row, APPROACHING] = 1.0
            confidence = round(min(1.0, rate / (3 * cfg.approach_rate_db_s)), 2)
            return PresenceEvent(venue, band, "approaching", t, gw, round(d, 2), confidence, round(eta, 1))
        if d >= cfg.leave_m or margin <= -cfg.inside_margin_db:
            since = float(state[row, OUTSIDE_SINCE])
            if math.isnan(since):
                since = state[row, OUTSIDE_SINCE] = t
            if t - since >= cfg.leave_s:
                state[row, ARRIVED] = state[row, APPROACHING] = 0.0
                state[row, INSIDE_SINCE] = math.nan
                return PresenceEvent(venue, band, "left", t, gw, round(d, 2), 0.6)
            return None
        state[row, OUTSIDE_SINCE] = math.nan
        return None


def _best(
    level: FloatArray, fresh: npt.NDArray[np.bool_], of_role: npt.NDArray[np.bool_] | None
) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """Per band, the loudest fresh link of the role's gateways (-inf: none) and its column.

    The first column wins a tie, where one sighting at a time the first link heard won: the
    same unless two gateways of one role report exactly the same level.
    """
    if of_role is None:
        return np.full(len(level), -np.inf), np.zeros(len(level), dtype=np.intp)
    ranked = np.where(fresh & of_role, level, -np.inf)
    return np.maximum.reduce(ranked, axis=1), ranked.argmax(axis=1)


def _confidence(cfg: PresenceConfig, d: float, radius: float, margin: float) -> float:
    """Higher the deeper inside the radius and the clearer the inside/outside margin."""
    depth = (radius - d) / radius
    clarity = (margin - cfg.inside_margin_db) / 12.0
    return round(max(0.5, min(1.0, 0.5 + 0.25 * depth + 0.25 * clarity)), 2)
