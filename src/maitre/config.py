"""Service settings, read from MAITRE_* environment variables, with embedded defaults."""

from __future__ import annotations

from pydantic import Field
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
