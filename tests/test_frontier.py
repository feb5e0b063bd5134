"""``frontier``: every method against brute-force enumeration, concepts, packages, CLI, errors."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import bruteforce as bf
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.cli.main import main
from optimizer.engine.concepts import solution_concepts
from optimizer.engine.milp import feasible_mask
from optimizer.errors import DealoptError
from optimizer.scenario.models import Scenario
from optimizer.scenario.utility import UtilityTables
from optimizer.searches.frontier import frontier, utility_quantum

ROOT = Path(__file__).resolve().parents[1]
SAAS = ROOT / "examples" / "saas_renewal.yaml"
FAST = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
MILP = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
CBC = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))


def truth(s: Scenario, parties: list[str] | None = None) -> np.ndarray:
    """The brute-force frontier (distinct non-dominated vectors) over ``parties``."""
    e = bf.enumerate_packages(s)
    dims = [s.party_names.index(p) for p in (parties or s.party_names)]
    return bf.frontier_vectors(e.utilities[e.feasible][:, dims])


def matrix(result, parties: list[str] | None = None) -> np.ndarray:
    names = parties or result.parties
    return np.array([[p.utilities[n] for n in names] for p in result.packages]).reshape(
        -1, len(names)
    )


def same_vectors(got: np.ndarray, want: np.ndarray, tol: float = 1e-9) -> bool:
    if len(got) != len(want):
        return False
    used = np.zeros(len(want), dtype=bool)
    for row in got:
        hit = np.flatnonzero(~used & np.all(np.abs(want - row) <= tol, axis=1))
        if len(hit) == 0:
            return False
        used[hit[0]] = True
    return True


def check_packages(s: Scenario, result) -> None:
    """Every package is feasible, its numbers are the evaluator's, changes match the scenario."""
    if not result.packages:
        return
    index = np.array([s.encode(p.package) for p in result.packages])
    assert feasible_mask(s, index).all()  # constraints, agreed issues and walk-away points
    U = s.utilities(index)
    ref = bf.reference_utilities(s)
    for row, pkg in zip(U, result.packages, strict=True):
        assert np.allclose([pkg.utilities[n] for n in s.party_names], row, atol=1e-9)
        assert np.allclose([pkg.gains[n] for n in s.party_names], row - ref, atol=1e-9)
        for change, issue in zip(pkg.changes, s.issues, strict=True):
            assert change.issue == issue.name
            moved = issue.value is not None and issue.index_of(change.value) != issue.index_of(
                issue.value
            )
            if issue.value is None:
                assert change.change == "set"
            elif not moved:
                assert change.change == "kept"
            else:
                assert change.change == ("reopened" if issue.status == "provisional" else "changed")
        assert pkg.reopened == [c.issue for c in pkg.changes if c.change == "reopened"]
    first = result.parties[0]
    values = [p.utilities[first] for p in result.packages]
    assert values == sorted(values)


def check_concepts(s: Scenario, result) -> None:
    """Each concept's point scores as well as the best feasible package (brute force)."""
    e = bf.enumerate_packages(s)
    dims = [s.party_names.index(p) for p in result.parties]
    U = e.utilities[e.feasible][:, dims]
    if len(U) == 0:
        assert result.concepts == {}
        return
    d = np.array([s.reservation(p) or 0.0 for p in result.parties])
    F = matrix(result)
    got = result.concepts
    assert got == solution_concepts(F, d)
    for name, k in got.items():
        assert name in result.packages[k].concepts
    gains = U - d
    assert F[got["utilitarian"]].sum() >= U.sum(axis=1).max() - 1e-9
    assert (F[got["egalitarian"]] - d).min() >= gains.min(axis=1).max() - 1e-9
    positive = np.all(gains > 1e-9, axis=1)
    if positive.any():
        best = np.prod(gains[positive], axis=1).max()
        assert np.prod(F[got["nash"]] - d) >= best * (1 - 1e-9)
    else:
        assert "nash" not in got
    span = U.max(axis=0) - d
    use = span > 1e-9
    if use.any():
        ks = ((F[got["kalai_smorodinsky"]] - d)[use] / span[use]).min()
        assert ks >= ((U[:, use] - d[use]) / span[use]).min(axis=1).max() - 1e-9


# --------------------------------------------------------------------------------------------
# Exactness against brute force
# --------------------------------------------------------------------------------------------


