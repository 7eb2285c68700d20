"""Radio propagation: log-distance path loss, correlated shadowing, fast fading, packet loss."""

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
