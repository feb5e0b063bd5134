"""Equivalent offers (MESOs): packages equally good for us that differ in what they give the other side.

Multiple equivalent simultaneous offers: put two to four packages on the table at once, all worth
the same to us; the other side's choice reveals its priorities, and every option is good for us
(don't try to buy love).

``equivalent_offers(scenario, k=3, *, tolerance=1.0, target=None, solver=None, time_limit=None)``
returns an ``ImproveResult`` with objective ``"meso"``:

1. **The anchor** is ``improve``'s best package (max-min gain). Provisional issues keep the value
   the anchor gives them (so the offers differ on open issues only); agreed issues stay fixed.
2. **Our utility is pinned** in the band ``[target, target + tolerance]``: ``target`` defaults to
   our utility in the anchor, so no offer is worse for us than the package we would propose anyway.
3. **Every offer is Pareto-improving**: each party at least as well off as under the reference
   (``improve``'s reference utilities: the deal on the table, or the walk-away points when there
   is none), someone strictly better, every constraint and walk-away point met.
4. **Diversity**: the first offer is the anchor when it lies in the band (else the band package
   best for the other sides); each next one maximises, lexicographically, (a) the smallest number
   of open issues on which it differs from any offer already chosen, (b) the total number of such
   differences, (c) the other sides' total utility. It must differ from each chosen offer in at
   least one issue, so fewer than ``k`` offers come back when the band holds fewer packages.

The MILP is the engine's compiled model (``optimizer.engine.milp``); every package is re-checked in numpy
(utilities, band, Pareto improvement, every constraint group) before it is returned.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from optimizer.engine.budget import bounded_by_time_limit
from optimizer.engine.results import (
    ImproveResult,
    SolveStatus,
    Termination,
    package_result,
)
from optimizer.errors import DealoptError
from optimizer.scenario.models import Scenario

#: A party "strictly better" than the reference gains at least this many utility points.
STRICT = 1e-6
#: numpy re-check tolerance on utilities (the solver's feasibility tolerance is about 1e-6).
CHECK_TOL = 1e-6
#: Letters that name the offers ("Option A", "Option B", ...).
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


#: Candidates the numpy check rejects (the solver's tolerance let them in) cut off per offer.
MAX_REJECTED = 50


def _problems(
    scenario: Scenario,
    index: np.ndarray,
    ref: np.ndarray,
    us: int,
    band: tuple[float, float],
) -> tuple[np.ndarray, list[str]]:
    """numpy check of one offer: its utilities and what is wrong with it (empty when nothing)."""
    from optimizer.engine.milp import violated_groups
    from optimizer.scenario.utility import UtilityTables

    u = UtilityTables.build(scenario).evaluate(index[None, :])[0]
    problems = []
    if not (band[0] - CHECK_TOL <= u[us] <= band[1] + CHECK_TOL):
        problems.append(f"our utility {u[us]:.6g} is outside [{band[0]:.6g}, {band[1]:.6g}]")
    if np.any(u < ref - CHECK_TOL) or not np.any(u > ref + STRICT / 2):
        problems.append("it is not Pareto-improving")
    broken = violated_groups(scenario, index)
    if broken:
        problems.append(f"it breaks {', '.join(broken)}")
    return u, problems


def _check(
    scenario: Scenario,
    index: np.ndarray,
    ref: np.ndarray,
    us: int,
    band: tuple[float, float],
) -> np.ndarray:
    """numpy re-check of one offer; returns its utilities or raises DealoptError."""
    u, problems = _problems(scenario, index, ref, us, band)
    if problems:
        raise DealoptError(
            f"internal error: an equivalent offer failed its check ({'; '.join(problems)})"
        )
    return u


def _solve_checked(
    m: Any,
    solver: str,
    time_limit: float | None,
    scenario: Scenario,
    ref: np.ndarray,
    us: int,
    band: tuple[float, float],
) -> tuple[Any, np.ndarray | None]:
    """Solve; a package the numpy check rejects (the solver's 1e-6 tolerance let through, e.g. one
    that only ties the deal on the table) is cut off and the model solved again. Returns the last
    outcome and the checked package, or None when there is none (``infeasible``: no more offers).
    The cuts stay: a rejected package can never be an offer."""
    out = None
    for _attempt in range(MAX_REJECTED):
        out = m.solve(solver, time_limit)
        if not out.has_solution:
            return out, None
        idx = m.decode()
        u = m.verify(idx)
        if not _problems(scenario, idx, ref, us, band)[1] and np.all(np.isfinite(u)):
            return out, idx
        m.exclude(idx)
    out.termination = Termination.not_solved
    out.message = "the solver kept returning packages the numpy check rejects"
    return out, None


@bounded_by_time_limit
def equivalent_offers(
    scenario: Scenario,
    k: int = 3,
    *,
    tolerance: float = 1.0,
    target: float | None = None,
    solver: str | None = None,
    time_limit: float | None = None,
) -> ImproveResult:
    """Up to ``k`` Pareto-improving packages within ``tolerance`` of each other for us, most diverse."""
    import pulp

    from optimizer.engine.milp import compile_scenario
    from optimizer.engine.solvers import resolve_name
    from optimizer.searches.improve import improve

    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 26:
        raise DealoptError(f"the number of equivalent offers must be between 1 and 26 (got {k!r})")
    if not tolerance >= 0:
        raise DealoptError(
            f"the tolerance must be a non-negative number of points (got {tolerance})"
        )
    solver_name = resolve_name(solver)
    t0 = time.perf_counter()
    base = improve(scenario, top=1, solver=solver_name, time_limit=time_limit)
    names = scenario.party_names
    us = names.index(scenario.us_name)
    result = ImproveResult(
        scenario=scenario.name,
        parties=names,
        objective="meso",
        reference=base.reference,
        reference_utilities=dict(base.reference_utilities),
        exact=base.exact,
        status=SolveStatus(
            termination=base.status.termination,
            solver=solver_name,
            message=base.status.message,
            solves=base.status.solves,
        ),
    )
    if not base.packages:
        result.explanation = base.explanation or "no Pareto-improving package exists"
        result.status.seconds = time.perf_counter() - t0
        return result

    anchor = base.packages[0]
    anchor_index = scenario.encode(anchor.package)
    ref = np.array([base.reference_utilities[p] for p in names], dtype=float)
    goal = float(anchor.utilities[names[us]]) if target is None else float(target)
    band = (goal, goal + float(tolerance))

    m = compile_scenario(scenario)
    u_us = m.utility[names[us]]
    m.add_row(u_us >= band[0], name="meso_band_low")
    m.add_row(u_us <= band[1], name="meso_band_high")
    for j, p in enumerate(names):
        m.add_row(m.utility[p] >= float(ref[j]), name=f"meso_ref_{j}")
    if band[0] <= ref[us] + STRICT:
        others = pulp.lpSum([m.utility[p] for j, p in enumerate(names) if j != us])
        m.add_row(others >= float(ref.sum() - ref[us]) + STRICT, name="meso_strict")
    open_pos = []
    for j, issue in enumerate(scenario.issues):
        if issue.status == "provisional":
            m.fix(j, int(anchor_index[j]))
        elif issue.status == "open":
            open_pos.append(j)

    chosen: list[np.ndarray] = []
    min_diffs: list[int] = []
    termination = Termination.optimal
    exact = base.exact
    messages = []
    others_total = pulp.lpSum([m.utility[p] for j, p in enumerate(names) if j != us])
    upper = sum(m.tables.upper_bound(j) for j in range(len(names)) if j != us) + 1.0

    anchor_u = anchor.utilities[names[us]]
    if band[0] - CHECK_TOL <= anchor_u <= band[1] + CHECK_TOL:
        chosen.append(anchor_index)
        min_diffs.append(0)
    else:
        m.set_objective(others_total, maximize=True)
        out, idx = _solve_checked(m, solver_name, time_limit, scenario, ref, us, band)
        if idx is None:
            result.status.termination = out.termination
            result.status.solves += m.solves
            result.explanation = (
                f"no Pareto-improving package gives us a utility between "
                f"{band[0]:.1f} and {band[1]:.1f}"
            )
            result.exact = out.optimal and base.exact
            result.status.seconds = time.perf_counter() - t0
            return result
        if not out.optimal:
            termination, exact = out.termination, False
            messages.append(out.message)
        chosen.append(idx)
        min_diffs.append(0)

    while len(chosen) < k and open_pos:
        t = m.new_var("meso_t", 0, len(open_pos), integer=True)
        rows = []
        diff_sum = []
        for prev in chosen:
            d = pulp.lpSum([1 - m.is_value(j, int(prev[j])) for j in open_pos])
            rows.append(m.add_row(t - d <= 0, name=None))
            diff_sum.append(d)
        rows.append(m.add_row(t >= 1))
        eps = 1.0 / (len(chosen) * len(open_pos) + 1)
        eps2 = eps / upper
        m.set_objective(t + eps * pulp.lpSum(diff_sum) + eps2 * others_total, maximize=True)
        out, idx = _solve_checked(m, solver_name, time_limit, scenario, ref, us, band)
        for r in rows:
            m.remove_row(r)
        if idx is None:
            if out.termination != Termination.infeasible:
                termination, exact = out.termination, False
                messages.append(out.message)
            break
        if not out.optimal:
            termination, exact = out.termination, False
            messages.append(out.message)
        d_min = min(int(np.sum(idx[open_pos] != prev[open_pos])) for prev in chosen)
        if d_min < 1:  # pragma: no cover - the row t >= 1 forbids it
            break
        chosen.append(idx)
        min_diffs.append(d_min)

    packages = []
    for n, idx in enumerate(chosen):
        u = _check(scenario, idx, ref, us, band)
        differs = [
            scenario.issues[j].name
            for j in open_pos
            if any(int(idx[j]) != int(o[j]) for o in chosen if o is not idx)
        ]
        pr = package_result(
            scenario,
            idx,
            u,
            base.reference_utilities,
            extra={
                "label": f"Option {LETTERS[n]}",
                "min_differences": min_diffs[n],
                "differs_on": differs,
            },
        )
        pr.objective = float(min_diffs[n])
        packages.append(pr)
    result.packages = packages
    result.exact = exact
    result.status.termination = termination
    result.status.solves += m.solves
    result.status.message = "; ".join(x for x in messages if x)
    result.status.seconds = time.perf_counter() - t0
    if len(packages) < k:
        result.explanation = (
            f"only {len(packages)} different Pareto-improving package"
            f"{'s' if len(packages) != 1 else ''} give us a utility between "
            f"{band[0]:.1f} and {band[1]:.1f}; widen the tolerance for more"
        )
    return result
