"""The examples: each is valid, teaches what its header says, and the scripts run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from bruteforce import enumerate_packages, pareto_improving, reference_utilities

from optimizer import Range, Scenario
from optimizer.scenario.files import read_data

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_DIR = ROOT / "examples"
SCENARIOS = sorted(p for p in EXAMPLE_DIR.iterdir() if p.suffix in (".yaml", ".json"))
SCRIPTS = sorted(EXAMPLE_DIR.glob("*.py"))
IDS = [p.name for p in SCENARIOS]

#: Examples whose lesson is a deal on the table below someone's walk-away point.
BELOW_WALK_AWAY = {"solar_bid.yaml": ["Town of Millbrook"]}


def load(path: Path) -> Scenario:
    return Scenario.load(path)


def test_enough_examples_and_scripts() -> None:
    assert len(SCENARIOS) >= 7
    assert len(SCRIPTS) >= 2
    names = {p.name for p in SCENARIOS}
    for required in (
        "saas_renewal.yaml",
        "solar_bid.yaml",
        "leather_reorder.yaml",
        "job_offer.yaml",
        "supplier_contract.yaml",
        "three_party_deal.yaml",
    ):
        assert required in names


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_each_example_says_what_it_teaches(path: Path) -> None:
    if path.suffix == ".json":
        teaches = read_data(path)["metadata"]["teaches"]
    else:
        header = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                break
            header.append(line)
        teaches = " ".join(header)
    assert path.suffix == ".json" or "Teaches" in teaches
    assert len(teaches) > 200


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_each_example_is_complete(path: Path) -> None:
    s = load(path)
    statuses = {i.status for i in s.issues}
    assert len(statuses) >= 2, "mix statuses"
    for party in s.parties:
        prefs = party.preferences
        for issue in s.issues:
            if issue.status == "agreed":
                continue
            assert issue.name in prefs.weights, f"{party.name} has no weight for {issue.name}"
            assert issue.name in prefs.values, f"{party.name} has no values for {issue.name}"
        assert party.reservation_value is not None, f"{party.name} has no walk-away point"
    expected = [
        f'party "{p}" > reservation_value: the deal on the table gives {p}'
        for p in BELOW_WALK_AWAY.get(path.name, [])
    ]
    warnings = [str(w) for w in s.warnings()]
    assert len(warnings) == len(expected), warnings
    for w, start in zip(warnings, expected, strict=True):
        assert w.startswith(start)


def test_statuses_and_ranges_across_examples() -> None:
    all_statuses = {i.status for p in SCENARIOS for i in load(p).issues}
    assert all_statuses == {"open", "provisional", "agreed"}
    with_ranges = set()
    for p in SCENARIOS:
        s = load(p)
        for party in s.parties:
            estimates = [*party.preferences.weights.values(), party.reservation_value]
            for spec in party.preferences.values.values():
                if isinstance(spec, dict):
                    estimates.extend(spec.values())
            if any(isinstance(e, Range) for e in estimates):
                with_ranges.add(p.name)
    assert {"saas_renewal.yaml", "leather_reorder.yaml"} <= with_ranges
    assert any(load(p).reference() is None for p in SCENARIOS), "one example has no deal"
    assert any(len(load(p).parties) >= 3 for p in SCENARIOS)


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_each_example_has_a_pareto_improving_package(path: Path) -> None:
    """By brute force: there is a feasible package that beats the table (or the walk-away
    points when there is no deal) for everyone and clears every walk-away point."""
    s = load(path)
    if int(np.prod([i.size for i in s.issues])) > 2_000_000:
        pytest.skip("too many packages to enumerate; checked through improve() below")
    e = enumerate_packages(s)
    base = reference_utilities(s)
    better = e.feasible & pareto_improving(e.utilities, base)
    assert better.any()


def test_solar_bid_lesson_through_improve() -> None:
    """The solar bid: the opening is below the town's walk-away point, and a package exists
    that lifts the town above it while keeping us at least as well off."""
    from optimizer import improve

    s = load(EXAMPLE_DIR / "solar_bid.yaml")
    ref = s.utilities([s.reference()])[0]
    assert ref[1] < s.reservation("Town of Millbrook")
    result = improve(s)
    assert result.packages
    u = s.utilities([result.packages[0].package])[0]
    assert u[0] >= ref[0] - 1e-9
    assert u[1] >= s.reservation("Town of Millbrook") - 1e-9


EXPECTED_OUTPUT = {
    "what_if.py": [
        "SaaS renewal - Northwind Ops and CloudDesk: 7 issues, 2 parties, 2 agreed, 1 provisional, 4 open",
        "== as estimated",
        "   renewal price cap: none -> 3% (changed)",
        "== vendor weight on price 40 -> 70",
        "== SLA reopened (agreed -> provisional)",
        "== we insist on premium support",
        "   support tier: standard -> premium (changed)",
    ],
    "build_in_code.py": [
        "Freelance web design: 4 issues, 2 parties, 1 agreed, 0 provisional, 3 open",
        "revisions options: ['1', '2', 'unlimited']",
        "deal on the table: {'Designer': 47.0, 'Client': 78.0}",
        "improvement: {'fee': 5000, 'deadline': '4 weeks', 'revisions': '2', 'source files': "
        "'client owns'} gains {'Designer': 1.5, 'Client': 4.75}",
        "frontier: 10 packages (exact: True)",
    ],
}


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_example_scripts_run(script: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    for expected in EXPECTED_OUTPUT[script.name]:
        assert expected in lines, f"{expected!r} not in the output of {script.name}"
