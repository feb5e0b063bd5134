"""The compiled model equals the numpy evaluator on every package; rows match numpy feasibility."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bruteforce import enumerate_packages, random_scenarios
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import Scenario
from optimizer.engine.milp import compile_scenario, feasible_mask, scenario_groups
from optimizer.engine.results import Termination
from optimizer.engine.solvers import available_solvers, make_solver, resolve_name, termination_of
from optimizer.errors import ModelError, SolverError

ROOT = Path(__file__).resolve().parents[1]


def _salary_scenario(shape: dict, *, constraints: list | None = None) -> Scenario:
    return Scenario.from_dict(
        {
            "name": "offer",
            "parties": [
                {
                    "name": "me",
                    "preferences": {
                        "weights": {"salary": 3, "remote": 1},
                        "values": {"salary": shape, "remote": {"0": 0, "2": 6, "5": 10}},
                    },
                },
                {
                    "name": "firm",
                    "preferences": {
                        "weights": {"salary": 2, "remote": 1},
                        "values": {
                            "salary": {"shape": "decreasing"},
                            "remote": {"0": 10, "2": 7, "5": 0},
                        },
                        "synergies": [{"when": {"salary": 120000, "remote": "5"}, "bonus": -7}],
                    },
                },
            ],
            "issues": [
                {"name": "salary", "min": 80000, "max": 140000, "step": 500, "unit": "EUR"},
                {"name": "remote", "options": ["0", "2", "5"]},
            ],
            "constraints": constraints or [],
        }
    )


@pytest.mark.parametrize(
    "shape",
    [
        {"shape": "increasing"},
        {"shape": "peak", "peak": 111250},  # between grid points: kink off the grid
        {"shape": "piecewise", "points": [[90000, 2], [100000, 9], [125000, 10], [130000, 4]]},
    ],
)
def test_salary_grid_is_exact_and_cheap(shape: dict, solver: str) -> None:
    s = _salary_scenario(shape)
    m = compile_scenario(s)
    assert m.n_pieces <= 12  # 121 salary values cost a few pieces, not 121 binaries
    e = enumerate_packages(s)
    rng = np.random.default_rng(0)
    for row in e.index[rng.choice(len(e.index), 25, replace=False)]:
        for j, k in enumerate(row):
            m.fix(j, int(k))
        out = m.solve(solver)
        assert out.termination == Termination.optimal
        assert np.array_equal(m.decode(), row)
        got = m.verify()
        assert np.allclose(got, m.model_utilities(), atol=1e-6)
    for j in range(2):
        m.free(j)
    for p, name in enumerate(s.party_names):
        m.set_objective(m.utility[name])
        m.solve(solver)
        assert abs(m.verify()[p] - e.utilities[:, p].max()) < 1e-6


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_scenarios(max_packages=600), st.integers(0, 2**31), st.sampled_from([0, 64]))
def test_compiled_utilities_and_rows_match_numpy(s: Scenario, seed: int, grid_limit: int) -> None:
    """For random packages: the model's utilities equal numpy; the rows accept exactly numpy's."""
    e = enumerate_packages(s)
    m = compile_scenario(s, grid_limit=grid_limit)
    free = compile_scenario(s, groups=[], grid_limit=grid_limit)
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(e.index), min(6, len(e.index)), replace=False)
    for n in picks:
        row = e.index[n]
        for j, k in enumerate(row):
            free.fix(j, int(k))
            m.fix(j, int(k))
        assert free.solve().termination == Termination.optimal
        assert np.array_equal(free.decode(), row)
        assert np.allclose(free.verify(), e.utilities[n], atol=1e-9)
        assert np.allclose(free.model_utilities(), e.utilities[n], atol=1e-6)
        out = m.solve()
        assert (out.termination == Termination.optimal) == bool(e.feasible[n])
        assert bool(feasible_mask(s, row[None, :])[0]) == bool(e.feasible[n])
    # maximising each party over the full model gives the brute-force optimum
    if e.feasible.any():
        for j in range(len(s.issues)):
            m.free(j)
        for p, name in enumerate(s.party_names):
            m.set_objective(m.utility[name])
            assert m.solve().termination == Termination.optimal
            u = m.verify()
            assert abs(u[p] - e.utilities[e.feasible, p].max()) < 1e-6


def test_saas_groups_and_verify() -> None:
    s = Scenario.load(ROOT / "examples" / "saas_renewal.yaml")
    labels = [g.label for g in scenario_groups(s)]
    assert labels == [
        'constraint "vendor price floor"',
        'constraint "no enterprise support on a one-year term"',
        'constraint "our annual software budget"',
        'walk-away "Northwind Ops"',
        'walk-away "CloudDesk"',
        'agreed "seats"',
        'agreed "SLA"',
    ]
    m = compile_scenario(s)
    m.set_objective(m.utility["Northwind Ops"])
    m.solve()
    idx = m.decode()
    pkg = m.package(idx)
    assert pkg["seats"] == 250 and pkg["SLA"] == "99.9%" and pkg["price per seat"] >= 44
    # a package breaking the floor is caught by verify (a loud internal error)
    bad = idx.copy()
    bad[0] = 0  # 40 USD/month
    with pytest.raises(ModelError):
        m.verify(bad)


def test_exclude_and_min_diff_cuts() -> None:
    s = _salary_scenario({"shape": "peak", "peak": 111250})
    m = compile_scenario(s, groups=[])
    m.set_objective(m.utility["me"])
    m.solve()
    first = m.decode()
    m.exclude(first)
    m.solve()
    second = m.decode()
    assert not np.array_equal(first, second)
    m.exclude(first, min_diff=2)
    m.solve()
    third = m.decode()
    assert np.all(third != first)


def test_status_mapping() -> None:
    import pulp

    assert termination_of(1, 1, time_limited=False) == Termination.optimal
    assert termination_of(1, 2, time_limited=True) == Termination.time_limit  # "Optimal" incumbent
    assert termination_of(0, 0, time_limited=True) == Termination.time_limit
    assert termination_of(0, 0, time_limited=False) == Termination.not_solved
    assert termination_of(pulp.LpStatusInfeasible, -1, time_limited=False) == Termination.infeasible
    assert termination_of(pulp.LpStatusUnbounded, -2, time_limited=False) == Termination.unbounded
    assert termination_of(pulp.LpStatusUndefined, 0, time_limited=False) == Termination.error


def test_solver_names() -> None:
    avail = available_solvers()
    assert avail and avail[0] in ("highs", "cbc")
    assert resolve_name(None) == avail[0]
    assert resolve_name("HiGHS") == "highs" if "highs" in avail else True
    with pytest.raises(SolverError, match="unknown solver 'gurobi'; available: "):
        make_solver("gurobi")
    with pytest.raises(SolverError, match="time limit"):
        make_solver(None, time_limit=0)


def test_time_limited_solve_is_not_optimal(solver: str) -> None:
    """PuLP says "Optimal" for a time-limited incumbent; we report time_limit, never optimal."""
    from test_search import _big_random

    s = _big_random(3, n_issues=60, n_opts=10)
    m = compile_scenario(s)
    lowest = m.new_var("lowest")
    for p in s.party_names:
        m.add_row(lowest - m.utility[p] <= 0)
    m.set_objective(lowest)
    out = m.solve(solver, time_limit=0.05)  # proving the optimum takes over a second
    assert out.termination == Termination.time_limit
    # PuLP itself often claims "Optimal" here (status 1) when an incumbent was found in time;
    # under load it may have none (status 0). Either way we must not say optimal.
    assert m.prob.status in (0, 1)
    if out.has_solution:
        u = m.verify()  # the incumbent is a real package, checked against numpy
        assert u.min() >= out.objective - 1e-6  # its bound variable never overstates it


def test_solver_options_switch_off_wrong_presolve_rules() -> None:
    """HiGHS always runs without its "Enumeration" presolve rule; presolve=False switches presolve
    (CBC: and preprocessing) off; a ready solver object is configured, or copied when presolve is
    switched off."""
    import pulp

    from optimizer.engine import solvers

    if solvers.is_available("highs"):
        on = make_solver("highs").optionsDict
        assert on["presolve_rule_off"] & solvers.HIGHS_PRESOLVE_RULES_OFF
        assert "presolve" not in on
        assert make_solver("highs", presolve=False).optionsDict["presolve"] == "off"
        prob = pulp.LpProblem("tiny", pulp.LpMaximize)
        x = prob.add_variable("x", 0, 3, pulp.LpInteger)
        prob += x <= 2.5
        prob.setObjective(pulp.LpAffineExpression([(x, 1.0)]))
        ready = pulp.HiGHS(msg=False, presolve_rule_off=1)
        out = solvers.solve(prob, ready, presolve=False)
        assert out.termination == Termination.optimal and x.varValue == 2
        assert "presolve" not in ready.optionsDict  # copied, not changed
        solvers.solve(prob, ready)
        assert ready.optionsDict["presolve_rule_off"] == 1 | solvers.HIGHS_PRESOLVE_RULES_OFF
    if solvers.is_available("cbc"):
        off = make_solver("cbc", presolve=False)
        assert off.optionsDict["presolve"] is False and "preprocess off" in off.options
        assert "preprocess off" not in make_solver("cbc").options


def _cbc_preprocess_model() -> Any:
    """The tie-break stage of test_search's _cbc_preprocess_case, written out: maximise the total
    gain while the smallest gain stays at 275/3 (minus the stage slack). Feasible (z_0_1, z_1_1,
    z_2_0, z_3_0, z_4_0 gives 191.67), yet CBC 2.10's preprocessing says "infeasible"."""
    import pulp

    prob = pulp.LpProblem("cbc_preprocess", pulp.LpMaximize)
    z = {
        (j, k): prob.add_variable(f"z_{j}_{k}", 0, 1, pulp.LpBinary)
        for j in range(5)
        for k in (0, 1)
    }
    low = prob.add_variable("mingain", None, None, pulp.LpContinuous)
    g0 = pulp.LpAffineExpression(
        [(z[0, 0], 100 / 12), (z[2, 0], 25.0), (z[3, 0], 700 / 12), (z[3, 1], 350 / 12)]
        + [(z[4, 0], 100 / 12)]
    )
    g1 = pulp.LpAffineExpression([(z[1, 1], 100.0)])
    for j in range(5):
        prob += z[j, 0] + z[j, 1] == 1
    prob += g1 >= 0
    prob += g0 >= 0
    prob += g1 >= 0
    prob += low - g0 <= 0
    prob += low - g1 <= 0
    prob += pulp.lpSum([z[0, 0], z[1, 1], z[2, 0], z[3, 0], z[4, 0]]) <= 4  # no-good cuts
    prob += pulp.lpSum([z[0, 0], z[1, 1], z[2, 0], z[3, 0], z[4, 1]]) <= 4
    prob += low >= 275 / 3 * (1 - 1e-7)
    prob.setObjective(g0 + g1)
    return prob


