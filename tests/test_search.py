"""improve() against brute force: optimum, top-K order, feasibility, statuses, time limits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from bruteforce import enumerate_packages, pareto_improving, random_scenarios, reference_utilities
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import Scenario
from optimizer.engine import milp as model
from optimizer.errors import DealoptError, SolverError
from optimizer.searches.improve import improve

ROOT = Path(__file__).resolve().parents[1]


def _keys(s: Scenario, index: np.ndarray, U: np.ndarray, objective: str) -> np.ndarray:
    """Lexicographic keys (larger is better) of packages, as the search ranks them."""
    g = U - reference_utilities(s)
    prov = [(j, i.index_of(i.value)) for j, i in enumerate(s.issues) if i.status == "provisional"]
    reopened = np.zeros(len(index))
    for j, k in prov:
        reopened += index[:, j] != k
    if objective == "maxmin":
        cols = [g.min(axis=1), g.sum(axis=1), -reopened]
    else:
        cols = [g.sum(axis=1), g.min(axis=1), -reopened]
    return np.round(np.stack(cols, axis=1), 7)


def _sorted_keys(keys: np.ndarray) -> np.ndarray:
    order = np.lexsort(keys.T[::-1])[::-1]
    return keys[order]


def _check_common(s: Scenario, r, e, imp: np.ndarray) -> None:
    pos = {tuple(row): n for n, row in enumerate(e.index)}
    seen = set()
    ref = reference_utilities(s)
    for p in r.packages:
        key = tuple(s.encode(p.package))
        assert key not in seen  # distinct
        seen.add(key)
        n = pos[key]
        assert e.feasible[n], "returned package breaks a constraint, agreed issue or walk-away"
        assert imp[n], "returned package is not Pareto-improving"
        u = e.utilities[n]
        for i, party in enumerate(s.party_names):
            assert abs(p.utilities[party] - u[i]) < 1e-6
            assert abs(p.gains[party] - (u[i] - ref[i])) < 1e-6
        for ch in p.changes:
            issue = s.issue(ch.issue)
            if issue.status == "agreed":
                assert ch.change == "kept"
        assert p.reopened == [c.issue for c in p.changes if c.change == "reopened"]


@settings(
    max_examples=70,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    random_scenarios(max_packages=500),
    st.sampled_from(["maxmin", "welfare"]),
    st.sampled_from([0, 64]),
)
def test_improve_equals_bruteforce(solver: str, s: Scenario, objective: str, grid: int) -> None:
    """grid 0: numeric issues as pieces with integer offsets; 64: one binary per value."""
    e = enumerate_packages(s)
    imp = e.feasible & pareto_improving(e.utilities, reference_utilities(s))
    saved = model.GRID_LIMIT
    model.GRID_LIMIT = grid
    try:
        r = improve(s, objective=objective, top=3, solver=solver)
    finally:
        model.GRID_LIMIT = saved
    # Issue 11: a scenario no package fits reports "infeasible", never "optimal"
    assert r.exact and r.status.termination.value == (
        "optimal" if e.feasible.any() else "infeasible"
    ), r.status
    _check_common(s, r, e, imp)
    if not imp.any():
        assert r.packages == [] and r.explanation
        return
    want = _sorted_keys(_keys(s, e.index[imp], e.utilities[imp], objective))
    got_idx = np.array([s.encode(p.package) for p in r.packages])
    got_u = np.array([[p.utilities[n] for n in s.party_names] for p in r.packages])
    got = _keys(s, got_idx, got_u, objective)
    assert len(r.packages) == min(3, int(imp.sum()))
    assert np.allclose(got, want[: len(got)], atol=1e-6), (got, want[:3])


def _nash_ranking(s: Scenario, index: np.ndarray, U: np.ndarray) -> list[tuple]:
    """The documented Nash ranking (README "Ranking"), by brute force: packages improving every
    party strictly by (product, smallest gain, fewest reopened), then the other Pareto-improving
    packages by welfare (total gain, smallest gain, fewest reopened). Keys, best first."""
    g = U - reference_utilities(s)
    reopened = -_keys(s, index, U, "welfare")[:, 2]
    positive = np.all(g > 1e-9, axis=1)
    first = [
        ("nash", float(np.prod(g[i])), float(g[i].min()), float(reopened[i]))
        for i in np.flatnonzero(positive)
    ]
    rest = [
        ("welfare", float(g[i].sum()), float(g[i].min()), float(reopened[i]))
        for i in np.flatnonzero(~positive)
    ]
    first.sort(key=lambda k: (-k[1], -k[2], k[3]))
    rest.sort(key=lambda k: (-k[1], -k[2], k[3]))
    return first + rest


def _same_key(got: tuple, want: tuple) -> bool:
    return (
        got[0] == want[0]
        and abs(got[1] - want[1]) <= 1e-6 * max(1.0, abs(want[1]))
        and abs(got[2] - want[2]) <= 1e-6
        and got[3] == want[3]
    )


def _check_nash_top(s: Scenario, top: int, solver: str | None = None) -> None:
    e = enumerate_packages(s)
    ref = reference_utilities(s)
    imp = e.feasible & pareto_improving(e.utilities, ref)
    r = improve(s, objective="nash", top=top, solver=solver)
    assert r.exact and r.nash_method, r.status
    _check_common(s, r, e, imp)
    want = _nash_ranking(s, e.index[imp], e.utilities[imp])
    assert len(r.packages) == min(top, len(want))  # never shorter than max-min's list
    got_idx = np.array([s.encode(p.package) for p in r.packages]).reshape(-1, len(s.issues))
    got_u = np.array([[p.utilities[n] for n in s.party_names] for p in r.packages])
    got = _nash_ranking(s, got_idx, got_u) if len(got_idx) else []
    got_keys = [
        next(k for k in got if _same_key(k, _nash_ranking(s, i[None, :], u[None, :])[0]))
        for i, u in zip(got_idx, got_u, strict=True)
    ]
    for k, (pkg, key, w) in enumerate(zip(r.packages, got_keys, want, strict=False)):
        assert _same_key(key, w), (k, got_keys, want[:top])
        assert pkg.ranked_by == key[0]
        assert abs(pkg.objective - key[1]) <= 1e-6 * max(1.0, abs(key[1]))
    assert r.ranking == list(dict.fromkeys(k[0] for k in got_keys))
    if not want:
        assert r.packages == [] and r.explanation
    elif want[0][0] == "nash":
        assert r.nash_method.startswith("exact")
    else:
        assert "ranked by total gain" in r.nash_method
    if len(r.packages) < top:
        # (a deal on the table that breaks a rule is said first: see reference_breaks)
        assert (
            r.explanation.endswith(
                f"Only {len(r.packages)} different Pareto-improving "
                f"{'package exists' if len(r.packages) == 1 else 'packages exist'}."
            )
            or not r.packages
        )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(random_scenarios(max_packages=400, max_parties=3))
def test_nash_equals_bruteforce(s: Scenario) -> None:
    """The whole Nash top 3 (not only #1) is the brute-force ranking, ties by the documented rule."""
    _check_nash_top(s, 3)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(random_scenarios(max_packages=300, max_parties=3, max_options=3))
def test_nash_equals_bruteforce_both_solvers(solver: str, s: Scenario) -> None:
    _check_nash_top(s, 4, solver)


def _one_issue(us: dict, them: dict, table: str = "a") -> Scenario:
    opts = list(us)
    return Scenario.from_dict(
        {
            "name": "one issue",
            "parties": [
                {"name": "us", "preferences": {"weights": {"x": 1}, "values": {"x": us}}},
                {"name": "them", "preferences": {"weights": {"x": 1}, "values": {"x": them}}},
            ],
            "issues": [{"name": "x", "options": opts, "value": table}],
        }
    )


def test_nash_top3_keeps_packages_below_the_first_ones_floor(solver: str) -> None:
    """Issue 11 repro: c and d improve both (product 600 each) and follow b; the floor derived
    from #1 (gain 50) used to drop them, with "Only 1 ... of at least 50 exists"."""
    s = _one_issue({"a": 0, "b": 100, "c": 60, "d": 10}, {"a": 0, "b": 100, "c": 10, "d": 60})
    r = improve(s, objective="nash", top=3, solver=solver)
    assert [p.package["x"] for p in r.packages][0] == "b"
    assert sorted(p.package["x"] for p in r.packages[1:]) == ["c", "d"]
    assert [p.objective for p in r.packages] == [10000, 600, 600]
    assert r.explanation is None and r.ranking == ["nash"]
    r4 = improve(s, objective="nash", top=4, solver=solver)
    assert len(r4.packages) == 3
    assert r4.explanation == "Only 3 different Pareto-improving packages exist."
    _check_nash_top(s, 3, solver)


def test_nash_second_is_the_true_next_best_product(solver: str) -> None:
    """Issue 11: a #2 with product 3025 (55 x 55) was listed, one with 4000 (100 x 40) missed."""
    s = _one_issue(
        {"a": 0, "b": 100, "c": 55, "d": 100, "e": 5},
        {"a": 0, "b": 100, "c": 55, "d": 40, "e": 5},
    )
    r = improve(s, objective="nash", top=3, solver=solver)
    assert [p.package["x"] for p in r.packages] == ["b", "d", "c"]
    assert [p.objective for p in r.packages] == [10000, 4000, 3025]


def test_nash_ranks_zero_gain_packages_after_by_welfare(solver: str) -> None:
    """Issue 11: packages giving someone zero gain are Pareto-improving: they follow the ones
    improving everyone (by total gain), so the list is as long as max-min's; JSON says so."""
    s = _one_issue(
        {"a": 0, "b": 30, "c": 100, "d": 0, "e": 20},
        {"a": 0, "b": 100, "c": 0, "d": 50, "e": 0},
    )
    r = improve(s, objective="nash", top=4, solver=solver)
    assert [p.package["x"] for p in r.packages] == ["b", "c", "d", "e"]
    assert [p.ranked_by for p in r.packages] == ["nash", "welfare", "welfare", "welfare"]
    assert [p.objective for p in r.packages] == [3000, 100, 50, 20]
    assert r.ranking == ["nash", "welfare"]
    assert len(improve(s, objective="maxmin", top=4, solver=solver).packages) == 4
    data = json.loads(r.to_json())
    assert data["ranking"] == ["nash", "welfare"]
    assert [p["ranked_by"] for p in data["packages"]] == ["nash", "welfare", "welfare", "welfare"]
    # none improves everyone: every package is ranked by welfare, and the JSON says so
    s2 = _one_issue({"a": 0, "c": 100, "d": 0}, {"a": 0, "c": 0, "d": 100})
    r2 = improve(s2, objective="nash", top=3, solver=solver)
    assert sorted(p.package["x"] for p in r2.packages) == ["c", "d"]
    assert "ranked by total gain" in r2.nash_method
    assert json.loads(r2.to_json())["ranking"] == ["welfare"]
    for objective in ("maxmin", "welfare"):
        data = json.loads(improve(s, objective=objective, top=2, solver=solver).to_json())
        assert data["ranking"] == [objective]
        assert {p["ranked_by"] for p in data["packages"]} == {objective}


def test_min_diff_message_is_true() -> None:
    """With --min-diff the greedy list cannot claim that only N such packages exist."""
    s = _one_issue({"a": 0, "b": 100, "c": 60, "d": 10}, {"a": 0, "b": 100, "c": 10, "d": 60})
    s2 = Scenario.from_dict(
        {
            **s.model_dump(mode="json", exclude_none=True),
            "issues": [
                {"name": "x", "options": ["a", "b", "c", "d"], "value": "a"},
                {"name": "y", "options": ["a", "b"], "value": "a"},
            ],
        }
    )
    for objective in ("maxmin", "nash"):
        r = improve(s2, objective=objective, top=5, min_diff=2)
        assert "differs in at least 2 issues" in r.explanation
        assert "exist" not in r.explanation


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_scenarios(max_packages=300, statuses=False), st.integers(2, 3))
def test_min_diff_is_honoured(s: Scenario, d: int) -> None:
    e = enumerate_packages(s)
    imp = e.feasible & pareto_improving(e.utilities, reference_utilities(s))
    r = improve(s, top=4, min_diff=d)
    _check_common(s, r, e, imp)
    idx = [s.encode(p.package) for p in r.packages]
    for a in range(len(idx)):
        for b in range(a):
            assert np.sum(idx[a] != idx[b]) >= min(d, len(s.issues))
    if imp.any():
        want = _sorted_keys(_keys(s, e.index[imp], e.utilities[imp], "maxmin"))[0]
        got = _keys(
            s,
            np.array(idx[:1]),
            np.array([[r.packages[0].utilities[n] for n in s.party_names]]),
            "maxmin",
        )[0]
        assert np.allclose(got, want, atol=1e-6)


