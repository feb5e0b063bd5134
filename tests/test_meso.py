"""Equivalent offers (MESOs): equally good for us, Pareto-improving, feasible, as different as possible.

Checked against brute-force enumeration of every package of small scenarios."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from test_explain import US, deal, deal_data

from optimizer import Scenario
from optimizer.engine.milp import feasible_mask, violated_groups
from optimizer.errors import DealoptError
from optimizer.searches.improve import improve
from optimizer.searches.meso import equivalent_offers

ROOT = Path(__file__).resolve().parents[1]


def _all_packages(s: Scenario) -> np.ndarray:
    return np.array(list(itertools.product(*[range(i.size) for i in s.issues])), dtype=np.int64)


def _band_packages(s: Scenario, res, tolerance: float, anchor: np.ndarray) -> np.ndarray:
    """Every package an equivalent offer may be (brute force)."""
    idx = _all_packages(s)
    u = s.utilities(idx)
    names = s.party_names
    us = names.index(s.us_name)
    ref = np.array([res.reference_utilities[p] for p in names])
    target = res.packages[0].utilities[s.us_name]
    ok = feasible_mask(s, idx)
    ok &= np.all(u >= ref - 1e-9, axis=1) & np.any(u > ref + 1e-9, axis=1)
    ok &= (u[:, us] >= target - 1e-9) & (u[:, us] <= target + tolerance + 1e-9)
    for j, issue in enumerate(s.issues):
        if issue.status == "provisional":
            ok &= idx[:, j] == anchor[j]
    return idx[ok]


def _check_offers(s: Scenario, res, tolerance: float) -> list[np.ndarray]:
    names = s.party_names
    us = names.index(s.us_name)
    ref = np.array([res.reference_utilities[p] for p in names])
    rows = [s.encode(p.package) for p in res.packages]
    u = s.utilities(np.array(rows))
    assert u[:, us].max() - u[:, us].min() <= tolerance + 1e-6
    for row, urow, p in zip(rows, u, res.packages, strict=True):
        assert violated_groups(s, row) == []
        assert np.all(urow >= ref - 1e-9) and np.any(urow > ref + 1e-9)
        assert p.utilities == pytest.approx(dict(zip(names, urow, strict=True)))
        for issue in s.issues:
            if issue.status == "agreed":
                assert issue.index_of(p.package[issue.name]) == issue.index_of(issue.value)
    for a, b in itertools.combinations(rows, 2):
        assert np.any(a != b)
    return rows


@pytest.mark.parametrize("tolerance", [0.5, 3.0, 8.0])
def test_offers_match_brute_force(tolerance: float, solver: str) -> None:
    s = deal()
    res = equivalent_offers(s, 4, tolerance=tolerance, solver=solver)
    assert res.objective == "meso" and res.exact
    best = improve(s, top=1, solver=solver).packages[0]
    assert res.packages[0].package == best.package  # the anchor comes first
    rows = _check_offers(s, res, tolerance)
    band = _band_packages(s, res, tolerance, s.encode(best.package))
    assert len(rows) == min(4, len(band))
    open_pos = [j for j, i in enumerate(s.issues) if i.status == "open"]
    if len(rows) >= 2:
        # The second offer is as different from the first as any package in the band can be.
        most = max(int(np.sum(b[open_pos] != rows[0][open_pos])) for b in band)
        assert int(np.sum(rows[1][open_pos] != rows[0][open_pos])) == most
        assert res.packages[1].extra["min_differences"] == most
    if len(rows) >= 3:
        # The third maximises its smallest difference to the first two.
        def score(b: np.ndarray) -> int:
            return min(int(np.sum(b[open_pos] != r[open_pos])) for r in rows[:2])

        assert score(rows[2]) == max(score(b) for b in band if score(b) >= 1)
    if len(rows) < 4:
        assert res.explanation and "widen the tolerance" in res.explanation


def test_wider_tolerance_gives_more_offers() -> None:
    s = deal()
    narrow = equivalent_offers(s, 4, tolerance=0.0)
    wide = equivalent_offers(s, 4, tolerance=10.0)
    assert len(narrow.packages) <= len(wide.packages)
    assert len(wide.packages) == 4
    _check_offers(s, wide, 10.0)
    assert [p.extra["label"] for p in wide.packages] == [
        "Option A",
        "Option B",
        "Option C",
        "Option D",
    ]


def test_stated_target() -> None:
    s = deal()
    res = equivalent_offers(s, 3, tolerance=2.0, target=45.0)
    assert res.packages
    for p in res.packages:
        assert 45.0 - 1e-6 <= p.utilities[US] <= 47.0 + 1e-6
    _check_offers(s, res, 2.0)
    none = equivalent_offers(s, 3, tolerance=1.0, target=99.0)
    assert none.packages == [] and "between 99.0 and 100.0" in (none.explanation or "")


def test_saas_example_offers() -> None:
    s = Scenario.load(ROOT / "examples" / "saas_renewal.yaml")
    res = equivalent_offers(s, 3)
    assert len(res.packages) == 3
    _check_offers(s, res, 1.0)
    # The offers differ in what they give the other side.
    others = {round(p.utilities["CloudDesk"], 6) for p in res.packages}
    assert len(others) >= 2


def test_no_improvement_and_bad_arguments() -> None:
    data = deal_data()
    for issue in data["issues"]:
        issue["status"] = "agreed"
    s = Scenario.from_dict(data)
    res = equivalent_offers(s, 3)
    assert res.packages == [] and res.explanation
    with pytest.raises(DealoptError, match="between 1 and 26"):
        equivalent_offers(deal(), 0)
    with pytest.raises(DealoptError, match="tolerance"):
        equivalent_offers(deal(), 3, tolerance=-1)


def test_agreed_issue_carrying_all_our_weight(solver: str) -> None:
    """Issue 11 repro: the agreed issue is all we care about, one open issue (p/q, on the table q)
    all they care about. MESO used to exit with "internal error: an equivalent offer failed its
    check (it is not Pareto-improving)"; the one offer that exists comes back."""
    s = Scenario.from_dict(
        {
            "name": "agreed carries us",
            "us": "us",
            "parties": [
                {
                    "name": "us",
                    "preferences": {
                        "weights": {"a": 1, "x": 0},
                        "values": {"a": {"a0": 0, "a1": 100}, "x": {"p": 0, "q": 0}},
                    },
                },
                {
                    "name": "them",
                    "preferences": {
                        "weights": {"a": 0, "x": 1},
                        "values": {"a": {"a0": 0, "a1": 0}, "x": {"p": 100, "q": 0}},
                    },
                },
            ],
            "issues": [
                {"name": "a", "options": ["a0", "a1"], "status": "agreed", "value": "a1"},
                {"name": "x", "options": ["p", "q"], "value": "q"},
            ],
        }
    )
    res = equivalent_offers(s, 3, solver=solver)
    assert [p.package for p in res.packages] == [{"a": "a1", "x": "p"}]
    assert res.exact and "only 1 different Pareto-improving package" in res.explanation
