"""MQTT connection settings shared by the gateway and the service: one URL, one client factory."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None  # mqtts: a private CA to trust instead of the system's
    cert_file: str | None = None  # mqtts: a client certificate, for brokers that ask for one
    key_file: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """Parse mqtt://[user[:password]@]host[:port] or mqtts://…; a clear ValueError otherwise."""
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS:
            raise ValueError(f"MQTT URL {url!r}: scheme must be mqtt:// or mqtts://")
        if not parts.hostname:
            raise ValueError(f"MQTT URL {url!r}: no host")
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError as exc:
            raise ValueError(f"MQTT URL {url!r}: {exc}") from exc
        return cls(
            host=parts.hostname,
            port=port,
            tls=parts.scheme == "mqtts",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def url(self) -> str:
        """The URL without credentials, safe to log."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def make_client(
    address: BrokerAddress, client_id: str, persistent: bool = False, manual_ack: bool = False
) -> paho.Client:
    """A paho client (callback API 2, MQTT 3.1.1) configured for the address.

    With persistent=True the broker keeps the session (subscriptions and unacknowledged
    QoS 1 messages) while the client is away, so nothing published meanwhile is lost.
    With manual_ack=True a received QoS 1 message is acknowledged only by `client.ack`.
    """
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=not persistent,
        protocol=paho.MQTTv311,
        manual_ack=manual_ack,
    )
    if address.username:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        context = ssl.create_default_context(cafile=address.ca_file)
        if address.cert_file:
            context.load_cert_chain(address.cert_file, address.key_file)
        client.tls_set_context(context)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client