def test_solver_infeasible_verdict_is_confirmed_without_presolve(solver: str) -> None:
    """CBC's "infeasible" is re-checked without presolve/preprocessing; both solvers solve it."""
    import pulp

    from optimizer.engine import solvers

    first = solvers._solve_once(_cbc_preprocess_model(), make_solver(solver), solver)
    prob = _cbc_preprocess_model()
    out = solvers.solve(prob, solver)
    assert out.termination == Termination.optimal, out
    assert abs(pulp.value(prob.objective) - 575 / 3) < 1e-6
    if first.termination == Termination.infeasible:  # CBC 2.10 here: the retry said so
        assert solver == "cbc" and "Infeasible with preprocessing" in out.note
    plain = solvers.solve(_cbc_preprocess_model(), solver, presolve=False)
    assert plain.termination == Termination.optimal and not plain.note


def test_broken_solver_values_are_caught() -> None:
    """NaN values, a violated row or a fractional integer are not a solution (solvers.py)."""
    import pulp

    from optimizer.engine.solvers import _broken_solution

    prob = pulp.LpProblem("check", pulp.LpMaximize)
    x = prob.add_variable("x", 0, 1, pulp.LpBinary)
    y = prob.add_variable("y", 0, 1, pulp.LpBinary)
    prob += x + y == 1
    prob.setObjective(pulp.LpAffineExpression([(x, 1.0)]))
    x.varValue, y.varValue = 1.0, 0.0
    assert _broken_solution(prob) is None
    y.varValue = 1.0
    assert "violated" in _broken_solution(prob)
    y.varValue = float("nan")
    assert "no finite value" in _broken_solution(prob)
    x.varValue, y.varValue = 0.5, 0.5
    assert "not integral" in _broken_solution(prob)