@FAST
@given(bf.random_scenarios(max_parties=3))
def test_auto_frontier_equals_brute_force(s: Scenario) -> None:
    result = frontier(s)
    assert result.exact
    assert same_vectors(matrix(result), truth(s))
    check_packages(s, result)
    check_concepts(s, result)


@FAST
@given(bf.random_scenarios(max_parties=3))
def test_enumeration_equals_brute_force(s: Scenario) -> None:
    result = frontier(s, method="enumeration")
    assert result.exact and result.method == "enumeration"
    assert same_vectors(matrix(result), truth(s))
    check_packages(s, result)


def two_party(max_issues: int = 4, max_options: int = 4, **kw: Any):
    return bf.random_scenarios(max_parties=2, max_issues=max_issues, max_options=max_options, **kw)


@MILP
@given(two_party())
def test_milp_frontier_equals_brute_force_and_fast_path_highs(s: Scenario) -> None:
    result = frontier(s, method="milp", solver="highs")
    assert result.method == "epsilon_constraint"
    assert result.exact  # integer scores: the utilities sit on a lattice
    assert same_vectors(matrix(result), truth(s))
    assert same_vectors(matrix(result), matrix(frontier(s, method="fast")))
    check_packages(s, result)


@CBC
@given(two_party(max_issues=3, max_options=3))
def test_milp_frontier_equals_brute_force_cbc(s: Scenario) -> None:
    from optimizer.engine.solvers import is_available

    if not is_available("cbc"):
        pytest.skip("CBC is not installed")
    result = frontier(s, method="milp", solver="cbc")
    assert result.exact and result.status.solver == "cbc"
    assert same_vectors(matrix(result), truth(s))


ties = st.fixed_dictionaries(
    {
        "n": st.integers(2, 4),
        "scores": st.lists(st.sampled_from([0, 5, 10]), min_size=32, max_size=32),
        "weights": st.lists(st.sampled_from([1, 2]), min_size=8, max_size=8),
    }
)


def tie_scenario(d: dict) -> Scenario:
    """Many equal option scores and weights: duplicate utility vectors and ties everywhere."""
    names = [f"i{k}" for k in range(d["n"])]
    opts = ["a", "b", "c", "d"]
    parties = []
    for p in range(2):
        values = {
            n: {o: d["scores"][(p * 16 + k * 4 + j) % 32] for j, o in enumerate(opts)}
            for k, n in enumerate(names)
        }
        weights = {n: d["weights"][(p * 4 + k) % 8] for k, n in enumerate(names)}
        parties.append({"name": f"P{p}", "preferences": {"weights": weights, "values": values}})
    issues = [{"name": n, "options": opts} for n in names]
    return Scenario.from_dict({"name": "ties", "parties": parties, "issues": issues})


@MILP
@given(ties)
def test_ties_and_duplicates_every_method(d: dict) -> None:
    s = tie_scenario(d)
    want = truth(s)
    for method in ("fast", "enumeration", "milp"):
        result = frontier(s, method=method)
        assert result.exact
        got = matrix(result)
        assert same_vectors(got, want), method
        # distinct vectors only: no two rows tie in every coordinate
        for i in range(len(got)):
            for j in range(i):
                assert not np.all(np.abs(got[i] - got[j]) <= 1e-9)


@FAST
@given(bf.random_scenarios(max_parties=3), st.data())
def test_frontier_of_two_of_three_parties(s: Scenario, data) -> None:
    names = data.draw(st.permutations(s.party_names))[:2]
    result = frontier(s, parties=list(names))
    assert result.parties == list(names)
    assert same_vectors(matrix(result), truth(s, list(names)))
    check_packages(s, result)  # the third party's walk-away point still holds


@MILP
@given(bf.random_scenarios(max_parties=3, max_issues=4), st.data())
def test_milp_on_a_subset_of_parties(s: Scenario, data) -> None:
    names = list(data.draw(st.permutations(s.party_names))[:2])
    result = frontier(s, parties=names, method="milp")
    assert same_vectors(matrix(result), truth(s, names))
    check_packages(s, result)


