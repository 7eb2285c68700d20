"""What the presence engine knows of a venue's geometry: gateway places, walls, the inside."""

from __future__ import annotations

import msgspec

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1, metres


class WallSpec(msgspec.Struct, frozen=True):
    x0: float
    y0: float
    x1: float
    y1: float
    loss_db: float = 6.0


class VenueModel(msgspec.Struct, frozen=True):
    """Gateways by name → (x, y); walls that attenuate; rectangles that count as "arrived"."""

    gateways: dict[str, tuple[float, float]]
    walls: list[WallSpec] = []
    inside: list[Rect] = []
    door: tuple[float, float] = (0.0, 0.0)  # where guests come in, for direction and ETA
    bounds: Rect | None = None  # area to consider; default: around the gateways, 8 m margin
    # How far filtered levels stray from this model here, dB, as a calibration walk measured it
    # (presence/calibration.py); None: the engine's default (PresenceConfig.model_sigma_db).
    sigma_db: float | None = None
