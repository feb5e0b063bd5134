"""Smoke tests: the package imports lean, the entry points answer, an example evaluates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from optimizer import Scenario

ROOT = Path(__file__).resolve().parents[1]


def test_saas_example_loads_and_evaluates() -> None:
    s = Scenario.load(ROOT / "examples" / "saas_renewal.yaml")
    assert s.summary_line() == "7 issues, 2 parties, 2 agreed, 1 provisional, 4 open"
    ref = s.reference()
    assert ref is not None
    u = s.utilities([ref])
    assert u.shape == (1, 2)
    assert u[0].tolist() == pytest.approx([39.0, 81.5])


def test_import_is_lean() -> None:
    """`import optimizer` and `dealopt validate` do not pay for PuLP or streamlit."""
    code = (
        "import sys, optimizer; from optimizer.cli.main import main; "
        "main(['validate', 'examples/saas_renewal.yaml']); "
        "print(sorted(m for m in ('pulp', 'streamlit', 'highspy') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"


def test_frontier_fast_path_is_lean() -> None:
    """`dealopt frontier` on a separable scenario imports neither PuLP nor streamlit, and
    `import optimizer` builds no pydantic validator and no JSON schema (they are built on first
    use: the models are ``defer_build``)."""
    code = (
        "import sys, optimizer\n"
        "from optimizer.scenario.models import Scenario\n"
        "from optimizer.engine.results import FrontierResult, ImproveResult\n"
        "built = [c.__name__ for c in (Scenario, FrontierResult, ImproveResult) "
        "if c.__pydantic_complete__]\n"
        "from optimizer.cli.main import main\n"
        "main(['frontier', 'examples/research_collaboration.yaml', '--json'])\n"
        "print(built, sorted(m for m in ('pulp', 'streamlit', 'highspy') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert '"method": "fast_path"' in done.stdout
    assert done.stdout.splitlines()[-1] == "[] []"


def test_help_exits_0() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "optimizer", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0
    assert "validate" in done.stdout and "schema" in done.stdout