def _provisional_scenario(status: str) -> Scenario:
    """Two issues: 'extras' gives a strict gain when moved; 'colour' is worth nothing to anyone
    except that moving it is free: keeping it gives the same optimum."""
    return Scenario.from_dict(
        {
            "name": "prov",
            "parties": [
                {
                    "name": "A",
                    "preferences": {
                        "weights": {"extras": 1, "colour": 0, "term": 1},
                        "values": {
                            "extras": {"none": 0, "some": 10},
                            "colour": {"red": 5, "blue": 5},
                            "term": {"short": 10, "long": 4},
                        },
                    },
                },
                {
                    "name": "B",
                    "preferences": {
                        "weights": {"extras": 1, "colour": 0, "term": 1},
                        "values": {
                            "extras": {"none": 4, "some": 10},
                            "colour": {"red": 1, "blue": 1},
                            "term": {"short": 10, "long": 10},
                        },
                    },
                },
            ],
            "issues": [
                {"name": "extras", "options": ["none", "some"], "value": "none"},
                {"name": "colour", "options": ["red", "blue"], "status": status, "value": "red"},
                {
                    "name": "term",
                    "options": ["short", "long"],
                    "status": "provisional",
                    "value": "long",
                },
            ],
        }
    )


def test_provisional_kept_unless_reopening_gains(solver: str) -> None:
    s = _provisional_scenario("provisional")
    r = improve(s, solver=solver)
    best = r.packages[0]
    change = {c.issue: c.change for c in best.changes}
    # colour: moving it gains nothing, so it is kept; term: moving it is a strict gain for A.
    assert change == {"extras": "changed", "colour": "kept", "term": "reopened"}
    assert best.reopened == ["term"]
    assert best.gains == {"A": 80.0, "B": 30.0}
    # top-2: the runner-up does reopen colour (same utilities), and says so
    r2 = improve(s, top=2, solver=solver)
    assert r2.packages[1].reopened == ["colour", "term"]
    assert r2.packages[1].gains == best.gains