@MILP
@given(bf.random_scenarios(max_parties=3, max_issues=4).filter(lambda s: len(s.parties) == 3))
def test_three_party_milp_is_a_stated_approximation(s: Scenario) -> None:
    result = frontier(s, method="milp")
    assert result.method == "weighted_sum" and not result.exact
    assert "approximation" in result.status.message
    want = truth(s)
    for row in matrix(result):  # every point found is a true frontier point
        assert np.any(np.all(np.abs(want - row) <= 1e-9, axis=1))
    check_packages(s, result)
    if result.concepts:  # concepts of an approximate frontier say so (issue 11)
        assert not result.concepts_exact
        assert "not exact" in result.status.message


# --------------------------------------------------------------------------------------------
# Time limits, lattice, errors
# --------------------------------------------------------------------------------------------


def test_time_limited_runs_never_claim_exact() -> None:
    s = Scenario.load(SAAS)
    result = frontier(s, method="milp", time_limit=1e-9)
    assert not result.exact
    assert result.status.termination.value == "time_limit"
    assert result.explanation and "stopped" in result.explanation  # not "infeasible"
    full = frontier(s, method="milp", time_limit=600)
    assert full.exact
    assert same_vectors(matrix(full), truth(s))


@MILP
@given(two_party(max_issues=3), st.sampled_from([0.02, 0.05, 0.2]))
def test_a_time_limit_is_exact_only_when_complete(s: Scenario, limit: float) -> None:
    result = frontier(s, method="milp", time_limit=limit)
    if result.exact:
        # an empty frontier is a proof that no package fits: "infeasible" (issue 11)
        assert result.status.termination.value == ("optimal" if result.packages else "infeasible")
        assert same_vectors(matrix(result), truth(s))
    else:  # integer scores: only the clock can make the walk inexact
        assert result.status.termination.value == "time_limit"


@st.composite
def off_lattice(draw: Any, max_issues: int = 4) -> Scenario:
    """Two-party scenarios whose weights are no simple fractions: no utility lattice, so the MILP
    walk cannot prove exactness (issue 11: CBC lost points up to 35 utility points away)."""
    s = draw(two_party(max_issues=max_issues))
    d = s.model_dump(mode="json", exclude_none=True)
    for party in d["parties"]:
        w = party["preferences"]["weights"]
        for k in w:
            w[k] += draw(st.sampled_from([0.0, 0.1234567, 0.7071067811, 0.333333333]))
    return Scenario.from_dict(d)


def check_walk_complete(s: Scenario, solver: str) -> None:
    """The walk finds every frontier point (the note allows skipping points within 1e-6)."""
    result = frontier(s, method="milp", solver=solver)
    assert result.method == "epsilon_constraint" and result.status.solver == solver
    want, got = truth(s), matrix(result)
    if result.exact:
        assert same_vectors(got, want)
    else:
        # an empty frontier is a proof that no package fits: "infeasible"
        want_status = "optimal" if len(want) else "infeasible"
        assert result.status.termination.value == want_status, result.status
        close = len(want) > 1 and np.min(np.diff(np.sort(want[:, 1]))) <= 1e-6
        if not close:
            assert same_vectors(got, want, tol=1e-7), (got, want)
        if result.concepts:
            assert not result.concepts_exact and "not exact" in result.status.message
    check_packages(s, result)


@CBC
@given(off_lattice())
def test_milp_walk_off_the_lattice_equals_enumeration(solver: str, s: Scenario) -> None:
    check_walk_complete(s, solver)


def test_milp_walk_regressions(solver: str) -> None:
    """Issue 11: off the lattice CBC called a step infeasible although points lay beyond it,
    returned a package just outside a step's bound (the walk then stopped: "no progress"), or
    answered a step with a package short of the best; each cut the walk short (1 of 3, 1 of 2,
    2 of 5 points)."""
    for name in (
        "walk_false_infeasible.yaml",
        "walk_outside_bounds.yaml",
        "walk_suboptimal_step.yaml",
    ):
        check_walk_complete(Scenario.load(ROOT / "tests" / "data" / name), solver)


def irrational_scenario() -> Scenario:
    """Weights that are not simple fractions: no utility lattice to prove exactness."""
    names = ["x", "y", "z"]
    opts = ["a", "b", "c"]
    parties = [
        {
            "name": p,
            "preferences": {
                "weights": {n: math.sqrt(2 + k + 3 * q) for k, n in enumerate(names)},
                "values": {
                    n: {o: (j * (q + 1) + k) % 3 + 1 for j, o in enumerate(opts)}
                    for k, n in enumerate(names)
                },
            },
        }
        for q, p in enumerate(["A", "B"])
    ]
    issues = [{"name": n, "options": opts} for n in names]
    return Scenario.from_dict({"name": "irr", "parties": parties, "issues": issues})


