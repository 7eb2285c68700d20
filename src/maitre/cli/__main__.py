"""`python -m maitre.cli`: the `maitre` command."""

import sys

from maitre.cli import main

sys.exit(main())
