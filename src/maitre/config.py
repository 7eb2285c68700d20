"""Service settings, read from MAITRE_* environment variables, with embedded defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, StringConstraints, model_validator
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
    # Several instances (docs/scale.md): the venue slugs this one serves, as JSON, e.g. ["bistro"].
    # Empty: every venue, one instance. Set: each venue claimed by one instance (PostgreSQL), and
    # alerts shared through the broker so a screen can connect to any instance.
    venues: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]] = Field(
        default_factory=list
    )
    # Venues this instance takes over (PostgreSQL) while their own instance is not running; JSON too.
    standby_venues: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]] = Field(
        default_factory=list
    )
    # How often a standby tries the venues it waits for, and an owner checks its claims still hold.
    claim_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    # A guest may turn up this early or this late and still be matched to the reservation.
    arrival_early_minutes: int = Field(default=60, ge=0)
    arrival_late_minutes: int = Field(default=90, ge=0)
    # How sure presence must be that a band is inside (venues with a layout) before it greets:
    # lower greets sooner and names more passers-by (docs/presence.md, "Many evenings").
    arrival_certainty: float = Field(default=0.9, ge=0.5, le=0.95)
    # … and for how long it must stay that sure: any dwell waits for the next track step (~0.5 s
    # later), which named no passer-by on 16 simulated evenings, at a cost in recall.
    arrival_dwell_seconds: float = Field(default=0.0, ge=0.0, le=3.0)
    # The door test's second opinion (docs/presence.md, "How it decides"): off, only the track
    # decides, about half a second later, 5-8 points of recall within 3 s less on the simulated
    # hard evenings, and without the check that held back its one wrong greet there.
    arrival_door_test: bool = True
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
    # -- guests and privacy (docs/privacy.md) --
    # A guest's phone session: long enough to check in and walk over, short if the phone is lost.
    guest_token_minutes: int = Field(default=180, ge=1, le=24 * 60)
    # Location-derived records (per-guest arrival times, approach distances) are purged after this.
    sighting_retention_hours: float = Field(default=24.0, gt=0)
    # Check-in look-ups (code + last name) per client IP: a burst, then this many a minute.
    checkin_burst: int = Field(default=10, ge=1)
    checkin_per_minute: float = Field(default=6.0, gt=0)
    # Tags on the greet card: a regular from this many earlier visits; VIP also from this spend.
    regular_visits: int = Field(default=2, ge=1)
    vip_spend_cents: int = Field(default=100_000, ge=0, description="0: spend never makes a VIP")
    # Per-venue offer rules (TOML, docs/privacy.md); shown only to guests with marketing consent.
    offer_rules_file: Path | None = None
    # -- hardening: secrets, TLS, limits, observability (README "Security") --
    # The signing key from a file (a mounted secret) rather than the environment; either, never both.
    secret_key_file: Path | None = None
    # Staff sign-in tries per client address: a burst, then this many a minute.
    login_burst: int = Field(default=10, ge=1)
    login_per_minute: float = Field(default=5.0, gt=0)
    # Routes of a guest's phone (/api/guest/…) and the probes (/readyz, /metrics), per address.
    guest_burst: int = Field(default=60, ge=1)
    guest_per_minute: float = Field(default=120.0, gt=0)
    probe_burst: int = Field(default=120, ge=1)
    probe_per_minute: float = Field(default=1200.0, gt=0)
    # Each gateway's budget: a burst (a spool draining after ten minutes offline fits), then a
    # steady rate; past it a batch is counted as gateway_flood before it is decoded. 0: no budget.
    gateway_burst_messages: int = Field(default=1200, ge=0)
    gateway_messages_per_second: float = Field(default=50.0, ge=0)
    gateway_burst_bytes: int = Field(default=32 * 1024 * 1024, ge=1)
    gateway_bytes_per_second: float = Field(default=2 * 1024 * 1024, ge=0)
    # Batches sent longer ago than this are refused as replays. A gateway's spool drains older
    # batches after an outage, so this must outlast an outage worth recovering, yet stay within
    # what the deduper remembers (1024 batches per boot, ~8.5 min at two a second).
    replay_window_seconds: float = Field(default=600.0, gt=0)
    # MQTT over TLS (mqtts://): a private CA to trust, and a client certificate if the broker asks.
    mqtt_ca_file: Path | None = None
    mqtt_cert_file: Path | None = None
    mqtt_key_file: Path | None = None
    # HTTPS for the API and screens (`maitre serve`): both or neither.
    http_ssl_certfile: Path | None = None
    http_ssl_keyfile: Path | None = None
    # "json": one JSON object per log line, for a log collector.
    log_format: Literal["text", "json"] = "text"
    # When set, /metrics asks for `Authorization: Bearer <this>`; unset, it is open (scrape on a LAN).
    metrics_token: SecretStr | None = None

    @model_validator(mode="after")
    def _tls_pairs(self) -> Settings:
        if (self.http_ssl_certfile is None) != (self.http_ssl_keyfile is None):
            raise ValueError("set MAITRE_HTTP_SSL_CERTFILE and MAITRE_HTTP_SSL_KEYFILE together")
        if self.mqtt_key_file is not None and self.mqtt_cert_file is None:
            raise ValueError("MAITRE_MQTT_KEY_FILE needs MAITRE_MQTT_CERT_FILE")
        return self

    def signing_key(self) -> str | None:
        """MAITRE_SECRET_KEY, or the contents of MAITRE_SECRET_KEY_FILE; None for neither."""
        if self.secret_key is not None and self.secret_key_file is not None:
            raise ValueError("set MAITRE_SECRET_KEY or MAITRE_SECRET_KEY_FILE, not both")
        if self.secret_key_file is not None:
            return self.secret_key_file.read_text().strip() or None
        return self.secret_key.get_secret_value() if self.secret_key else None
