"""`maitre calibrate`: walk the calibration route with a band while the gateways listen; fit the venue."""

from __future__ import annotations

import argparse
import json
import sys

from maitre.cli.settings import load_settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    calibrate = sub.add_parser(
        "calibrate",
        help="walk a route with a band: how far the venue's signals stray from its plan",
        description="Needs the venue's layout and gateway places (MAITRE_DATABASE_URL), its gateways "
        "running, and the broker they publish to (MAITRE_MQTT_URL; the embedded one of a running "
        "`maitre serve` by default). Wear one band that advertises its fixed id (band:...), walk to "
        "each place the command names, press Enter on arrival and stand still while it counts "
        "(docs/operate/calibration.md).",
    )
    calibrate.add_argument("--venue", required=True, help="venue slug")
    calibrate.add_argument(
        "--band", required=True, help="the walker's band as on the wire: band:0011223344556677"
    )
    calibrate.add_argument(
        "--stand-seconds", type=float, default=15.0, help="seconds at each stop (default 15)"
    )
    calibrate.add_argument(
        "--save", action="store_true", help="store the measured sigma and gains with the venue's layout"
    )
    calibrate.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """0 with the calibration printed (and saved); 1: the walk said too little; 2: refused."""
    from maitre.cli.calibration_walk import CalibrationRefused, calibrate, save_calibration
    from maitre.config import EMBEDDED
    from maitre.db import make_engine
    from maitre.mqtt import BrokerAddress
    from maitre.presence.calibration import CalibrationError
    from maitre.runtime.service import with_tls_files

    settings = load_settings()
    if settings is None:
        return 2
    if not 1.0 <= args.stand_seconds <= 120.0:
        print("maitre: --stand-seconds must be between 1 and 120", file=sys.stderr)
        return 2
    url = (
        f"mqtt://127.0.0.1:{settings.embedded_mqtt_port}"
        if settings.mqtt_url == EMBEDDED
        else settings.mqtt_url
    )
    engine = make_engine(settings.database_url)
    try:
        broker = with_tls_files(BrokerAddress.parse(url), settings)  # the service's CA, for mqtts://
        result = calibrate(engine, broker, args.venue, args.band, args.stand_seconds)
    except KeyboardInterrupt:
        print("\nmaitre: calibration abandoned; nothing saved", file=sys.stderr)
        return 130
    except (CalibrationRefused, ValueError) as exc:
        if isinstance(exc, CalibrationError):
            print(f"maitre: the walk cannot calibrate {args.venue}: {exc}", file=sys.stderr)
            return 1
        print(f"maitre: {exc}", file=sys.stderr)
        return 2
    print(f"{args.venue}: {result.describe()}")
    if args.save:
        save_calibration(engine, args.venue, result)
        print(
            f"saved sigma_db {result.sigma_db} and the gateways' gains with the layout of {args.venue}; a "
            "running service takes them at its next start, or at once when the layout is PUT again"
        )
    else:
        put = f"PUT /api/venues/{args.venue}/layout"
        gains = json.dumps(result.gains)
        print(f'to use it: add "sigma_db": {result.sigma_db}, "gateway_gains": {gains} to the layout ({put})')
    return 0
