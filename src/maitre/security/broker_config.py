"""The broker's side of `maitre gateways credentials`: Mosquitto's listeners, limits and files.

Two listeners, each with its own password file. Gateways (and the health check) log in on one,
where Mosquitto replaces every client id with the login's user name, so no login can connect as
another client and drop its session. The venue service alone logs in on the other, where its
fixed client id (MAITRE_MQTT_CLIENT_ID) keeps its persistent session: no gateway password opens it.
"""

from __future__ import annotations

from dataclasses import dataclass

from maitre import wire

PASSWD_FILE, SERVICE_PASSWD_FILE, ACL_FILE = "passwd", "service.passwd", "acl"
CONF_FILE = "maitre.conf"
SERVER_CERT, SERVER_KEY, CA_CERT = "server.crt", "server.key", "ca.crt"
HEALTH_PASSWORD_FILE = "health.password"  # noqa: S105 (a file name)
# Where the compose stack's broker reads these files (docker/mosquitto/entrypoint.sh copies them there).
DEFAULT_BROKER_DIR = "/mosquitto/config/maitre"
DEFAULT_SERVICE_PORT = 8884
# A packet carries its topic (under 200 bytes) and headers besides the payload; anything larger
# than a full payload plus that is not ours, and Mosquitto drops the connection that sent it.
PACKET_OVERHEAD_BYTES = 4096
# Each gateway holds one session (its user name is its client id) and may have a reconnect in
# flight; the rest is room for the health check and a few half-open sockets, and no more, so a
# flood of idle connections cannot exhaust the broker.
CONNECTIONS_PER_GATEWAY = 4
GATEWAY_LISTENER_SPARE = 64
# The service holds a session per served venue, one for shared alerts and a short one at start;
# several instances (docs/operate/scale.md) and operators' tools share this.
SERVICE_MAX_CONNECTIONS = 64


@dataclass(frozen=True)
class Listeners:
    """Where the broker listens and whether with TLS."""

    gateway_port: int
    service_port: int
    tls: bool


def gateway_connections(gateways: int) -> int:
    return gateways * CONNECTIONS_PER_GATEWAY + GATEWAY_LISTENER_SPARE


def conf_text(broker_dir: str, listeners: Listeners, gateways: int) -> str:
    """Mosquitto configuration for `include_dir`, naming files as the broker finds them in `broker_dir`."""
    d = broker_dir.rstrip("/")
    tls = [f"certfile {d}/{SERVER_CERT}", f"keyfile {d}/{SERVER_KEY}", "tls_version tlsv1.2"]
    tls = tls if listeners.tls else []
    lines = [
        "# Maître's broker authority, written by `maitre gateways credentials`: rerun it, do not edit.",
        "per_listener_settings true",
        f"message_size_limit {wire.MAX_PAYLOAD_BYTES}",
        f"max_packet_size {wire.MAX_PAYLOAD_BYTES + PACKET_OVERHEAD_BYTES}",
        "",
        "# Gateways and the health check: a login's user name is its client id.",
        f"listener {listeners.gateway_port}",
        *tls,
        "allow_anonymous false",
        f"password_file {d}/{PASSWD_FILE}",
        f"acl_file {d}/{ACL_FILE}",
        "use_username_as_clientid true",
        f"max_connections {gateway_connections(gateways)}",
        "",
        "# The venue service alone: its fixed client id keeps its session across restarts.",
        f"listener {listeners.service_port}",
        *tls,
        "allow_anonymous false",
        f"password_file {d}/{SERVICE_PASSWD_FILE}",
        f"acl_file {d}/{ACL_FILE}",
        f"max_connections {SERVICE_MAX_CONNECTIONS}",
    ]
    return "\n".join(lines) + "\n"