def test_agreed_issue_is_never_moved(solver: str) -> None:
    s = _provisional_scenario("agreed")
    r = improve(s, top=5, solver=solver)
    assert r.packages
    assert all(p.package["colour"] == "red" for p in r.packages)
    assert len(r.packages) == 3  # extras x term with colour fixed, minus the reference itself


def test_saas_example_improves_for_both(solver: str) -> None:
    s = Scenario.load(ROOT / "examples" / "saas_renewal.yaml")
    e = enumerate_packages(s)
    imp = e.feasible & pareto_improving(e.utilities, reference_utilities(s))
    for objective in ("maxmin", "welfare", "nash"):
        r = improve(s, objective=objective, top=3, solver=solver)
        assert r.exact and len(r.packages) == 3
        _check_common(s, r, e, imp)
    g = e.utilities[imp] - reference_utilities(s)
    r = improve(s, solver=solver)
    assert abs(r.packages[0].objective - g.min(axis=1).max()) < 1e-9


def test_no_deal_uses_reservation_values() -> None:
    s = _provisional_scenario("open")
    data = s.to_dict()
    for i in data["issues"]:
        i.pop("value", None)
        i["status"] = "open"
    data["parties"][0]["reservation_value"] = 40
    s2 = Scenario.from_dict(data)
    assert s2.reference() is None
    r = improve(s2)
    assert r.reference is None
    assert r.reference_utilities == {"A": 40.0, "B": 0.0}
    assert all(p.utilities["A"] >= 40 and p.gains["B"] >= 0 for p in r.packages)
    assert all(c.change == "set" for c in r.packages[0].changes)