def test_utility_lattice() -> None:
    s = Scenario.load(SAAS)
    t = UtilityTables.build(s)
    q = utility_quantum(t, 0)
    assert q is not None and q > 0
    U = s.utilities(bf.enumerate_packages(s).index)[:, 0]
    assert np.allclose(U / q, np.round(U / q), atol=1e-6)  # every utility is a multiple of q
    s2 = irrational_scenario()
    assert utility_quantum(UtilityTables.build(s2), 0) is None
    forced = frontier(s2, method="milp")
    assert not forced.exact and "not on a grid" in forced.status.message
    auto = frontier(s2)  # the fast path stays exact
    assert auto.exact and same_vectors(matrix(auto), truth(s2))


def test_bad_arguments_are_clear_errors() -> None:
    s = Scenario.load(SAAS)
    with pytest.raises(DealoptError, match="unknown party 'Nobody'"):
        frontier(s, parties=["Nobody", "CloudDesk"])
    with pytest.raises(DealoptError, match="at least two parties"):
        frontier(s, parties=["CloudDesk"])
    with pytest.raises(DealoptError, match="only once"):
        frontier(s, parties=["CloudDesk", "CloudDesk"])
    with pytest.raises(DealoptError, match="unknown frontier method"):
        frontier(s, method="magic")
    with pytest.raises(DealoptError, match="unknown solver"):
        frontier(s, solver="gurobi-deluxe")
    with pytest.raises(DealoptError, match="positive"):
        frontier(s, time_limit=0)


def test_infeasible_scenario_gives_an_empty_frontier_with_a_reason() -> None:
    data = Scenario.load(SAAS).to_dict()
    data["parties"][0]["reservation_value"] = 99
    s = Scenario.from_dict(data)
    for method in ("auto", "milp"):
        result = frontier(s, method=method)
        assert result.packages == [] and result.concepts == {}
        assert result.explanation


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frontier", str(SAAS), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    s = Scenario.load(SAAS)
    assert out["parties"] == s.party_names and out["exact"] is True
    assert same_vectors(
        np.array([[p["utilities"][n] for n in out["parties"]] for p in out["packages"]]), truth(s)
    )
    pkg = out["packages"][0]
    assert set(pkg["package"]) == set(s.issue_names)
    assert isinstance(pkg["package"]["seats"], int)  # a numeric issue's integer prints as 5
    marked = {c for p in out["packages"] for c in p.get("concepts", [])}
    assert (
        marked
        == set(out["concepts"])
        == {"utilitarian", "egalitarian", "nash", "kalai_smorodinsky"}
    )


def test_cli_table_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frontier", str(SAAS), "--parties", "CloudDesk,Northwind Ops"]) == 0
    out = capsys.readouterr().out
    assert "Pareto frontier" in out and "exact" in out and "[" in out
    assert main(["frontier", str(SAAS), "--parties", "CloudDesk,Nobody"]) == 1
    assert "unknown party 'Nobody'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["frontier", str(SAAS), "--time-limit", "-3"])
    assert exc.value.code == 2


@pytest.mark.parametrize(
    "domain, profiles",
    [
        ("holiday-domain.xml", ["traveller.xml", "agency.xml"]),
        ("supply-domain.xml", ["buyer.xml", "seller.xml"]),
    ],
)
def test_anac_domain_exact_frontier_and_nash_from_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], domain: str, profiles: list[str]
) -> None:
    data = ROOT / "tests" / "data" / "genius"
    out = tmp_path / "anac.yaml"
    args = ["import-genius", str(data / domain), *[str(data / p) for p in profiles]]
    assert main([*args, "-o", str(out)]) == 0
    capsys.readouterr()
    s = Scenario.load(out)
    for method in ("auto", "milp"):
        assert main(["frontier", str(out), "--json", "--method", method]) == 0
        res = json.loads(capsys.readouterr().out)
        assert res["exact"] is True
        got = np.array([[p["utilities"][n] for n in res["parties"]] for p in res["packages"]])
        assert same_vectors(got, truth(s))
        assert "nash" in res["concepts"]
        assert "nash" in res["packages"][res["concepts"]["nash"]]["concepts"]
