"""Brute force for small scenarios (numpy), written independently of the MILP: the yardstick.

* ``enumerate_packages(scenario) -> Enumeration``: every package as grid positions (``index``,
  shape (n, n_issues)), every party's utility (``utilities``, (n, n_parties), from
  ``UtilityTables.evaluate``), and masks: ``constraints_ok`` (scenario constraints), ``agreed_ok``
  (agreed issues at their value), ``walk_away_ok`` (every party with a reservation value at or
  above it, 1e-9 tolerance) and ``feasible`` (all three).
* ``nondominated(util, tol=1e-9)``: mask of the non-dominated rows of a utility matrix, with the
  docs/design.md tie rule (differences below 1e-9 are ties: worse for one and tied for the others is
  dominated); ``frontier_vectors(util)`` the distinct non-dominated vectors, sorted.
* ``pareto_improving(util, ref, tol=1e-9)``: rows at least as good for all and better for one.
* ``reference_utilities(scenario)``: the base of ``improve`` (the reference deal's utilities, or
  each party's reservation value / 0 when there is no deal).
* ``random_scenarios(**limits)``: a hypothesis strategy of small valid scenarios: 2-3 parties,
  2-5 issues, 2-4 options, numeric issues with increasing/decreasing/peak/piecewise shapes,
  synergies, constraints of every type, statuses and reservation values (each can be switched
  off; ``max_packages`` bounds the number of packages).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizer.scenario.models import (
    AcceptableConstraint,
    BudgetConstraint,
    ForbiddenConstraint,
    ImpliesConstraint,
    Interval,
    LinearCost,
    Scenario,
)
from optimizer.scenario.utility import UtilityTables

TOL = 1e-9


@dataclass
class Enumeration:
    """All packages of a small scenario with utilities and feasibility masks."""

    index: np.ndarray
    utilities: np.ndarray
    constraints_ok: np.ndarray
    agreed_ok: np.ndarray
    walk_away_ok: np.ndarray

    @property
    def feasible(self) -> np.ndarray:
        return self.constraints_ok & self.agreed_ok & self.walk_away_ok


def _cond_mask(scenario: Scenario, issue: str, cond: Any) -> np.ndarray:
    """Grid positions meeting a condition, computed from the grid directly."""
    iss = scenario.issue(issue)
    if isinstance(cond, Interval):
        g = iss.grid()
        m = np.ones(len(g), dtype=bool)
        if cond.min is not None:
            m &= g >= cond.min - 1e-9
        if cond.max is not None:
            m &= g <= cond.max + 1e-9
        return m
    items = cond if isinstance(cond, list) else [cond]
    m = np.zeros(iss.size, dtype=bool)
    for it in items:
        m[iss.index_of(it)] = True
    return m


def enumerate_packages(scenario: Scenario, max_packages: int = 2_000_000) -> Enumeration:
    """Every package with utilities and feasibility (see the module docstring)."""
    sizes = [i.size for i in scenario.issues]
    total = int(np.prod(sizes))
    if total > max_packages:
        raise ValueError(f"{total} packages is too many to enumerate")
    grids = np.meshgrid(*[np.arange(n) for n in sizes], indexing="ij")
    index = np.stack([g.ravel() for g in grids], axis=1).astype(np.int64)
    utilities = UtilityTables.build(scenario).evaluate(index)
    names = scenario.issue_names
    col = {n: index[:, k] for k, n in enumerate(names)}

    ok = np.ones(len(index), dtype=bool)
    for c in scenario.constraints:
        if isinstance(c, AcceptableConstraint):
            iss = scenario.issue(c.issue)
            if iss.is_numeric:
                m = _cond_mask(scenario, c.issue, Interval(min=c.min, max=c.max))
            else:
                m = np.array([o in (c.options or []) for o in iss.options])
            ok &= m[col[c.issue]]
        elif isinstance(c, ForbiddenConstraint):
            hit = np.ones(len(index), dtype=bool)
            for k, v in c.combination.items():
                hit &= _cond_mask(scenario, k, v)[col[k]]
            ok &= ~hit
        elif isinstance(c, ImpliesConstraint):
            when = np.ones(len(index), dtype=bool)
            for k, v in c.when.items():
                when &= _cond_mask(scenario, k, v)[col[k]]
            then = np.ones(len(index), dtype=bool)
            for k, v in c.then.items():
                then &= _cond_mask(scenario, k, v)[col[k]]
            ok &= ~when | then
        elif isinstance(c, BudgetConstraint):
            cost = np.zeros(len(index))
            for k, spec in c.costs.items():
                iss = scenario.issue(k)
                if isinstance(spec, LinearCost):
                    cost += spec.base + spec.per_unit * iss.grid()[col[k]]
                else:
                    table = np.array([float(spec.get(o, 0.0)) for o in iss.options])
                    cost += table[col[k]]
            ok &= cost <= c.limit + TOL * max(1.0, abs(c.limit))

    agreed = np.ones(len(index), dtype=bool)
    for k, iss in enumerate(scenario.issues):
        if iss.status == "agreed":
            agreed &= index[:, k] == iss.index_of(iss.value)

    walk = np.ones(len(index), dtype=bool)
    for p, party in enumerate(scenario.party_names):
        r = scenario.reservation(party)
        if r is not None:
            walk &= utilities[:, p] >= r - TOL
    return Enumeration(index, utilities, ok, agreed, walk)


def dominates(a: np.ndarray, b: np.ndarray, tol: float = TOL) -> bool:
    """``a`` at least as good as ``b`` for all (within tol) and better for one (by more than tol)."""
    return bool(np.all(a >= b - tol) and np.any(a > b + tol))


def _dominated_2d(util: np.ndarray, tol: float) -> np.ndarray:
    """Two parties in O(n log n): p is dominated iff some q beats it by more than tol on one
    coordinate while staying within tol on the other."""
    out = np.zeros(len(util), dtype=bool)
    for a, b in ((0, 1), (1, 0)):
        order = np.argsort(util[:, a], kind="stable")
        xs = util[order, a]
        suffix_max = np.maximum.accumulate(util[order, b][::-1])[::-1]  # max of b over xs >= x
        first = np.searchsorted(xs, xs + tol, side="right")  # first q with q_a > p_a + tol
        has = first < len(xs)
        best_b = np.full(len(util), -np.inf)
        best_b[has] = suffix_max[first[has]]
        out[order] |= best_b >= util[order, b] - tol
    return out


def nondominated(util: np.ndarray, tol: float = TOL) -> np.ndarray:
    """Mask of the rows of ``util`` that no other row dominates (tie rule: 1e-9)."""
    util = np.asarray(util, dtype=float)
    if len(util) == 0:
        return np.ones(0, dtype=bool)
    if util.shape[1] == 1:
        return util[:, 0] >= util[:, 0].max() - tol
    if util.shape[1] == 2:
        return ~_dominated_2d(util, tol)
    uniq, inverse = np.unique(util, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    m, k = uniq.shape
    keep = np.ones(m, dtype=bool)
    block = max(1, 4_000_000 // max(1, m * k))
    for start in range(0, m, block):
        part = uniq[start : start + block]
        ge = np.all(uniq[None, :, :] >= part[:, None, :] - tol, axis=2)
        gt = np.any(uniq[None, :, :] > part[:, None, :] + tol, axis=2)
        keep[start : start + block] = ~np.any(ge & gt, axis=1)
    return keep[inverse]


def frontier_vectors(util: np.ndarray, tol: float = TOL) -> np.ndarray:
    """The distinct non-dominated utility vectors (ties merged), sorted lexicographically."""
    util = np.asarray(util, dtype=float)
    if len(util) == 0:
        return util.reshape(0, util.shape[1] if util.ndim == 2 else 0)
    nd = util[nondominated(util, tol)]
    nd = nd[np.lexsort(nd.T[::-1])]
    out: list[np.ndarray] = []
    for row in nd:
        if not any(np.all(np.abs(row - o) <= tol) for o in out):
            out.append(row)
    return np.array(out)


def pareto_improving(util: np.ndarray, ref: np.ndarray, tol: float = TOL) -> np.ndarray:
    """Rows at least as good as ``ref`` for every party and strictly better for one."""
    util = np.asarray(util, dtype=float)
    return np.all(util >= ref - tol, axis=1) & np.any(util > ref + tol, axis=1)


def reference_utilities(scenario: Scenario) -> np.ndarray:
    """The base utilities of ``improve``: the reference deal's, or reservation / 0 without one."""
    ref = scenario.reference()
    if ref is not None:
        return scenario.utilities([ref])[0]
    return np.array([scenario.reservation(p) or 0.0 for p in scenario.party_names], dtype=float)


