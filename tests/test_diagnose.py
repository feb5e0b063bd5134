"""Infeasibility and no-improvement explanations name the right groups, in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer import Scenario
from optimizer.searches.diagnose import explain_infeasible, explain_no_improvement
from optimizer.searches.improve import improve

ROOT = Path(__file__).resolve().parents[1]


def _saas(**changes) -> Scenario:
    data = Scenario.load(ROOT / "examples" / "saas_renewal.yaml").to_dict()
    for c in data["constraints"]:
        if c.get("name") in changes:
            c.update(changes[c["name"]])
    return Scenario.from_dict(data)


def _two_issue(
    parties_extra: dict | None = None, constraints: list | None = None, **issue_kw
) -> Scenario:
    parties = [
        {
            "name": "Us",
            "preferences": {
                "weights": {"x": 1, "y": 1},
                "values": {"x": {"a": 10, "b": 0}, "y": {"a": 0, "b": 10}},
            },
        },
        {
            "name": "Vendor",
            "preferences": {
                "weights": {"x": 1, "y": 3},
                "values": {"x": {"a": 0, "b": 10}, "y": {"a": 2, "b": 10}},
            },
        },
    ]
    for p in parties:
        p.update((parties_extra or {}).get(p["name"], {}))
    x = {"name": "x", "options": ["a", "b"], "value": "a", **issue_kw.get("x", {})}
    y = {"name": "y", "options": ["a", "b"], "value": "a", **issue_kw.get("y", {})}
    return Scenario.from_dict(
        {
            "name": "two",
            "us": "Us",
            "parties": parties,
            "issues": [x, y],
            "constraints": constraints or [],
        }
    )


def test_budget_and_price_floor_conflict(solver: str) -> None:
    s = _saas(**{"our annual software budget": {"limit": 120}})
    d = explain_infeasible(s, solver=solver)
    assert not d.feasible
    assert d.conflict == [
        'constraint "vendor price floor"',
        'constraint "our annual software budget"',
    ]
    assert d.text == (
        "CloudDesk's minimum price per seat of 44 USD/month and our annual software budget of "
        "120 kUSD cannot both hold. Relaxing any one of them makes a deal possible."
    )
    assert set(d.issues) == {"price per seat", "support tier"}
    assert d.parties == ["CloudDesk", "Northwind Ops"]
    r = improve(s, solver=solver)
    assert r.packages == [] and r.exact
    assert r.explanation == d.text


def test_walk_away_against_agreed_issue(solver: str) -> None:
    # Vendor needs y = b to reach 60, but y is agreed at a.
    s = _two_issue({"Vendor": {"reservation_value": 60}}, y={"status": "agreed"})
    d = explain_infeasible(s, solver=solver)
    assert d.conflict == ['walk-away "Vendor"', 'agreed "y"']
    assert "Vendor's walk-away point (utility 60)" in d.text
    assert "the agreed y of a" in d.text and "cannot both hold" in d.text
    assert d.issues == ["y"] and d.parties == ["Vendor"]


def test_unreachable_walk_away_alone() -> None:
    s = _two_issue({"Us": {"reservation_value": 100.5}})
    d = explain_infeasible(s)
    assert d.conflict == ['walk-away "Us"']
    assert d.text == "Our walk-away point (utility 100.5) cannot be met by any package."


def test_three_rules_cannot_all_hold() -> None:
    cons = [
        {
            "type": "acceptable",
            "name": "x must be a",
            "issue": "x",
            "options": ["a"],
            "party": "Us",
        },
        {"type": "implies", "when": {"x": "a"}, "then": {"y": "b"}, "party": "Vendor"},
        {"type": "forbidden", "combination": {"y": "b"}},
        {"type": "acceptable", "issue": "y", "options": ["a", "b"]},  # harmless
    ]
    d = explain_infeasible(_two_issue(constraints=cons))
    assert d.conflict == ['constraint "x must be a"', "constraint 2", "constraint 3"]
    assert d.text.endswith(
        "cannot all hold together. Relaxing any one of them makes a deal possible."
    )
    assert "Vendor's rule that x a requires y b" in d.text
    assert "the rule against y b" in d.text


def test_feasible_scenario_says_so() -> None:
    d = explain_infeasible(_two_issue())
    assert d.feasible and d.conflict == []


def test_constraint_blocking_every_improvement(solver: str) -> None:
    # From (a, a), every improvement moves y to b (good for both); a rule forbids y = b.
    cons = [
        {
            "type": "acceptable",
            "name": "legacy system",
            "issue": "y",
            "options": ["a"],
            "party": "Vendor",
        }
    ]
    s = _two_issue(constraints=cons)
    r = improve(s, solver=solver)
    assert r.packages == [] and r.exact
    d = explain_no_improvement(s, solver=solver)
    assert d.conflict == ['constraint "legacy system"']
    assert "Vendor's legacy system (a only) blocks every package" in d.text
    assert r.explanation == d.text
    # without the rule there is an improvement
    assert improve(_two_issue(), solver=solver).packages


@pytest.mark.parametrize("status", ["agreed"])
def test_agreed_issue_blocking_improvement(status: str) -> None:
    s = _two_issue(y={"status": status})
    d = explain_no_improvement(s)
    assert d.conflict == ['agreed "y"']
    assert "the agreed y of a blocks every package" in d.text
