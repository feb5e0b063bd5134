"""Shared fixtures: ``solver`` runs a test once per installed MILP solver.

Hypothesis: by default (``make test``, ``.ci/run``, a plain ``pytest``) the property tests replay a
fixed, derandomised set of examples, so the same code gives the same verdict on every machine and
every run. ``make test-explore`` (``DEALOPT_HYPOTHESIS=explore``) draws new examples on every run to
keep exploring; a failure found that way goes into the tests as an explicit regression case.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("fixed", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile("explore" if os.environ.get("DEALOPT_HYPOTHESIS") == "explore" else "fixed")

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/bruteforce.py importable

# AppTest runs the app's engine calls in the test process (monkeypatches apply; no worker pool);
# the browser tests start a real server with its worker processes.
os.environ["DEALOPT_UI_WORKERS"] = "0"
# The app's workspace: never the user's own folder, not even for a test that forgets the fixture.
os.environ["DEALOPT_WORKSPACE"] = str(
    Path(tempfile.mkdtemp(prefix="dealopt-test-")) / "workspace.sqlite"
)


@pytest.fixture(autouse=True)
def _temp_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test starts with an empty workspace of its own (``$DEALOPT_WORKSPACE``)."""
    path = tmp_path / "workspace.sqlite"
    monkeypatch.setenv("DEALOPT_WORKSPACE", str(path))
    return path


def _solver_params() -> list:
    from optimizer.engine.solvers import SOLVER_NAMES, is_available

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