@pytest.mark.parametrize("grid", [0, 64])
@pytest.mark.parametrize("objective", ["maxmin", "welfare", "nash"])
def test_integrality_tolerance_is_not_a_utility_mismatch(
    solver: str, grid: int, objective: str, monkeypatch
) -> None:
    """A binary at 1e-8 (within the solver's integrality tolerance) is a 0 in the package."""
    from pathlib import Path

    from optimizer.engine import milp as model_module
    from optimizer.searches.improve import improve

    s = Scenario.load(Path(__file__).parent / "data" / "integrality_tolerance.yaml")
    monkeypatch.setattr(model_module, "GRID_LIMIT", grid)
    r = improve(s, objective=objective, top=3, solver=solver)
    assert r.exact and r.status.termination.value == "optimal"
    for p in r.packages:
        assert abs(s.utility("P2", p.package) - p.utilities["P2"]) < 1e-9


def test_every_constraint_on_one_issue_limits_its_reachable_values() -> None:
    """reachable_masks applies any constraint on a single issue (the lowered form), not only
    ``acceptable``: a one-issue ``forbidden`` and a one-issue budget cut values too."""
    s = Scenario.model_validate(
        {
            "name": "one-issue rules",
            "parties": [
                {"name": "A", "preferences": {"weights": {"x": 1, "y": 1}}},
                {"name": "B", "preferences": {"weights": {"x": 1, "y": 1}}},
            ],
            "issues": [
                {"name": "x", "options": ["a", "b", "c"], "status": "agreed", "value": "b"},
                {"name": "y", "min": 0, "max": 4},
            ],
            "constraints": [
                {"type": "forbidden", "combination": {"y": 0}},
                {"type": "budget", "costs": {"y": {"per_unit": 10}}, "limit": 30},
                {"type": "acceptable", "issue": "y", "max": 2.5},
            ],
        }
    )
    x, y = s.reachable_masks()
    assert x.tolist() == [False, True, False]
    assert y.tolist() == [False, True, True, False, False]
    x, y = s.reachable_masks(agreed=False)
    assert x.tolist() == [True, True, True]
    # the same rules, package by package, through the lowered form the MILP rows use
    packages = np.array([[1, v] for v in range(5)])
    assert feasible_mask(s, packages).tolist() == [False, True, True, False, False]
