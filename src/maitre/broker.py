"""The embedded MQTT broker (rumqttd via iotcore) for the demo and single-box installs."""

from __future__ import annotations

import logging
import socket

from iotcore import Broker

from maitre.mqtt import BrokerAddress

log = logging.getLogger("maitre.broker")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_embedded_broker(port: int, host: str = "127.0.0.1") -> tuple[Broker, BrokerAddress]:
    """Start a broker in a child process; if the port is taken, use a free one and say so."""
    try:
        broker = Broker(port=port, listen=host).start()
    except OSError:
        chosen = free_port()
        log.warning("port %d is in use; the embedded MQTT broker listens on %d instead", port, chosen)
        broker = Broker(port=chosen, listen=host).start()
    return broker, BrokerAddress(host=host, port=broker.port)