def improving_set(
    scenario: Scenario, e: Enumeration | None = None
) -> tuple[Enumeration, np.ndarray]:
    """(enumeration, mask of feasible Pareto-improving packages) for ``improve``."""
    e = e or enumerate_packages(scenario)
    ref = reference_utilities(scenario)
    return e, e.feasible & pareto_improving(e.utilities, ref)


# --------------------------------------------------------------------------------------------
# Random small scenarios (hypothesis)
# --------------------------------------------------------------------------------------------


def random_scenarios(
    *,
    max_parties: int = 3,
    min_issues: int = 2,
    max_issues: int = 5,
    max_options: int = 4,
    constraints: bool = True,
    statuses: bool = True,
    reservations: bool = True,
    synergies: bool = True,
    max_packages: int = 4000,
):
    """A hypothesis strategy of small valid scenarios (see the module docstring)."""
    from hypothesis import strategies as st

    @st.composite
    def build(draw: Any) -> Scenario:
        n_parties = draw(st.integers(2, max_parties))
        n_issues = draw(st.integers(min_issues, max_issues))
        issues: list[dict[str, Any]] = []
        budget = max_packages
        for k in range(n_issues):
            numeric = draw(st.booleans()) and draw(st.booleans())
            if numeric:
                n = draw(st.integers(2, max(2, min(7, budget))))
                step = draw(st.sampled_from([1, 2, 5]))
                lo = draw(st.integers(0, 20))
                issues.append(
                    {
                        "name": f"n{k}",
                        "min": lo,
                        "max": lo + step * (n - 1),
                        "step": step,
                        "unit": "u",
                    }
                )
            else:
                n = draw(st.integers(2, max(2, min(max_options, budget))))
                issues.append({"name": f"i{k}", "options": [f"o{k}{x}" for x in range(n)]})
            budget = max(2, budget // n)

        def values_of(issue: dict[str, Any], grid: list[float]) -> Any:
            if "options" in issue:
                return {o: draw(st.integers(0, 10)) for o in issue["options"]}
            kind = draw(st.sampled_from(["increasing", "decreasing", "peak", "piecewise"]))
            if kind == "peak":
                return {"shape": "peak", "peak": draw(st.sampled_from(grid))}
            if kind == "piecewise":
                xs = sorted(set(draw(st.lists(st.sampled_from(grid), min_size=2, max_size=4))))
                if len(xs) < 2:
                    xs = [grid[0], grid[-1]]
                return {"shape": "piecewise", "points": [[x, draw(st.integers(0, 10))] for x in xs]}
            return {"shape": kind}

        grids = {}
        for iss in issues:
            if "options" in iss:
                grids[iss["name"]] = iss["options"]
            else:
                n = int((iss["max"] - iss["min"]) // iss["step"]) + 1
                grids[iss["name"]] = [iss["min"] + iss["step"] * x for x in range(n)]

        def pick(name: str) -> Any:
            return draw(st.sampled_from(grids[name]))

        names = [i["name"] for i in issues]
        parties = []
        for p in range(n_parties):
            weights = {n: draw(st.integers(0, 10)) for n in names}
            if not any(weights.values()):
                weights[names[0]] = 1
            values = {i["name"]: values_of(i, grids[i["name"]]) for i in issues}
            syn = []
            if synergies and draw(st.integers(0, 3)) == 0:
                a, b = draw(st.permutations(names))[:2]
                syn.append({"when": {a: pick(a), b: pick(b)}, "bonus": draw(st.integers(-8, 8))})
            party: dict[str, Any] = {
                "name": f"P{p}",
                "preferences": {"weights": weights, "values": values, "synergies": syn},
            }
            if reservations and draw(st.integers(0, 2)) == 0:
                party["reservation_value"] = draw(st.integers(0, 60))
            parties.append(party)

        for iss in issues:
            if statuses:
                status = draw(st.sampled_from(["open", "open", "provisional", "agreed"]))
            else:
                status = "open"
            has_value = status != "open" or draw(st.integers(0, 3)) > 0
            if has_value:
                iss["value"] = pick(iss["name"])
                iss["status"] = status

        cons: list[dict[str, Any]] = []
        if constraints:
            for c_no in range(draw(st.integers(0, 3))):
                kind = draw(st.sampled_from(["acceptable", "forbidden", "implies", "budget"]))
                owner = draw(st.sampled_from([None, *[p["name"] for p in parties]]))
                base: dict[str, Any] = {"type": kind, "name": f"c{c_no}"}
                if owner:
                    base["party"] = owner
                name = draw(st.sampled_from(names))
                iss = next(i for i in issues if i["name"] == name)
                if kind == "acceptable":
                    if "options" in iss:
                        opts = draw(
                            st.lists(st.sampled_from(iss["options"]), min_size=1, unique=True)
                        )
                        base.update(issue=name, options=opts)
                    else:
                        g = grids[name]
                        lo = draw(st.sampled_from(g))
                        base.update(issue=name, min=lo)
                        if draw(st.booleans()):
                            base["max"] = draw(st.sampled_from([x for x in g if x >= lo]))
                elif kind in ("forbidden", "implies"):
                    a, b = draw(st.permutations(names))[:2]
                    if kind == "forbidden":
                        base["combination"] = {a: pick(a), b: pick(b)}
                    else:
                        base["when"] = {a: pick(a)}
                        base["then"] = {b: [pick(b), pick(b)]}
                else:
                    costs: dict[str, Any] = {}
                    for n in draw(
                        st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True)
                    ):
                        i2 = next(i for i in issues if i["name"] == n)
                        if "options" in i2:
                            costs[n] = {o: draw(st.integers(0, 10)) for o in i2["options"]}
                        else:
                            costs[n] = {"per_unit": draw(st.integers(0, 3)), "base": 0}
                    base.update(costs=costs, limit=draw(st.integers(0, 40)), unit="kUSD")
                cons.append(base)

        data = {"name": "random", "parties": parties, "issues": issues, "constraints": cons}
        return Scenario.from_dict(data)

    return build()


def all_packages(scenario: Scenario) -> list[tuple[int, ...]]:
    """Every package as a tuple of grid positions (tiny scenarios only)."""
    return list(itertools.product(*[range(i.size) for i in scenario.issues]))
