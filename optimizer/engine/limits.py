"""Size limits shared by the engine and the command line (a leaf: no numpy, no PuLP), so that
``dealopt frontier`` can state and check them without importing the engine."""

from __future__ import annotations

#: A frontier keeps at most this many points unless asked for more (``--max-points``): beyond
#: it the points are thinned, spread along the frontier, and the result says so (bounded memory).
DEFAULT_MAX_POINTS = 10_000

#: The most points a frontier may be asked to keep (each point is a whole package in the result).
MAX_POINTS_LIMIT = 1_000_000
