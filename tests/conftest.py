"""Shared fixtures: ``solver`` runs a test once per installed MILP solver."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/bruteforce.py importable


def _solver_params() -> list:
    from optimizer.solvers import SOLVER_NAMES, is_available

    return [
        pytest.param(
            n, marks=pytest.mark.skipif(not is_available(n), reason=f"{n} is not installed")
        )
        for n in SOLVER_NAMES
    ]


@pytest.fixture(params=_solver_params())
def solver(request: pytest.FixtureRequest) -> str:
    """The name of an installed solver (``highs``, ``cbc``)."""
    return request.param