def test_reference_already_on_frontier_is_explained() -> None:
    s = Scenario.from_dict(
        {
            "name": "zero-sum",
            "parties": [
                {
                    "name": "A",
                    "preferences": {"weights": {"x": 1}, "values": {"x": {"a": 10, "b": 0}}},
                },
                {
                    "name": "B",
                    "preferences": {"weights": {"x": 1}, "values": {"x": {"a": 0, "b": 10}}},
                },
            ],
            "issues": [{"name": "x", "options": ["a", "b"], "value": "a"}],
        }
    )
    r = improve(s, top=3)
    assert r.packages == [] and r.exact
    assert "already on the Pareto frontier" in r.explanation


def _big_random(seed: int, n_issues: int = 40, n_opts: int = 8) -> Scenario:
    rng = np.random.default_rng(seed)
    issues = [
        {"name": f"i{k}", "options": [f"o{x}" for x in range(n_opts)], "value": "o0"}
        for k in range(n_issues)
    ]
    parties = []
    for p in range(3):
        parties.append(
            {
                "name": f"P{p}",
                "preferences": {
                    "weights": {f"i{k}": int(rng.integers(1, 10)) for k in range(n_issues)},
                    "values": {
                        f"i{k}": {f"o{x}": int(rng.integers(0, 100)) for x in range(n_opts)}
                        for k in range(n_issues)
                    },
                },
            }
        )
    cons = [
        {
            "type": "budget",
            "costs": {
                f"i{k}": {f"o{x}": int(rng.integers(0, 20)) for x in range(n_opts)}
                for k in range(n_issues)
            },
            "limit": 150,
        }
    ]
    return Scenario.from_dict(
        {"name": "big", "parties": parties, "issues": issues, "constraints": cons}
    )


def test_time_limited_run_is_never_exact() -> None:
    s = _big_random(1)
    r = improve(s, objective="nash", top=5, time_limit=0.01)
    assert not r.exact
    assert r.status.termination.value in ("time_limit", "not_solved")
    assert r.to_json_dict()["exact"] is False
    assert r.to_json_dict()["status"] == r.status.termination.value


def test_bad_arguments() -> None:
    s = _provisional_scenario("open")
    with pytest.raises(DealoptError, match="objective"):
        improve(s, objective="best")
    with pytest.raises(DealoptError, match="top"):
        improve(s, top=0)
    with pytest.raises(DealoptError, match="min_diff"):
        improve(s, min_diff=0)
    with pytest.raises(SolverError, match="available"):
        improve(s, solver="gurobi")
    with pytest.raises(DealoptError, match="time limit"):
        improve(s, time_limit=-1)


def test_time_limit_inside_a_solve_keeps_verified_packages() -> None:
    s = _big_random(3, n_issues=80, n_opts=10)  # proving top-2 takes about 4 s
    r = improve(s, top=2, time_limit=1.0)
    assert not r.exact and r.status.termination.value == "time_limit"
    assert "time limit" in r.status.message
    ref = reference_utilities(s)
    for p in r.packages:  # an incumbent is still feasible and Pareto-improving
        u = s.utilities([p.package])[0]
        assert np.all(u >= ref - 1e-9) and np.any(u > ref + 1e-9)
    if r.packages:
        assert "may not be the best" in r.explanation


# -- HiGHS presolve regressions (found by test_improve_equals_bruteforce[highs]) ----------------


def _presolve_case(p1: tuple, p2: tuple, p1_reservation: float) -> Scenario:
    """Three parties, a numeric issue and three categorical ones. P0 only cares about n0. ``p1`` /
    ``p2``: (weights of n0, i1, i2, i3; values of i1, i2, i3), n0 a peak at 0 for P1 and
    increasing for P2."""
    options = {"i1": ["o10", "o11", "o12"], "i2": ["o20", "o21", "o22"]}
    options["i3"] = ["o30", "o31", "o32", "o33"]

    def prefs(weights: tuple, values: tuple, n0: dict) -> dict:
        vals: dict = {"n0": n0}
        for (issue, opts), row in zip(options.items(), values, strict=True):
            vals[issue] = dict(zip(opts, row, strict=True))
        return {"weights": dict(zip(["n0", *options], weights, strict=True)), "values": vals}

    zero = tuple(tuple(0 for _ in opts) for opts in options.values())
    p0 = prefs((1, 0, 0, 0), zero, {"shape": "piecewise", "points": [[0, 1], [4, 0]]})
    return Scenario.from_dict(
        {
            "name": "presolve",
            "utility_scale": 100,
            "parties": [
                {"name": "P0", "preferences": p0},
                {
                    "name": "P1",
                    "preferences": prefs(*p1, {"shape": "peak", "peak": 0}),
                    "reservation_value": p1_reservation,
                },
                {
                    "name": "P2",
                    "preferences": prefs(*p2, {"shape": "increasing"}),
                    "reservation_value": 0,
                },
            ],
            "issues": [
                {"name": "n0", "min": 0, "max": 4, "step": 1, "unit": "u"},
                *[{"name": k, "options": v} for k, v in options.items()],
            ],
        }
    )


