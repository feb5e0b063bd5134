"""The numpy frontier machinery (optimizer.engine.fastpath) against brute-force enumeration."""

from __future__ import annotations

from typing import Any

import bruteforce as bf
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.engine import fastpath
from optimizer.engine.fastpath import (
    fast_frontier,
    fast_path_reason,
    nondominated,
)
from optimizer.engine.milp import feasible_mask
from optimizer.errors import DealoptError, FastPathNotApplicable
from optimizer.scenario.models import Scenario
from optimizer.searches.frontier import frontier

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))


def naive_frontier_set(U: np.ndarray, tol: float = 1e-9) -> list[np.ndarray]:
    """Distinct non-dominated rows by the definition (O(n^2) loops)."""
    out: list[np.ndarray] = []
    for i in range(len(U)):
        if any(bf.dominates(U[j], U[i], tol) for j in range(len(U)) if j != i):
            continue
        if not any(np.all(np.abs(U[i] - o) <= tol) for o in out):
            out.append(U[i])
    return out


def same_vectors(got: np.ndarray, want: np.ndarray, tol: float = 1e-9) -> bool:
    """Equal as sets of vectors within tol (each matched one to one)."""
    got = np.asarray(got, dtype=float).reshape(-1, want.shape[1] if want.ndim == 2 else 0)
    if len(got) != len(want):
        return False
    used = np.zeros(len(want), dtype=bool)
    for row in got:
        hit = np.flatnonzero(~used & np.all(np.abs(want - row) <= tol, axis=1))
        if len(hit) == 0:
            return False
        used[hit[0]] = True
    return True


# --------------------------------------------------------------------------------------------
# The non-dominated filter
# --------------------------------------------------------------------------------------------

point_sets = st.integers(1, 4).flatmap(
    lambda m: st.lists(
        st.tuples(
            st.lists(st.integers(0, 4), min_size=m, max_size=m),
            st.lists(st.sampled_from([0.0, 1e-12, -1e-12, 3e-10]), min_size=m, max_size=m),
        ),
        min_size=1,
        max_size=40,
    )
)


@SETTINGS
@given(point_sets)
def test_nondominated_matches_the_definition(rows) -> None:
    U = np.array([np.array(a, float) + np.array(e) for a, e in rows])
    keep = nondominated(U)
    assert len(set(keep.tolist())) == len(keep)
    assert same_vectors(U[keep], np.array(naive_frontier_set(U)))


