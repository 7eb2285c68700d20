"""Radio propagation: log-distance path loss, correlated shadowing, fast fading, packet loss.

Two independent forms, so the engine is never judged only by the model it was designed around:
- "gauss-markov" (Link): shadowing correlated in *time* (first-order Gauss-Markov, Gudmundson),
  Gaussian fading in dB, independent packet loss. The bistro's scenarios use it.
- "spatial" (SpatialLink): shadowing correlated in *space*, a random field over the floor that a
  band walks through (a sum of sinusoids with a Gaussian spectrum), Rician fading in power with a
  line-of-sight K factor, and bursty loss (a Gilbert-Elliott channel: interference comes in bursts).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RadioModel:
    # Indoor/outdoor mix near a restaurant front: between free space (2.0) and cluttered (3+).
    exponent: float = 2.2
    shadowing_db: float = 3.0  # log-normal shadowing, standard deviation
    shadowing_tau: float = 2.0  # seconds over which shadowing decorrelates as people move
    fading_db: float = 2.0  # per-packet fast fading, standard deviation
    loss: float = 0.1  # probability a packet is lost to collision or interference
    sensitivity_dbm: float = -100.0  # below this the gateway hears nothing
    # The wearer's own body between a wrist band and the gateway: 3-10 dB at 2.4 GHz.
    body_loss_db: float = 5.0
    kind: str = "gauss-markov"  # or "spatial" (SpatialLink)


class Link:
    """The channel between one band and one gateway, with its own slowly varying shadowing."""

    __slots__ = ("shadow", "t")

    def __init__(self, rng: random.Random, model: RadioModel) -> None:
        self.shadow = rng.gauss(0, model.shadowing_db)
        self.t = 0.0

    def rssi(
        self,
        model: RadioModel,
        power_1m: float,
        distance: float,
        t: float,
        rng: random.Random,
        extra_loss_db: float = 0.0,
    ) -> float | None:
        """RSSI of one packet sent at time t over this link, or None if it is not heard.

        `extra_loss_db` is what lies in the way at this moment: walls, the wearer's body.
        """
        if rng.random() < model.loss:
            return None
        dt = max(0.0, t - self.t)
        self.t = t
        # First-order Gauss-Markov shadowing (Gudmundson): correlated over shadowing_tau.
        rho = math.exp(-dt / model.shadowing_tau)
        self.shadow = rho * self.shadow + math.sqrt(1 - rho * rho) * rng.gauss(0, model.shadowing_db)
        d = max(distance, 0.1)
        rssi = (
            power_1m
            - 10 * model.exponent * math.log10(d)
            - extra_loss_db
            + self.shadow
            + rng.gauss(0, model.fading_db)
        )
        if rssi < model.sensitivity_dbm:
            return None
        return round(rssi)


SPATIAL_TERMS = 12  # sinusoids in a link's shadowing field: enough for a Gaussian-looking field
RICIAN_K = 4.0  # line-of-sight to scattered power near a door: 6 dB, between open space and a crowd
# K = 4 spreads levels by 3.3 dB (and lowers their mean by 1 dB): scaled so the spread is fading_db.
RICIAN_SPREAD_DB = 3.3
BURST_ENTER, BURST_LEAVE = 0.02, 0.25  # Gilbert-Elliott: per packet, good → bad and bad → good
BAD_LOSS = 0.85  # in a burst most packets are lost


class SpatialLink:
    """A band-to-gateway channel whose shadowing is a field over the floor, not a process in time.

    The field's decorrelation distance follows the model's shadowing_tau at walking pace (1.3 m/s),
    so both forms decorrelate over the same walk; its standard deviation is shadowing_db.
    """

    __slots__ = ("bad", "phases", "waves")

    def __init__(self, rng: random.Random, model: RadioModel) -> None:
        distance = max(0.3, 1.3 * model.shadowing_tau)
        amplitude = model.shadowing_db * math.sqrt(2.0 / SPATIAL_TERMS)
        self.waves = []
        for _ in range(SPATIAL_TERMS):
            k = abs(rng.gauss(0.0, 1.0)) / distance  # Gaussian spectrum: correlation exp(-d²/2L²)
            angle = rng.uniform(0.0, 2 * math.pi)
            self.waves.append((k * math.cos(angle), k * math.sin(angle), amplitude))
        self.phases = [rng.uniform(0.0, 2 * math.pi) for _ in range(SPATIAL_TERMS)]
        self.bad = False

    def rssi_at(
        self,
        model: RadioModel,
        power_1m: float,
        distance: float,
        x: float,
        y: float,
        rng: random.Random,
        extra_loss_db: float = 0.0,
    ) -> float | None:
        """RSSI of one packet sent from (x, y) over this link, or None if it is not heard."""
        self.bad = rng.random() > BURST_LEAVE if self.bad else rng.random() < BURST_ENTER
        if rng.random() < (BAD_LOSS if self.bad else model.loss):
            return None
        shadow = sum(
            a * math.cos(kx * x + ky * y + p) for (kx, ky, a), p in zip(self.waves, self.phases, strict=True)
        )
        # Rician fading: a line-of-sight phasor plus scattered ones, total mean power 1.
        los = math.sqrt(RICIAN_K / (RICIAN_K + 1))
        scatter = math.sqrt(1 / (2 * (RICIAN_K + 1)))
        i = los + rng.gauss(0.0, scatter)
        q = rng.gauss(0.0, scatter)
        fading = 10 * math.log10(max(i * i + q * q, 1e-6)) * model.fading_db / RICIAN_SPREAD_DB
        path_loss = 10 * model.exponent * math.log10(max(distance, 0.1))
        rssi = power_1m - path_loss - extra_loss_db + shadow + fading
        if rssi < model.sensitivity_dbm:
            return None
        return round(rssi)