PRESOLVE_CASES = {  # both tripped HiGHS 1.16's "Enumeration" presolve rule (optimizer.engine.solvers)
    # Stage 2 (largest total among min gain 137/3) came back "Infeasible" and the search kept the
    # stage-1 package: HiGHS ranked (45.67, 202.81) before (45.67, 217.10).
    "tie_break_infeasible": (
        ((2, 1, 1, 0), ((2, 0, 3), (2, 3, 0), (0, 0, 0, 0))),
        ((1, 1, 1, 4), ((0, 1, 1), (0, 0, 1), (0, 0, 1, 2))),
        46,
    ),
    # Stage 2 came back "Solve error" (PuLP: "Not Solved"): 2 packages and not_solved.
    "tie_break_solve_error": (
        ((1, 1, 1, 0), ((1, 0, 1), (1, 0, 1), (0, 0, 0, 0))),
        ((1, 1, 1, 2), ((0, 1, 1), (0, 1, 2), (0, 0, 1, 2))),
        32,
    ),
}

WANT_TOP3 = {  # (smallest gain, total gain) of the best three maxmin packages (brute force)
    "tie_break_infeasible": [
        (54, 225 + 3 / 7),
        (45 + 2 / 3, 217 + 2 / 21),
        (45 + 2 / 3, 202 + 17 / 21),
    ],
    "tie_break_solve_error": [(68, 248), (60, 228), (60, 228)],
}


def _check_top3(s: Scenario, r, case: str) -> None:
    e = enumerate_packages(s)
    imp = e.feasible & pareto_improving(e.utilities, reference_utilities(s))
    _check_common(s, r, e, imp)
    want = _sorted_keys(_keys(s, e.index[imp], e.utilities[imp], "maxmin"))[:3]
    assert np.allclose(want[:, :2], WANT_TOP3[case], atol=1e-5)  # the yardstick itself
    got_idx = np.array([s.encode(p.package) for p in r.packages])
    got_u = np.array([[p.utilities[n] for n in s.party_names] for p in r.packages])
    assert np.allclose(_keys(s, got_idx, got_u, "maxmin"), want, atol=1e-6)


@pytest.mark.parametrize("case", PRESOLVE_CASES)
def test_presolve_regressions(solver: str, case: str) -> None:
    """Both cases rank exactly with every solver (HiGHS: with its Enumeration rule off)."""
    s = _presolve_case(*PRESOLVE_CASES[case])
    r = improve(s, objective="maxmin", top=3, solver=solver)
    assert r.exact and r.status.termination.value == "optimal", r.status
    assert len(r.packages) == 3
    _check_top3(s, r, case)


@pytest.mark.parametrize("case", PRESOLVE_CASES)
@pytest.mark.parametrize("defence", ["solver_retry", "search_retry"])
def test_highs_presolve_fallbacks(monkeypatch, case: str, defence: str) -> None:
    """With the wrong presolve rule back on, HiGHS's own contradiction makes solvers.solve solve
    again without presolve (``solver_retry``). With that check off too (``search_retry``), the
    search still confirms every "infeasible" without presolve, and a failed solve it cannot
    recover from is reported, never ranked as if it were exact."""
    from optimizer.engine import solvers

    if not solvers.is_available("highs"):
        pytest.skip("highs is not installed")
    monkeypatch.setattr(solvers, "HIGHS_PRESOLVE_RULES_OFF", 0)
    if defence == "search_retry":
        status = solvers._highs_status
        monkeypatch.setattr(solvers, "_highs_status", lambda prob: (*status(prob)[:2], False))
    s = _presolve_case(*PRESOLVE_CASES[case])
    r = improve(s, objective="maxmin", top=3, solver="highs")
    if r.exact or defence == "solver_retry" or case == "tie_break_infeasible":
        assert r.exact and r.status.termination.value == "optimal", r.status
        assert len(r.packages) == 3
        _check_top3(s, r, case)
        return
    # HiGHS fails the solve itself ("Solve error"): said so, and what is shown is still valid
    assert r.status.termination.value == "error" and "Solve error" in r.status.message
    assert r.packages and "may not be the best" in r.explanation
    e = enumerate_packages(s)
    _check_common(s, r, e, e.feasible & pareto_improving(e.utilities, reference_utilities(s)))


def _cbc_preprocess_case() -> Scenario:
    """Two parties, five yes/no issues; P1 only cares about i1. Its third maxmin package has a
    smallest gain of 91.67 (= 25 + 58.33 + 8.33), and fixing that for the tie-break made CBC's
    preprocessing say "infeasible" although the package itself satisfies the stage."""
    p0 = {"i0": (1, 0), "i1": (0, 0), "i2": (1, 0), "i3": (2, 1), "i4": (1, 0)}
    weights0 = {"i0": 1, "i1": 0, "i2": 3, "i3": 7, "i4": 1}

    def values(table: dict) -> dict:
        return {k: {f"o{k[1]}{x}": v for x, v in enumerate(row)} for k, row in table.items()}

    p1 = {k: (0, 1) if k == "i1" else (0, 0) for k in p0}
    return Scenario.from_dict(
        {
            "name": "cbc-preprocess",
            "parties": [
                {"name": "P0", "preferences": {"weights": weights0, "values": values(p0)}},
                {
                    "name": "P1",
                    "preferences": {
                        "weights": {k: int(k == "i1") for k in p0},
                        "values": values(p1),
                    },
                    "reservation_value": 0,
                },
            ],
            "issues": [{"name": k, "options": [f"o{k[1]}0", f"o{k[1]}1"]} for k in p0],
        }
    )


