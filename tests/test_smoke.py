from __future__ import annotations

from pathlib import Path

from optimizer import Scenario

ROOT = Path(__file__).resolve().parents[1]


def test_saas_example_loads_and_evaluates() -> None:
    s = Scenario.load(ROOT / "examples" / "saas_renewal.yaml")
    assert s.summary_line() == "7 issues, 2 parties, 2 agreed, 1 provisional, 4 open"
    ref = s.reference()
    assert ref is not None
    u = s.utilities([ref])
    assert u.shape == (1, 2)
