"""A two-state Kalman filter for one band's signal at one gateway: level (dBm) and its rate (dB/s)."""

from __future__ import annotations


class RssiKalman:
    """Constant-rate model with white-noise acceleration; copes with irregular sighting times.

    Each sighting summarises `n` packets, so its fast fading averages down by n while the slow
    part (shadowing, bodies) does not: R = fading² / n + floor².
    """

    __slots__ = ("last_t", "p00", "p01", "p11", "rate", "x")

    def __init__(self, z: float, t: float, p0: float = 25.0) -> None:
        self.x = z
        self.rate = 0.0
        self.p00 = p0
        self.p01 = 0.0
        self.p11 = 4.0
        self.last_t = t

    def update(self, z: float, t: float, n: int, q: float, fading_var: float, floor_var: float) -> None:
        dt = t - self.last_t
        if dt > 0:
            # Predict: level moves with rate; uncertainty grows with the acceleration noise q.
            dt2 = dt * dt
            self.x += self.rate * dt
            p00 = self.p00 + dt * (2 * self.p01 + dt * self.p11) + q * dt2 * dt / 3
            p01 = self.p01 + dt * self.p11 + q * dt2 / 2
            p11 = self.p11 + q * dt
            self.p00, self.p01, self.p11 = p00, p01, p11
            self.last_t = t
        r = fading_var / max(n, 1) + floor_var
        s = self.p00 + r
        k0 = self.p00 / s
        k1 = self.p01 / s
        y = z - self.x
        self.x += k0 * y
        self.rate += k1 * y
        p01 = self.p01
        self.p11 -= k1 * p01
        self.p01 = (1 - k0) * p01
        self.p00 = (1 - k0) * self.p00

    @property
    def sigma(self) -> float:
        """Standard deviation of the level estimate, dB."""
        return float(self.p00**0.5)
