"""Entry point of ``python -m crypto``."""

import sys

from .cli import main

sys.exit(main())