def naive_dominated(U: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """The O(n^2) definition: a row is dominated when *any* other row dominates it."""
    ge = np.all(U[None, :, :] >= U[:, None, :] - tol, axis=2)
    gt = np.any(U[None, :, :] > U[:, None, :] + tol, axis=2)
    return np.any(ge & gt, axis=1)


#: Near-tie offsets around the 1e-9 tolerance: chains of them make the tie rule non-transitive
#: (y dominates x, z dominates y, z does not dominate x), which the filter must still follow.
NEAR_TIES = [0.0, 1e-12, -1e-12, 3e-10, -6e-10, 9e-10, 1.2e-9, -1.7e-9, 2.5e-9]

many_party_sets = st.integers(3, 6).flatmap(
    lambda m: st.lists(
        st.tuples(
            st.lists(st.integers(0, 3), min_size=m, max_size=m),
            st.lists(st.sampled_from(NEAR_TIES), min_size=m, max_size=m),
        ),
        min_size=1,
        max_size=120,
    )
)


@SETTINGS
@given(many_party_sets, st.sampled_from([1, 16, 1 << 18]))
def test_divide_and_conquer_filter_is_the_definition(rows, brute_cells) -> None:
    """3-6 parties: the divide-and-conquer mask equals the naive O(n^2) one, ties at 1e-9
    included, whether the recursion goes all the way down (tiny base case) or not at all."""
    U = np.array([np.array(a, float) + np.array(e) for a, e in rows])
    saved = fastpath._BRUTE_CELLS
    fastpath._BRUTE_CELLS = brute_cells
    try:
        got = fastpath._not_dominated_nd(U, 1e-9)
    finally:
        fastpath._BRUTE_CELLS = saved
    assert got.tolist() == (~naive_dominated(U)).tolist()


def test_divide_and_conquer_filter_on_a_merge_of_five_parties() -> None:
    """A realistic set (per-issue merges of 5 parties' random integer utilities, thousands of
    points, past the brute-force base case) filtered exactly like the O(n^2) definition."""
    rng = np.random.default_rng(7)
    S = np.zeros((1, 5))
    for _ in range(6):
        table = rng.integers(0, 101, (5, 5)) * rng.integers(1, 100, 5) / 97.0
        S = (S[:, None, :] + table[None, :, :]).reshape(-1, 5)
        S = S[nondominated(S)]
    cand = (S[:, None, :] + (rng.integers(0, 101, (5, 5)) / 3.0)[None, :, :]).reshape(-1, 5)
    assert len(cand) ** 2 > fastpath._BRUTE_CELLS
    want = ~naive_dominated(cand)
    assert fastpath._not_dominated_nd(cand, 1e-9).tolist() == want.tolist()
    keep = nondominated(cand)
    assert same_vectors(cand[keep], np.array(naive_frontier_set(cand[want])))


def test_nondominated_keeps_the_cheapest_of_tied_points() -> None:
    U = np.array([[1.0, 2.0], [1.0 + 1e-12, 2.0], [2.0, 1.0], [1.0, 2.0 - 1e-12], [0.5, 0.5]])
    cost = np.array([3.0, 1.0, 0.0, 2.0, 0.0])
    keep = nondominated(U, cost)
    assert sorted(keep.tolist()) == [1, 2]
    # the tie rule: worse for one by more than 1e-9 and tied for the other is dominated
    U = np.array([[1.0, 1.0], [1.0 + 5e-10, 1.0 + 2e-9]])
    assert nondominated(U).tolist() == [1]


# --------------------------------------------------------------------------------------------
# The fast path against brute force
# --------------------------------------------------------------------------------------------


@st.composite
def linked_scenarios(draw: Any) -> Scenario:
    """Small scenarios with many cross-issue rules and synergies (so blocks are exercised)."""
    n_parties = draw(st.integers(2, 3))
    n_issues = draw(st.integers(2, 6))
    sizes = [draw(st.integers(1, 3)) for _ in range(n_issues)]
    names = [f"i{k}" for k in range(n_issues)]
    opts = {n: [f"{n}o{x}" for x in range(s)] for n, s in zip(names, sizes, strict=True)}
    issues = []
    for n in names:
        issue: dict[str, Any] = {"name": n, "options": opts[n]}
        status = draw(st.sampled_from(["open", "open", "provisional", "agreed"]))
        if status != "open" or draw(st.booleans()):
            issue["value"] = draw(st.sampled_from(opts[n]))
            issue["status"] = status
        issues.append(issue)
    parties = []
    for p in range(n_parties):
        party: dict[str, Any] = {
            "name": f"P{p}",
            "preferences": {
                "weights": {n: draw(st.integers(1, 4)) for n in names},
                "values": {
                    n: {o: draw(st.sampled_from([0, 5, 10])) for o in opts[n]} for n in names
                },
                "synergies": [],
            },
        }
        if n_issues >= 2 and draw(st.integers(0, 2)) == 0:
            a, b = draw(st.permutations(names))[:2]
            party["preferences"]["synergies"].append(
                {
                    "when": {a: draw(st.sampled_from(opts[a])), b: draw(st.sampled_from(opts[b]))},
                    "bonus": draw(st.integers(-6, 6)),
                }
            )
        if draw(st.integers(0, 3)) == 0:
            party["reservation_value"] = draw(st.integers(0, 50))
        parties.append(party)
    constraints = []
    for c in range(draw(st.integers(0, 6))):
        a, b = draw(st.permutations(names))[:2]
        if draw(st.booleans()):
            constraints.append(
                {
                    "type": "forbidden",
                    "name": f"c{c}",
                    "combination": {
                        a: draw(st.sampled_from(opts[a])),
                        b: draw(st.sampled_from(opts[b])),
                    },
                }
            )
        else:
            constraints.append(
                {
                    "type": "implies",
                    "name": f"c{c}",
                    "when": {a: draw(st.sampled_from(opts[a]))},
                    "then": {b: draw(st.sampled_from(opts[b]))},
                }
            )
    data = {"name": "linked", "parties": parties, "issues": issues, "constraints": constraints}
    return Scenario.from_dict(data)


def check_fast_against_brute_force(s: Scenario, dims: list[int]) -> None:
    e = bf.enumerate_packages(s)
    truth = bf.frontier_vectors(e.utilities[e.feasible][:, dims])
    ff = fast_frontier(s, dims)
    assert same_vectors(ff.utilities[:, dims], truth)
    # every package is real: feasible, and its utilities are the evaluator's
    if len(ff.index):
        assert feasible_mask(s, ff.index).all()
        assert np.allclose(s.utilities(ff.index), ff.utilities, atol=1e-12)


@SETTINGS
@given(bf.random_scenarios(max_parties=3))
def test_fast_path_equals_brute_force(s: Scenario) -> None:
    check_fast_against_brute_force(s, list(range(len(s.parties))))


@SETTINGS
@given(linked_scenarios())
def test_fast_path_with_linked_issues_equals_brute_force(s: Scenario) -> None:
    check_fast_against_brute_force(s, list(range(len(s.parties))))


@SETTINGS
@given(linked_scenarios(), st.data())
def test_fast_path_on_a_subset_of_parties(s: Scenario, data) -> None:
    """Two parties' frontier; a third party's walk-away point still filters packages."""
    dims = data.draw(st.permutations(range(len(s.parties))))[:2]
    check_fast_against_brute_force(s, list(dims))


def test_least_disruptive_package_represents_a_tie() -> None:
    # "colour" is provisional at red; blue gives everyone exactly the same utility: keep red.
    s = Scenario.from_dict(
        {
            "name": "tie",
            "parties": [
                {
                    "name": "A",
                    "preferences": {
                        "weights": {"price": 1, "colour": 1},
                        "values": {"price": {"lo": 0, "hi": 10}, "colour": {"red": 5, "blue": 5}},
                    },
                },
                {
                    "name": "B",
                    "preferences": {
                        "weights": {"price": 1, "colour": 1},
                        "values": {"price": {"lo": 10, "hi": 0}, "colour": {"red": 5, "blue": 5}},
                    },
                },
            ],
            "issues": [
                {"name": "price", "options": ["lo", "hi"]},
                {
                    "name": "colour",
                    "options": ["blue", "red"],
                    "status": "provisional",
                    "value": "red",
                },
            ],
        }
    )
    ff = fast_frontier(s, [0, 1])
    assert len(ff.index) == 2
    assert set(ff.index[:, 1].tolist()) == {1}  # red kept in both frontier packages
    result = frontier(s)
    assert all(p.reopened == [] for p in result.packages)


def budget_scenario(n_issues: int) -> Scenario:
    """Two parties and one budget over every issue (all issues linked in one block)."""
    names = [f"i{k}" for k in range(n_issues)]
    opts = ["a", "b", "c", "d"]

    def values(sign: int) -> dict:
        return {
            n: {o: (k * 3 + j * sign) % 7 for j, o in enumerate(opts)} for k, n in enumerate(names)
        }

    return Scenario.from_dict(
        {
            "name": "budget",
            "parties": [
                {"name": p, "preferences": {"weights": {n: 1 for n in names}, "values": values(sg)}}
                for p, sg in (("A", 1), ("B", -1))
            ],
            "issues": [{"name": n, "options": opts} for n in names],
            "constraints": [
                {
                    "type": "budget",
                    "name": "cap",
                    "limit": 2 * n_issues,
                    "costs": {n: {o: j for j, o in enumerate(opts)} for n in names},
                }
            ],
        }
    )


def test_a_budget_over_many_issues_is_merged_exactly() -> None:
    s = budget_scenario(6)
    assert fast_path_reason(s) is None
    check_fast_against_brute_force(s, [0, 1])


def test_dense_links_are_refused_with_a_reason() -> None:
    s = budget_scenario(6)
    reason = fast_path_reason(s, block_limit=10)
    assert reason is not None and "linked issues" in reason and "'i0'" in reason
    with pytest.raises(FastPathNotApplicable):
        fast_frontier(s, [0, 1], block_limit=10)
    big = budget_scenario(9)  # 4^8 merge states: over the default limit
    assert fast_path_reason(big) is not None
    with pytest.raises(DealoptError, match="fast path does not apply"):
        frontier(big, method="fast")
