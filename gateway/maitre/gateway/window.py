"""Aggregation: per advertiser, one sighting per batch window instead of one message per packet."""

from __future__ import annotations

from maitre.wire import Sighting

# Physical bounds for a received BLE signal: outside them the radio or the driver is broken.
RSSI_MIN = -127.0
RSSI_MAX = 20.0
# Timestamps are unix seconds; anything before 1970 or after 2100 (or NaN) is a broken clock or
# source, and one such value would make the whole batch invalid on the wire.
TIME_MAX = 4_102_444_800.0


class _Tally:
    __slots__ = ("last_t", "n", "rssi_max", "rssi_sum", "tx")

    def __init__(self, rssi: float, t: float, tx: int | None) -> None:
        self.n = 1
        self.rssi_sum = rssi
        self.rssi_max = rssi
        self.last_t = t
        self.tx = tx


class Window:
    """Collects advertisements until drained; not thread-safe (one source thread feeds it)."""

    __slots__ = ("_tallies", "rejected_rssi", "rejected_time")

    def __init__(self) -> None:
        self._tallies: dict[str, _Tally] = {}
        self.rejected_rssi = 0
        self.rejected_time = 0

    def add(self, ident: str, rssi: float, t: float, tx: int | None) -> None:
        if not RSSI_MIN <= rssi <= RSSI_MAX:  # also false for NaN
            self.rejected_rssi += 1
            return
        if not 0.0 <= t <= TIME_MAX:
            self.rejected_time += 1
            return
        tally = self._tallies.get(ident)
        if tally is None:
            self._tallies[ident] = _Tally(rssi, t, tx)
            return
        tally.n += 1
        tally.rssi_sum += rssi
        if rssi > tally.rssi_max:
            tally.rssi_max = rssi
        if t > tally.last_t:
            tally.last_t = t
        if tx is not None:
            tally.tx = tx

    def __len__(self) -> int:
        return len(self._tallies)

    def drain(self, now: float | None = None) -> list[Sighting]:
        """Return the window's sightings and start a new window.

        With `now`, no sighting is stamped later than it: after the gateway clock stepped back,
        advertisements heard before the step would otherwise claim to come from the future.
        """
        tallies, self._tallies = self._tallies, {}
        horizon = TIME_MAX if now is None else now
        return [
            Sighting(
                id=ident,
                rssi=round(t.rssi_sum / t.n, 1),
                rssi_max=round(t.rssi_max, 1),  # radios report whole dBm; 0.1 dB is what packs
                n=t.n,
                t=round(min(t.last_t, horizon), 3),
                tx=t.tx,
            )
            for ident, t in tallies.items()
        ]