@pytest.mark.parametrize("grid", [0, 64])
def test_false_infeasible_stage_is_solved_again(solver: str, grid: int) -> None:
    """A tie-break stage the solver calls infeasible is re-solved without presolve (CBC's
    preprocessing got this one wrong); the result is exact and equals brute force."""
    s = _cbc_preprocess_case()
    saved = model.GRID_LIMIT
    model.GRID_LIMIT = grid
    try:
        r = improve(s, objective="maxmin", top=3, solver=solver)
    finally:
        model.GRID_LIMIT = saved
    assert r.exact and r.status.termination.value == "optimal", r.status
    e = enumerate_packages(s)
    imp = e.feasible & pareto_improving(e.utilities, reference_utilities(s))
    _check_common(s, r, e, imp)
    want = _sorted_keys(_keys(s, e.index[imp], e.utilities[imp], "maxmin"))[:3]
    assert np.allclose(want[:, :2], [(100, 200), (275 / 3, 575 / 3), (275 / 3, 575 / 3)])
    got_idx = np.array([s.encode(p.package) for p in r.packages])
    got_u = np.array([[p.utilities[n] for n in s.party_names] for p in r.packages])
    assert np.allclose(_keys(s, got_idx, got_u, "maxmin"), want, atol=1e-6)


def test_infeasible_end_of_list_is_exact(solver: str) -> None:
    """The list ends when the last stage-1 solve is infeasible; confirming that without presolve
    must not turn it into an error (CBC 2.10 without preprocessing crashes writing the solution
    of this model after proving it infeasible: the first verdict stands)."""
    s = Scenario.from_dict(
        {
            "name": "short-list",
            "parties": [
                {
                    "name": "P0",
                    "preferences": {
                        "weights": {"i0": 1, "i1": 0},
                        "values": {"i0": {"o00": 0, "o01": 0}, "i1": {"o10": 0, "o11": 0}},
                    },
                },
                {
                    "name": "P1",
                    "preferences": {
                        "weights": {"i0": 1, "i1": 0},
                        "values": {"i0": {"o00": 1, "o01": 0}, "i1": {"o10": 0, "o11": 0}},
                    },
                    "reservation_value": 0,
                },
            ],
            "issues": [
                {"name": "i0", "options": ["o00", "o01"]},
                {"name": "i1", "options": ["o10", "o11"]},
            ],
            "constraints": [
                {"type": "budget", "costs": {"i0": {"o00": 0, "o01": 2}}, "limit": 1, "unit": "k"}
            ],
        }
    )
    r = improve(s, objective="maxmin", top=3, solver=solver)
    assert r.exact and r.status.termination.value == "optimal", r.status
    assert sorted(p.package["i1"] for p in r.packages) == ["o10", "o11"]
    assert all(p.package["i0"] == "o00" and p.gains == {"P0": 0, "P1": 100} for p in r.packages)
    assert r.explanation == "Only 2 different Pareto-improving packages exist."


