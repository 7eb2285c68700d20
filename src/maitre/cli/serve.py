"""`maitre serve`: the venue service, its settings from MAITRE_* variables."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from maitre.cli.settings import load_settings

if TYPE_CHECKING:
    from maitre.config import Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the venue service (settings from MAITRE_* variables)")
    serve.add_argument("--port", type=int, help="HTTP port (env MAITRE_HTTP_PORT)")
    serve.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(http_port=args.port)
    if settings is None:
        return 2
    refused = _secret_refusal(settings)
    if refused:
        print(f"maitre: not starting: {refused}", file=sys.stderr)
        return 1
    import uvicorn

    from maitre.api.app import create_app
    from maitre.api.hardening import server_options
    from maitre.api.screen_socket import PER_MESSAGE_DEFLATE, ScreenSocketProtocol
    from maitre.broker import start_embedded_broker
    from maitre.config import EMBEDDED
    from maitre.mqtt import BrokerAddress
    from maitre.runtime.preflight import StartupRefused, check_broker, check_venue_claims, open_database
    from maitre.runtime.service import settle_heap, with_tls_files

    broker = None
    try:
        engine = open_database(settings.database_url)
        check_venue_claims(engine, settings.venues, settings.standby_venues, settings.mqtt_client_id)
        if settings.mqtt_url != EMBEDDED:
            try:
                address = BrokerAddress.parse(settings.mqtt_url)
            except ValueError as exc:
                raise StartupRefused(f"MAITRE_MQTT_URL: {exc}") from exc
            check_broker(with_tls_files(address, settings))  # the CA the service will trust, too
    except StartupRefused as exc:
        print(f"maitre: not starting: {exc}", file=sys.stderr)
        return 1
    try:
        if settings.mqtt_url == EMBEDDED:
            broker, address = start_embedded_broker(settings.embedded_mqtt_port)
        app = create_app(settings, address, engine=engine)
        settle_heap()
        uvicorn.run(
            app,
            host=settings.http_host,
            port=settings.http_port,
            ssl_certfile=settings.http_ssl_certfile,
            ssl_keyfile=settings.http_ssl_keyfile,
            ws=ScreenSocketProtocol,
            ws_per_message_deflate=PER_MESSAGE_DEFLATE,
            **server_options(settings.trusted_proxies),
            # JSON logs: uvicorn's loggers go through the root handler instead of their own format.
            log_config=None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
        )
    except KeyboardInterrupt:
        pass
    except (OSError, ValueError) as exc:
        print(f"maitre: {exc}", file=sys.stderr)
        return 1
    finally:
        if broker is not None:
            broker.stop()
    return 0


def _secret_refusal(settings: Settings) -> str | None:
    """Why the signing key will not do for a running service (every screen signed out at each
    restart, or tokens anyone can forge), or None."""
    from maitre.security.tokens import secret_problem

    try:
        problem = secret_problem(settings.signing_key())
    except (OSError, ValueError) as exc:
        return f"MAITRE_SECRET_KEY_FILE: {exc}"
    if problem is None:
        return None
    return (
        f"{problem}; set it to a long random value, e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(32))'` (docs/operate/security.md)"
    )
