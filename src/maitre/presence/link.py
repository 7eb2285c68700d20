"""One band-to-gateway link: its level relative to the band's 1 m power, through its Kalman filter."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from maitre.presence.config import PresenceConfig
from maitre.presence.kalman import RssiKalman
from maitre.wire import Sighting

FloatArray = npt.NDArray[np.float64]
LN10_OVER_10 = math.log(10) / 10  # d(dB)/d(ln distance) per unit of path-loss exponent


def level(s: Sighting, cfg: PresenceConfig) -> float:
    """A sighting's level relative to its band's 1 m power, so bands of different power compare."""
    return s.rssi - (s.tx if s.tx is not None else cfg.default_power_1m)


def follow_link(
    links: dict[str, RssiKalman], gateway: str, s: Sighting, cfg: PresenceConfig
) -> RssiKalman | None:
    """Feed a sighting to its gateway's link filter, started afresh when new or stale; None: too old."""
    z = level(s, cfg)
    link = links.get(gateway)
    if link is None or s.t - link.last_t > cfg.stale_s:
        link = links[gateway] = RssiKalman(z, s.t)
    elif s.t > link.last_t:
        link.update(z, s.t, s.n, cfg.accel_noise, cfg.fading_var, cfg.floor_var)
    else:
        return None
    return link