def test_tie_break_stage_called_infeasible_is_loud(monkeypatch) -> None:
    """A tie-break stage cannot be infeasible (the previous stage's package fits it). If the
    solver still says so, the search stops with not_solved and keeps only verified packages; it
    never ranks the previous stage's package as the tie-break's optimum."""
    from optimizer.engine.milp import CompiledModel
    from optimizer.engine.results import Termination

    real = CompiledModel.solve
    calls: list[int] = []

    def solve(self, *args, **kwargs):
        out = real(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == 4:  # package 2, stage 2 (largest total among the best smallest gains)
            out.termination, out.has_solution = Termination.infeasible, False
        return out

    monkeypatch.setattr(CompiledModel, "solve", solve)
    s = _presolve_case(*PRESOLVE_CASES["tie_break_infeasible"])
    r = improve(s, objective="maxmin", top=3)
    assert not r.exact and r.status.termination.value == "not_solved"
    assert "tie-break stage 2 infeasible" in r.status.message
    assert len(r.packages) == 2 and "may not be the best" in r.explanation
    e = enumerate_packages(s)
    _check_common(s, r, e, e.feasible & pareto_improving(e.utilities, reference_utilities(s)))


def test_tie_whose_model_gain_is_float_noise(solver: str) -> None:
    """P1's gain at (o01, o11) is 0 but -1e-11 in the model (sums of 100/3). With exact
    ``gain >= 0`` rows CBC's preprocessing dropped that tie and its tie-break returned total 33.3
    instead of 100 as "optimal"; the rows carry the 1e-9 tie tolerance, as numpy does."""
    s = Scenario.from_dict(
        {
            "name": "float-noise-tie",
            "parties": [
                {
                    "name": "P0",
                    "preferences": {
                        "weights": {"i0": 1, "i1": 0},
                        "values": {
                            "i0": {"o00": 0, "o01": 1},
                            "i1": {"o10": 0, "o11": 0, "o12": 0, "o13": 0},
                        },
                    },
                },
                {
                    "name": "P1",
                    "preferences": {
                        "weights": {"i0": 2, "i1": 4},
                        "values": {
                            "i0": {"o00": 1, "o01": 1},
                            "i1": {"o10": 2, "o11": 1, "o12": 0, "o13": 0},
                        },
                    },
                    "reservation_value": 0,
                },
            ],
            "issues": [
                {"name": "i0", "options": ["o00", "o01"], "status": "provisional", "value": "o00"},
                {"name": "i1", "options": ["o10", "o11", "o12", "o13"], "value": "o11"},
            ],
        }
    )
    e = enumerate_packages(s)
    imp = e.feasible & pareto_improving(e.utilities, reference_utilities(s))
    want = _sorted_keys(_keys(s, e.index[imp], e.utilities[imp], "maxmin"))[:3]
    assert np.allclose(want, [(100 / 3, 400 / 3, -1), (0, 100, -1), (0, 100 / 3, 0)])
    for grid in (0, 64):
        saved = model.GRID_LIMIT
        model.GRID_LIMIT = grid
        try:
            r = improve(s, objective="maxmin", top=3, solver=solver)
        finally:
            model.GRID_LIMIT = saved
        assert r.exact and r.status.termination.value == "optimal", r.status
        _check_common(s, r, e, imp)
        got_idx = np.array([s.encode(p.package) for p in r.packages])
        got_u = np.array([[p.utilities[n] for n in s.party_names] for p in r.packages])
        assert np.allclose(_keys(s, got_idx, got_u, "maxmin"), want, atol=1e-6)


NAN_CASE = {  # HiGHS 1.16 (Enumeration rule off) answered stage 1 "Optimal" with NaN values
    "name": "nan-answer",
    "parties": [
        {
            "name": "P0",
            "preferences": {
                "weights": {"i0": 1, "n1": 0, "i2": 5, "i3": 1},
                "values": {
                    "i0": {"o00": 2, "o01": 0, "o02": 3},
                    "n1": {"shape": "piecewise", "points": [[0, 0], [4, 0]]},
                    "i2": {"o20": 5, "o21": 3, "o22": 3},
                    "i3": {"o30": 1, "o31": 0, "o32": 0},
                },
            },
        },
        {
            "name": "P1",
            "preferences": {
                "weights": {"i0": 1, "n1": 0, "i2": 0, "i3": 0},
                "values": {
                    "i0": {"o00": 2, "o01": 2, "o02": 2},
                    "n1": {"shape": "increasing"},
                    "i2": {"o20": 0, "o21": 0, "o22": 0},
                    "i3": {"o30": 0, "o31": 0, "o32": 0},
                },
            },
        },
        {
            "name": "P2",
            "preferences": {
                "weights": {"i0": 6, "n1": 6, "i2": 6, "i3": 4},
                "values": {
                    "i0": {"o00": 3, "o01": 6, "o02": 4},
                    "n1": {"shape": "increasing"},
                    "i2": {"o20": 3, "o21": 4, "o22": 6},
                    "i3": {"o30": 1, "o31": 0, "o32": 0},
                },
                "synergies": [{"when": {"i0": "o02", "i3": "o31"}, "bonus": 1}],
            },
        },
    ],
    "issues": [
        {"name": "i0", "options": ["o00", "o01", "o02"]},
        {"name": "n1", "min": 0, "max": 4, "step": 1, "unit": "u", "status": "agreed", "value": 1},
        {"name": "i2", "options": ["o20", "o21", "o22"]},
        {"name": "i3", "options": ["o30", "o31", "o32"]},
    ],
}


def test_solver_answer_with_nan_values_is_not_taken(solver: str) -> None:
    """decode() read NaN as piece 0 and verify() let NaN utilities through, so the second package
    had a smallest gain of 56.8 instead of 65.9. Every answer is now checked against the rows."""
    s = Scenario.from_dict(NAN_CASE)
    saved = model.GRID_LIMIT
    model.GRID_LIMIT = 0
    try:
        r = improve(s, objective="maxmin", top=3, solver=solver)
    finally:
        model.GRID_LIMIT = saved
    assert r.exact and r.status.termination.value == "optimal", r.status
    e = enumerate_packages(s)
    imp = e.feasible & pareto_improving(e.utilities, reference_utilities(s))
    _check_common(s, r, e, imp)
    want = _sorted_keys(_keys(s, e.index[imp], e.utilities[imp], "maxmin"))[:3]
    assert np.allclose(want[:, 0], [70.4545455, 65.9090909, 65.9090909])
    got_idx = np.array([s.encode(p.package) for p in r.packages])
    got_u = np.array([[p.utilities[n] for n in s.party_names] for p in r.packages])
    assert np.allclose(_keys(s, got_idx, got_u, "maxmin"), want, atol=1e-6)


DOUBLETON_CASE = json.loads(  # HiGHS's "Doubleton equation" presolve rule lost the 70 optimum
    '{"name": "doubleton", "parties": [{"name": "P0", "preferences": {"weights": {"i0": 2, '
    '"n1": 0, "i2": 1, "i3": 0, "n4": 1}, "values": {"i0": {"o00": 0, "o01": 1}, "n1": {"shape": '
    '"increasing"}, "i2": {"o20": 3, "o21": 0, "o22": 1}, "i3": {"o30": 0, "o31": 0, "o32": 0}, '
    '"n4": {"shape": "increasing"}}}, "reservation_value": 0}, {"name": "P1", "preferences": '
    '{"weights": {"i0": 0, "n1": 2, "i2": 2, "i3": 5, "n4": 0}, "values": {"i0": {"o00": 0, '
    '"o01": 0}, "n1": {"shape": "increasing"}, "i2": {"o20": 2, "o21": 5, "o22": 0}, "i3": '
    '{"o30": 0, "o31": 0, "o32": 1}, "n4": {"shape": "piecewise", "points": [[0, 0], [2, 0]]}}}, '
    '"reservation_value": 0}, {"name": "P2", "preferences": {"weights": {"i0": 0, "n1": 3, '
    '"i2": 3, "i3": 1, "n4": 1}, "values": {"i0": {"o00": 0, "o01": 0}, "n1": {"shape": "peak", '
    '"peak": 0}, "i2": {"o20": 2, "o21": 1, "o22": 0}, "i3": {"o30": 0, "o31": 0, "o32": 0}, '
    '"n4": {"shape": "increasing"}}}, "reservation_value": 0}], "issues": [{"name": "i0", '
    '"options": ["o00", "o01"]}, {"name": "n1", "min": 0, "max": 4, "step": 1, "unit": "u"}, '
    '{"name": "i2", "options": ["o20", "o21", "o22"]}, {"name": "i3", "options": ["o30", "o31", '
    '"o32"]}, {"name": "n4", "min": 0, "max": 2, "step": 1, "unit": "u"}]}'
)


def test_presolve_never_drops_the_optimum(solver: str) -> None:
    """HiGHS answered the second package's smallest gain 68.75 "Optimal" though 70 exists (its
    "Doubleton equation" presolve rule, now switched off); the top 3 equal brute force."""
    s = Scenario.from_dict(DOUBLETON_CASE)
    saved = model.GRID_LIMIT
    model.GRID_LIMIT = 0
    try:
        r = improve(s, objective="maxmin", top=3, solver=solver)
    finally:
        model.GRID_LIMIT = saved
    assert r.exact and r.status.termination.value == "optimal", r.status
    e = enumerate_packages(s)
    imp = e.feasible & pareto_improving(e.utilities, reference_utilities(s))
    _check_common(s, r, e, imp)
    want = _sorted_keys(_keys(s, e.index[imp], e.utilities[imp], "maxmin"))[:3]
    assert np.allclose(want[:, :2], [(70, 248.125), (70, 229.375), (68.75, 244.3055556)])
    got_idx = np.array([s.encode(p.package) for p in r.packages])
    got_u = np.array([[p.utilities[n] for n in s.party_names] for p in r.packages])
    assert np.allclose(_keys(s, got_idx, got_u, "maxmin"), want, atol=1e-6)


@st.composite
def agreed_carries_one_side(draw) -> Scenario:
    """Issue 11: scenarios where agreed issues carry all of one party's weight (that party can
    gain nothing: every Pareto-improving package leaves it at zero gain)."""
    s = draw(random_scenarios(max_packages=300, max_parties=3, max_options=3))
    d = s.model_dump(mode="json", exclude_none=True)
    issues = d["issues"]
    k = draw(st.integers(0, len(issues) - 1))
    if issues[k].get("status") != "agreed":
        grid = s.issues[k].options or list(s.issues[k].grid())
        issues[k]["status"] = "agreed"
        issues[k]["value"] = grid[draw(st.integers(0, len(grid) - 1))]
    agreed = {i["name"] for i in issues if i.get("status") == "agreed"}
    p = draw(st.integers(0, len(d["parties"]) - 1))
    w = d["parties"][p]["preferences"]["weights"]
    for name in w:
        w[name] = draw(st.integers(1, 5)) if name in agreed else 0
    return Scenario.from_dict(d)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agreed_carries_one_side(), st.sampled_from(["maxmin", "welfare", "nash"]))
