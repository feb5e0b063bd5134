"""``python -m optimizer``: the same command line as ``dealopt``."""

from __future__ import annotations

import sys

from optimizer.cli.main import main

sys.exit(main())
