"""Service settings, read from MAITRE_* environment variables, with embedded defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBEDDED = "embedded"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAITRE_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///maitre.db", description="SQLAlchemy URL; PostgreSQL: postgresql+psycopg://…"
    )
    mqtt_url: str = Field(
        default=EMBEDDED, description="mqtt://[user:pass@]host:port, or 'embedded' for an in-process broker"
    )
    # 1883 is often taken by a system Mosquitto; the embedded broker stays out of its way.
    embedded_mqtt_port: int = Field(default=1884, ge=0, le=65535)
    mqtt_client_id: str = Field(default="maitre-venue-service", description="fixed, so the session persists")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    # A guest may turn up this early or this late and still be matched to the reservation.
    arrival_early_minutes: int = Field(default=60, ge=0)
    arrival_late_minutes: int = Field(default=90, ge=0)
    max_payload_bytes: int = Field(default=256 * 1024, ge=1024)
    # Sightings stamped further than this from the service clock are dropped (skewed gateway).
    max_clock_skew_seconds: float = Field(default=30.0, gt=0)
    # Gateways the venue already owns (docs/gateway.md): {"espresense:<room>": "venue/gateway",
    # "omg:<gateway>": "venue/gateway"}, as JSON; a file of the same JSON may add more.
    foreign_gateways: dict[str, str] = Field(default_factory=dict)
    foreign_gateways_file: Path | None = None
    # Signs staff screen tokens. Unset: a random key per start, so tokens die with the process.
    secret_key: SecretStr | None = Field(default=None, description="HMAC key for staff screen tokens")
    # A guest with this many earlier visits (seated or completed, any venue) is tagged VIP.
    vip_visits: int = Field(default=5, ge=1)
    # Items that take this long or longer start on approach rather than on arrival.
    kitchen_start_on_approach_minutes: int = Field(default=25, ge=0)
    # Ticket age colours on the kitchen display (Fresh KDS defaults: yellow at 5, red at 8).
    kitchen_warn_minutes: float = Field(default=5.0, gt=0)
    kitchen_late_minutes: float = Field(default=8.0, gt=0)
    # Quick-pick tables on the host screen's seat dialog (any other label can be typed).
    tables: list[str] = Field(default_factory=lambda: [str(n) for n in range(1, 13)])
