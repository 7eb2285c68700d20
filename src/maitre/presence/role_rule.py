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
links' filters and ranks every band's fresh links by role in one compiled pass (role_kernel.py);
only the few bands whose state may change (inside, going, coming closer) then take the state
machine in Python, with the same float arithmetic as the per-sighting rule it replaced, so the
events are the same (tests/presence_reference.py keeps that rule as the tests' oracle).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import cast

import numpy as np
import numpy.typing as npt

from maitre.presence import role_kernel
from maitre.presence.config import APPROACH, DOOR, INSIDE, PresenceConfig
from maitre.presence.events import GatewayKey, PresenceEvent
from maitre.presence.key_index import KeyIndex
from maitre.presence.link import LN10_OVER_10, FloatArray
from maitre.presence.role_kernel import APPROACHING, ARRIVED, HEARD, INSIDE_SINCE, OUTSIDE_SINCE
from maitre.wire import Sighting

# Link state planes: level, rate, covariance (p00, p01, p11), time of the last update (NaN: no link).
# Band state planes: last heard, arrived, approaching, inside since, outside since (NaN: not).
_NEW_BAND = (0.0, 0.0, 0.0, math.nan, math.nan)
_ROLE_CODES = {
    DOOR: role_kernel.DOOR_ROLE,
    INSIDE: role_kernel.INSIDE_ROLE,
    APPROACH: role_kernel.APPROACH_ROLE,
}
# The kernel picks the bands that may change state; Python decides exactly. Distances from the
# compiled power may differ from Python's in the last bits, so its thresholds are this much wider.
_SLACK = 1e-9


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
        self._codes: npt.NDArray[np.int8] = np.zeros(0, dtype=np.int8)
        cfg = config
        self._cfg = np.array(
            [
                cfg.stale_s,
                cfg.accel_noise,
                cfg.fading_var,
                cfg.floor_var,
                cfg.path_loss_exponent,
                cfg.arrive_m,
                cfg.inside_m,
                cfg.approach_m,
                cfg.leave_m,
                cfg.inside_margin_db,
                cfg.approach_rate_db_s,
                _SLACK,
            ]
        )
        # A band's links side by side, and each link's planes side by side: one gather per batch.
        self._links: FloatArray = np.full((64, 0, 6), math.nan)  # (row, column, plane)
        self._state: FloatArray = np.array([_NEW_BAND] * 64)  # (row, plane)
        # Bands known by number (observe_keys): key → row, and each row's key, if it has one.
        self._keyed = KeyIndex()
        self._row_key = np.zeros(64, dtype=np.uint64)
        self._row_keyed = np.zeros(64, dtype=np.bool_)
        # For telling repeated rows apart: a stamp a batch, and how often each row came so far.
        self._mark = np.zeros(64, dtype=np.int64)
        self._seen = np.zeros(64, dtype=np.int64)
        self._stamp = 0

    def __len__(self) -> int:
        return len(self.rows)

    def observe(self, gateway: str, sightings: Sequence[Sighting]) -> list[PresenceEvent]:
        """Feed one gateway's sightings; the events they decide, in the order of the sightings."""
        if not sightings:
            return []
        power = self.config.default_power_1m
        return self.observe_columns(
            gateway,
            [s.id for s in sightings],
            np.array([s.t for s in sightings], dtype=np.float64),
            # Level relative to the band's 1 m power, so bands of different power compare.
            np.array([s.rssi - (power if s.tx is None else s.tx) for s in sightings], dtype=np.float64),
            np.array([s.n for s in sightings], dtype=np.float64),
        )

    def observe_columns(
        self, gateway: str, ids: list[str], t: FloatArray, z: FloatArray, count: FloatArray
    ) -> list[PresenceEvent]:
        """`observe` for a batch already in columns: ids, times, levels relative to the 1 m power, and
        packets summarised (aligned, writable, contiguous float64 arrays, as compiled code takes them)."""
        if not ids:
            return []
        known = list(map(self.rows.get, ids))
        rows = self._admit(ids, known) if None in known else cast(list[int], known)
        return self._observe_rows(gateway, np.array(rows, dtype=np.intp), ids.__getitem__, t, z, count)

    def observe_keys(
        self,
        gateway: str,
        keys: npt.NDArray[np.uint64],
        name: Callable[[int], str],
        t: FloatArray,
        z: FloatArray,
        count: FloatArray,
    ) -> list[PresenceEvent]:
        """`observe_columns` for bands known by number (the packed wire's band keys); `name` spells
        a key as the band's id, for bands heard the first time and for events."""
        if not len(keys):
            return []
        keys = np.ascontiguousarray(keys, dtype=np.uint64)
        rows, _ = self._keyed.lookup(keys)
        # (unchecked: rows and keys were made to the signature just now, the row arrays are ours)
        if role_kernel.keep_keyed_unchecked(rows, keys, self._row_key, self._row_keyed) != len(keys):
            missing = np.flatnonzero(rows < 0)
            fresh = keys[missing]
            ids = [name(key) for key in fresh.tolist()]
            admitted = np.array(self._admit(ids, [None] * len(ids)), dtype=np.intp)
            rows[missing] = admitted
            self._row_key[admitted] = fresh
            self._row_keyed[admitted] = True
            if len(self._keyed) > 2 * len(self.rows) + 1024:  # mostly forgotten bands: start again
                self._keyed.clear()
                live = np.flatnonzero(self._row_keyed)
                self._keyed.add(self._row_key[live], live)
            else:
                self._keyed.add(fresh, admitted)
        return self._observe_rows(gateway, rows, lambda i: name(int(keys[i])), t, z, count)

    def _observe_rows(
        self,
        gateway: str,
        rows: npt.NDArray[np.intp],
        ident: Callable[[int], str],
        t: FloatArray,
        z: FloatArray,
        count: FloatArray,
    ) -> list[PresenceEvent]:
        """The batch's sightings by row (intp, contiguous, made by the caller) into the kernel."""
        column = self.columns.get(gateway)
        if column is None:
            column = self._add_column(gateway)
        self._stamp += 1
        if len(self._mark) < len(self._state):
            self._mark = np.zeros(len(self._state), dtype=np.int64)
            self._seen = np.zeros(len(self._state), dtype=np.int64)
        repeat = np.empty(len(rows), dtype=np.int64)
        most = role_kernel.occurrences_unchecked(rows, self._mark, self._seen, self._stamp, repeat)
        if not most:
            return [event for _, event in self._round(gateway, column, rows, ident, t, z, count)]
        # A band twice in one batch (the wire allows it): its k-th sightings go in round k, so each
        # band's sightings are still taken in order.
        found: list[tuple[int, PresenceEvent]] = []
        for k in range(most + 1):
            at = np.flatnonzero(repeat == k)
            now = at.tolist()
            taken = self._round(gateway, column, rows[at], _after(ident, now), t[at], z[at], count[at])
            found += [(now[i], event) for i, event in taken]
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
        self._row_keyed[row] = False
        self._bands[row] = None
        self._free.append(row)

    def _admit(self, ids: list[str], rows: list[int | None]) -> list[int]:
        """Rows for bands heard the first time (or the first time since they were forgotten)."""
        admitted: list[int] = []
        for i, row in enumerate(rows):
            if row is not None:
                admitted.append(row)
                continue
            band = ids[i]
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
        self._state = np.empty((2 * size, len(_NEW_BAND)))
        self._state[:size] = state
        self._state[size:] = _NEW_BAND
        self._row_key = np.concatenate([self._row_key, np.zeros(size, dtype=np.uint64)])
        self._row_keyed = np.concatenate([self._row_keyed, np.zeros(size, dtype=np.bool_)])

    def _add_column(self, gateway: str) -> int:
        links = self._links
        self._links = np.full((links.shape[0], links.shape[1] + 1, 6), math.nan)
        self._links[:, :-1] = links
        self._gateways.append(gateway)
        column = self.columns[gateway] = len(self._gateways) - 1
        return column

    def _round(
        self,
        gateway: str,
        column: int,
        rows: npt.NDArray[np.intp],
        ident: Callable[[int], str],
        t: FloatArray,
        z: FloatArray,
        count: FloatArray,
    ) -> list[tuple[int, PresenceEvent]]:
        """Sightings of distinct bands; (index, event) for those that decided one."""
        n = len(rows)
        index = np.empty(n, dtype=np.int64)
        values = np.empty((n, 5))
        # The arrays made here fit the kernel's signature; the caller's must be checked.
        fits = all(a.dtype == np.float64 and a.flags.carray and a.flags.writeable for a in (t, z, count))
        kernel = role_kernel.observe_round_unchecked if fits else role_kernel.observe_round
        found = kernel(
            self._links,
            self._state,
            rows,
            t,
            z,
            count,
            column,
            self._role_codes(),
            self._cfg,
            index,
            values,
        )
        if not found:
            return []
        events = []
        gateways = self._gateways
        for i, (level, margin, rate, door, col) in zip(
            index[:found].tolist(), values[:found].tolist(), strict=True
        ):
            event = self._step(
                ident(i), int(rows[i]), float(t[i]), level, margin, rate, door != 0, gateways[int(col)]
            )
            if event is not None:
                events.append((i, event))
        return events

    def _role_codes(self) -> npt.NDArray[np.int8]:
        """Each column's role as the kernel's code; cached until roles change."""
        roles = tuple(self.roles.get((self.venue, g)) for g in self._gateways)
        if roles != self._roles_seen:
            self._roles_seen = roles
            codes = [_ROLE_CODES.get(r or "", role_kernel.NO_ROLE) for r in roles]
            self._codes = np.array(codes, dtype=np.int8)
        return self._codes

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
            eta = min(60.0, cfg.path_loss_exponent / (LN10_OVER_10 * rate))
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


def _after(ident: Callable[[int], str], positions: list[int]) -> Callable[[int], str]:
    """`ident` for a round that holds the sightings at `positions`."""
    return lambda k: ident(positions[k])


def _confidence(cfg: PresenceConfig, d: float, radius: float, margin: float) -> float:
    """Higher the deeper inside the radius and the clearer the inside/outside margin."""
    depth = (radius - d) / radius
    clarity = (margin - cfg.inside_margin_db) / 12.0
    return round(max(0.5, min(1.0, 0.5 + 0.25 * depth + 0.25 * clarity)), 2)
