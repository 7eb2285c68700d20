"""Recognise redelivered batches by (gateway, boot, sequence number)."""

from __future__ import annotations

from maitre.ingest.stats import Drop

# QoS 1 redelivery arrives within seconds; at two batches a second this remembers ~8 minutes.
REMEMBERED_PER_BOOT = 1024
# A gateway that reboots gets a new boot id; keep a few so a late redelivery from the
# previous boot is still recognised.
REMEMBERED_BOOTS = 4


class _Boot:
    __slots__ = ("highest", "seen")

    def __init__(self) -> None:
        self.highest = -1
        self.seen: set[int] = set()


class BatchDeduper:
    """Accepts each (gateway, boot, seq) once; tolerates out-of-order delivery within the window."""

    def __init__(self) -> None:
        self._gateways: dict[tuple[str, str], dict[str, _Boot]] = {}

    def first_time(self, venue: str, gateway: str, boot: str, seq: int) -> bool:
        return self.check(venue, gateway, boot, seq) is None

    def check(self, venue: str, gateway: str, boot: str, seq: int) -> Drop | None:
        """None for a batch seen the first time (and now remembered); else why it is refused."""
        boots = self._gateways.setdefault((venue, gateway), {})
        state = boots.get(boot)
        if state is None:
            if len(boots) >= REMEMBERED_BOOTS:
                del boots[next(iter(boots))]  # dicts keep insertion order: the oldest boot goes
            state = boots[boot] = _Boot()
        if seq in state.seen:
            return Drop.DUPLICATE_BATCH
        if seq <= state.highest - REMEMBERED_PER_BOOT:
            return Drop.STALE_BATCH  # below what is remembered: it may have been seen, so refuse it
        state.seen.add(seq)
        if seq > state.highest:
            state.highest = seq
            if len(state.seen) > 2 * REMEMBERED_PER_BOOT:
                floor = seq - REMEMBERED_PER_BOOT
                state.seen = {s for s in state.seen if s > floor}
        return None