def test_agreed_issues_carrying_one_sides_weight(s: Scenario, objective: str) -> None:
    from optimizer.searches.meso import equivalent_offers

    e = enumerate_packages(s)
    imp = e.feasible & pareto_improving(e.utilities, reference_utilities(s))
    if objective == "nash":
        _check_nash_top(s, 3)
    else:
        r = improve(s, objective=objective, top=3)
        assert r.exact
        _check_common(s, r, e, imp)
        want = _sorted_keys(_keys(s, e.index[imp], e.utilities[imp], objective))
        got_idx = np.array([s.encode(p.package) for p in r.packages]).reshape(-1, len(s.issues))
        got_u = np.array([[p.utilities[n] for n in s.party_names] for p in r.packages])
        assert len(r.packages) == min(3, int(imp.sum()))
        if len(got_idx):
            got = _keys(s, got_idx, got_u.reshape(len(got_idx), -1), objective)
            assert np.allclose(got, want[: len(got)], atol=1e-6)
    offers = equivalent_offers(s, 3)  # never an internal error (issue 11, --meso)
    pos = {tuple(row): n for n, row in enumerate(e.index)}
    for p in offers.packages:
        assert imp[pos[tuple(s.encode(p.package))]]
    assert bool(offers.packages) == bool(imp.any())
