"""The service's settings for a command: MAITRE_* variables, then the command line's overrides."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from maitre.config import Settings


def load_settings(**overrides: object) -> Settings | None:
    """Settings with these fields overridden (None values are left out); None after saying why not."""
    from pydantic import ValidationError

    from maitre.config import Settings

    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except ValidationError as exc:
        print(f"maitre: bad setting: {exc}", file=sys.stderr)
        return None
