"""``improve``: the best Pareto-improving packages over the deal on the table.

A package is *Pareto-improving* when every party is at least as well off as under the reference
(the deal on the table; with no deal, each party's reservation value, or 0 when it has none) and
at least one party is strictly better off (by more than 1e-9, docs/design.md's tie rule). It must also
satisfy every constraint, keep every agreed issue and clear every walk-away point.

How the search is exact
-----------------------
Each package is found by a lexicographic sequence of MILP solves on one compiled model (gaps 0):

1. the objective: ``maxmin`` (the smallest gain), ``welfare`` (the total gain) or ``nash``;
2. the tie-break: total gain for ``maxmin``, smallest gain for ``welfare`` and ``nash``, so that a
   tie never returns a dominated package;
3. the fewest reopened provisional issues (a provisional issue keeps its value unless moving it
   gives a strict gain on 1 or 2).

Each stage's optimum is fixed for the next one within 1e-7 as a row, then re-checked in numpy
within 1e-9; a package that only the solver's tolerance let through is cut off and the stage
re-solved. The previous stage's package satisfies every row of the next stage, so a tie-break
stage cannot be infeasible and cannot end worse than that package: a solver that says otherwise
failed (HiGHS's and CBC's presolve did, see ``optimizer.engine.solvers``). Every "infeasible" is
confirmed without presolve (``confirm_infeasible``); a tie-break stage still called infeasible
stops the search with ``not_solved`` instead of ranking the previous stage's package as the
tie-break's optimum, and one answered with a worse package than that is cut off and re-solved.

Strictness is not an epsilon row: every gain is constrained ``>= -1e-9`` (the tie tolerance, as
in numpy: a tie whose model gain is -1e-11 from float noise stays feasible, which CBC's
preprocessing needs), and a package is strictly better for someone exactly when the total gain is
positive, which stage 1 or 2 maximises; when the lexicographic optimum has zero total gain, no
Pareto-improving package exists.

The Nash product of gains is maximised exactly by outer approximation: ``log`` is bounded from
above by tangent cuts, the MILP's optimum is an upper bound, and tangents at each new package are
added until the bound meets the best true (numpy) product (Kelley's cutting planes; finite because
each round cuts off the package it found unless that package is optimal). Only packages that
improve every party count for Nash (elsewhere the product is 0).

Top-K adds a no-good cut after each package (or a cut requiring ``min_diff`` changed issues), so
the K packages are different and come best first. Every returned package is re-evaluated with the
numpy evaluator and checked feasible and Pareto-improving.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer.engine.budget import bounded_by_time_limit
from optimizer.engine.reference import reference_breaks
from optimizer.engine.results import (
    ImproveResult,
    PackageResult,
    SolveStatus,
    Termination,
    issue_changes,
    value_out,
)
from optimizer.errors import DealoptError
from optimizer.scenario.models import TIE_TOL, Scenario, number_out
from optimizer.scenario.utility import reference_utilities

OBJECTIVES = ("maxmin", "welfare", "nash")

#: Slack of the rows that fix an earlier stage's optimum (re-checked in numpy within 1e-9).
STAGE_SLACK = 1e-7

#: Relative tolerance of the Nash cutting-plane loop on the product of gains.
NASH_TOL = 1e-9

NASH_METHOD = (
    "exact: outer approximation of log(gain) by tangent cuts, refined until the MILP bound "
    "meets the best numpy-evaluated product (relative tolerance 1e-9) or the package found "
    "already carries its own tangents"
)


@dataclass
class _Stage:
    """One lexicographic stage: a model expression and the same quantity in numpy."""

    expr: Any
    maximize: bool
    value: Callable[[np.ndarray, np.ndarray], float]  # (index, utilities) -> value


@dataclass
class _Run:
    """Book-keeping of one improve call: solver, deadline, status."""

    solver: str
    deadline: float | None
    termination: Termination = Termination.optimal
    messages: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # solver verdicts re-checked (solvers.py)

    def remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.perf_counter())

    def note(self, term: Termination, message: str) -> None:
        if self.termination == Termination.optimal:
            self.termination = term
        if message:
            self.messages.append(message)


class _Searcher:
    """The compiled model with the Pareto rows, and the lexicographic solves on it."""

    def __init__(self, scenario: Scenario, run: _Run) -> None:
        import pulp

        from optimizer.engine.milp import compile_scenario

        self.pulp = pulp
        self.s = scenario
        self.run = run
        self.m = compile_scenario(scenario)
        self.ref_u = reference_utilities(scenario)
        self.parties = scenario.party_names
        self.gain = {
            p: self.m.utility[p] - float(self.ref_u[i]) for i, p in enumerate(self.parties)
        }
        for p in self.parties:
            self.m.add_row(self.gain[p] >= -TIE_TOL, name=f"pareto_{self.parties.index(p)}")
        self.total = pulp.lpSum([self.gain[p] for p in self.parties])
        self.mingain = self.m.new_var("mingain")
        for p in self.parties:
            self.m.add_row(
                self.mingain - self.gain[p] <= 0, name=f"mingain_{self.parties.index(p)}"
            )
        self.prov = [
            (j, issue.index_of(issue.value))
            for j, issue in enumerate(scenario.issues)
            if issue.status == "provisional"
        ]
        self.reopen = pulp.lpSum([1 - self.m.is_value(j, k) for j, k in self.prov])
        self.on_reject: Callable[[np.ndarray, np.ndarray], None] | None = None

    # -- numpy values ---------------------------------------------------------------------------

    def gains_of(self, u: np.ndarray) -> np.ndarray:
        return u - self.ref_u

    def reopened_of(self, index: np.ndarray) -> float:
        return float(sum(1 for j, k in self.prov if int(index[j]) != k))

    def valid(self, index: np.ndarray, u: np.ndarray) -> bool:
        """No party below its base and every rule kept, in numpy (1e-9 tolerances): the solver's
        own tolerance (1e-6 to 1e-7) may let through a package that misses one by a hair."""
        if not bool(np.all(self.gains_of(u) >= -TIE_TOL)):
            return False
        return not self.m.checker.violated(index, u)

    def improving(self, index: np.ndarray, u: np.ndarray) -> bool:
        g = self.gains_of(u)
        return bool(np.all(g >= -TIE_TOL) and np.any(g > TIE_TOL))

    # -- solving --------------------------------------------------------------------------------

    def _solve(self) -> tuple[Termination, np.ndarray | None, np.ndarray | None]:
        """One solve; an "infeasible" is confirmed without presolve (it ends a top-K list)."""
        rem = self.run.remaining()
        if rem is not None and rem <= 0:
            self.run.note(Termination.time_limit, "the time limit was reached")
            return Termination.time_limit, None, None
        out = self.m.solve(self.run.solver, rem, confirm_infeasible=True)
        if out.note:
            self.run.notes.append(out.note)
        if out.termination not in (Termination.optimal, Termination.infeasible):
            self.run.note(out.termination, out.message)
        if not out.has_solution or out.termination == Termination.infeasible:
            return out.termination, None, None
        index = self.m.decode()
        return out.termination, index, self.m.verify(index)

    def lexicographic(
        self, stages: list[_Stage], first: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[Termination, np.ndarray | None, np.ndarray | None]:
        """Optimise the stages in order; each optimum is held (numpy-checked) for the next.

        ``first`` gives stage 1's optimal package when it was found by another method (Nash).

        From stage 2 on, the previous stage's package (the *witness*) satisfies every row of the
        stage: the stage cannot be infeasible, and its optimum is at least as good as the witness.
        A solver that says otherwise (also without presolve) failed: the search stops loudly
        (``not_solved``) instead of keeping the witness as if it were the stage's optimum, which
        would rank a worse tie-break first."""
        held: list[tuple[_Stage, float]] = []
        rows: list[str] = []
        index = u = None
        term = Termination.optimal
        try:
            for n, stage in enumerate(stages):
                if n == 0 and first is not None:
                    index, u = first
                else:
                    self.m.set_objective(stage.expr, stage.maximize)
                    witness = None if index is None else stage.value(index, u)  # type: ignore[arg-type]
                    for _attempt in range(50):
                        term_k, idx_k, u_k = self._solve()
                        if idx_k is None and n and term_k == Termination.infeasible:
                            self.run.note(
                                Termination.not_solved,
                                f"the solver called tie-break stage {n + 1} infeasible (also "
                                "without presolve) although the previous stage's package fits",
                            )
                            return Termination.not_solved, index, u
                        if idx_k is None:
                            return (term_k, index, u) if n else (term_k, None, None)
                        if term_k != Termination.optimal:
                            term = term_k
                        if (
                            self.valid(idx_k, u_k)
                            and all(self._holds(st, v, idx_k, u_k) for st, v in held)
                            and (witness is None or self._holds(stage, witness, idx_k, u_k))
                        ):
                            index, u = idx_k, u_k
                            break
                        # only the solver's tolerance let it in (or made it look at least as
                        # good as the witness): cut it off and solve again
                        rows.append(self.m.exclude(idx_k))
                        if self.on_reject is not None:
                            self.on_reject(idx_k, u_k)
                    else:  # every candidate was cut off: give up loudly, not wrongly
                        self.run.note(
                            Termination.not_solved,
                            "the solver kept returning packages the numpy check rejects",
                        )
                        return Termination.not_solved, (index if n else None), (u if n else None)
                    if term != Termination.optimal:
                        return term, index, u
                value = stage.value(index, u)  # type: ignore[arg-type]
                held.append((stage, value))
                if n + 1 < len(stages):
                    slack = STAGE_SLACK * max(1.0, abs(value))
                    row = (
                        stage.expr >= value - slack
                        if stage.maximize
                        else stage.expr <= value + slack
                    )
                    rows.append(self.m.add_row(row))
            return term, index, u
        finally:
            for r in rows:
                self.m.remove_row(r)

    @staticmethod
    def _holds(stage: _Stage, value: float, index: np.ndarray, u: np.ndarray) -> bool:
        v = stage.value(index, u)
        tol = max(TIE_TOL, 1e-12 * abs(value))  # docs/design.md ties: 1e-9 (float noise beyond)
        return v >= value - tol if stage.maximize else v <= value + tol

    # -- stages -----------------------------------------------------------------------------------

    def stage_min(self) -> _Stage:
        return _Stage(self.mingain, True, lambda i, u: float(self.gains_of(u).min()))

    def stage_total(self) -> _Stage:
        return _Stage(self.total, True, lambda i, u: float(self.gains_of(u).sum()))

    def stage_reopen(self) -> _Stage:
        def reopen_value(index: np.ndarray, u: np.ndarray) -> float:
            return self.reopened_of(index)

        return _Stage(self.reopen, False, reopen_value)

    # -- Nash -------------------------------------------------------------------------------------

    def nash_setup(self, top_gain: list[float]) -> None:
        """Log variables (bounded by each party's largest possible gain) for tangent cuts."""
        self.log = {}
        self.tangents: dict[str, set[float]] = {}
        self.top_gain = top_gain
        for i, p in enumerate(self.parties):
            self.log[p] = self.m.new_var("log", None, math.log(top_gain[i]))
            self.tangents[p] = set()
        self.log_sum = self.pulp.lpSum(list(self.log.values()))
        self.on_reject = self._tangents_at

    def nash_floor(self, floor: float) -> list[str]:
        """Rows "every gain at least ``floor``" (> 0, so every log is defined) and tangents from
        ``floor`` up; the caller removes the rows when the floor changes."""
        rows = []
        for i, p in enumerate(self.parties):
            rows.append(self.m.add_row(self.gain[p] >= floor))
            for a in np.geomspace(floor, max(self.top_gain[i], 2 * floor), 12):
                self.add_tangent(p, float(a))
        self.floor = floor
        return rows

    def _tangents_at(self, index: np.ndarray, u: np.ndarray) -> None:
        g = self.gains_of(u)
        for i, p in enumerate(self.parties):
            if g[i] > 0:
                self.add_tangent(p, float(g[i]))

    def _has_tangent(self, p: str, a: float) -> bool:
        return any(abs(a - b) <= 1e-12 * max(1.0, a) for b in self.tangents[p])

    def add_tangent(self, p: str, a: float) -> None:
        if a <= 0 or self._has_tangent(p, a):
            return
        self.tangents[p].add(a)
        # log(g) <= log(a) + (g - a) / a
        self.m.add_row(self.log[p] - self.gain[p] * (1.0 / a) <= math.log(a) - 1.0)

    def nash_value(self, u: np.ndarray) -> float:
        g = self.gains_of(u)
        if np.any(g <= 0):
            return -math.inf
        return float(np.sum(np.log(g)))

    def nash_best(self) -> tuple[Termination, np.ndarray | None, np.ndarray | None]:
        """The package with the largest product of gains (cutting planes, exact)."""
        self.m.set_objective(self.log_sum, True)
        best: tuple[float, np.ndarray, np.ndarray] | None = None
        for _round in range(500):
            term, index, u = self._solve()
            if index is None:
                if best is None:
                    return term, None, None
                return (
                    term if term != Termination.infeasible else Termination.optimal,
                    best[1],
                    best[2],
                )
            if term != Termination.optimal:
                return term, index, u
            bound = float(self.pulp.value(self.log_sum))
            v = self.nash_value(u)
            if self.valid(index, u) and (best is None or v > best[0]):
                best = (v, index, u)
            if best is not None and bound - best[0] <= NASH_TOL * max(1.0, abs(best[0])):
                return Termination.optimal, best[1], best[2]
            g = self.gains_of(u)
            if best is not None and all(
                self._has_tangent(p, float(g[i])) for i, p in enumerate(self.parties)
            ):
                # The bound at this package is already tight (its own tangents), so the bound
                # exceeds the best true value only by the solver's tolerance: best is optimal.
                return Termination.optimal, best[1], best[2]
            self._tangents_at(index, u)
            if not self.valid(index, u):
                self.m.exclude(index)  # below a base only by the solver's tolerance
        self.run.note(Termination.not_solved, "the Nash cutting-plane loop did not converge")
        return Termination.not_solved, best[1], best[2]  # type: ignore[index]


@bounded_by_time_limit
def improve(
    scenario: Scenario,
    *,
    objective: str = "maxmin",
    top: int = 1,
    min_diff: int = 1,
    solver: str | None = None,
    time_limit: float | None = None,
) -> ImproveResult:
    """The best Pareto-improving packages over the scenario's reference deal, best first.

    ``objective``: ``maxmin`` (largest smallest gain), ``welfare`` (largest total gain) or
    ``nash`` (largest product of gains). ``top``: how many different packages; ``min_diff``: how
    many issues each must change compared with every earlier one. ``time_limit`` (seconds) bounds
    the whole search; when it is hit the result says ``exact: False`` and ``time_limit``.
    """
    from optimizer.engine.solvers import resolve_name

    if objective not in OBJECTIVES:
        raise DealoptError(
            f"unknown objective {objective!r}; choose one of {', '.join(OBJECTIVES)}"
        )
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise DealoptError(f"top must be a whole number of at least 1 (got {top!r})")
    if isinstance(min_diff, bool) or not isinstance(min_diff, int) or min_diff < 1:
        raise DealoptError(f"min_diff must be a whole number of at least 1 (got {min_diff!r})")
    if time_limit is not None and not time_limit > 0:
        raise DealoptError(
            f"the time limit must be a positive number of seconds (got {time_limit})"
        )
    name = resolve_name(solver)
    t0 = time.perf_counter()
    run = _Run(name, None if time_limit is None else t0 + float(time_limit))
    se = _Searcher(scenario, run)
    parties = se.parties
    nash_method: str | None = None

    if objective == "maxmin":
        stages = [se.stage_min(), se.stage_total(), se.stage_reopen()]
    elif objective == "welfare":
        stages = [se.stage_total(), se.stage_min(), se.stage_reopen()]
    else:
        stages = []

    found: list[tuple[np.ndarray, np.ndarray, float, str]] = []  # index, u, value, ranked by
    explanation: str | None = None
    fallback = [se.stage_total(), se.stage_min(), se.stage_reopen()]
    if not se.prov:  # no provisional issue: the reopen stage is a constant
        stages = [st for st in stages if st.value.__name__ != "reopen_value"]
        fallback = fallback[:2]
    nash_ranked = 0
    if objective == "nash":
        nash_ranked = _nash_top(se, top, min_diff, found)
        if run.termination != Termination.optimal and not found:
            nash_method = "not determined: the search stopped early"
        elif nash_ranked or any(r == "nash" for *_, r in found):
            nash_method = NASH_METHOD
        else:
            nash_method = (
                "no package improves every party strictly, so every Nash product of gains is 0; "
                "ranked by total gain instead"
            )
        stages = fallback  # what is left: Pareto-improving with a zero gain for someone
    rule = "welfare" if objective == "nash" else objective
    while len(found) < top and run.termination == Termination.optimal:
        term, idx, u = se.lexicographic(stages)
        if idx is None:
            break
        if not se.improving(idx, u):
            break  # the best remaining package only ties the reference: none improves
        found.append((idx, u, stages[0].value(idx, u), rule))
        if term != Termination.optimal:
            break
        se.m.exclude(idx, min_diff)

    packages = []
    for idx, u, value, ranked_by in found:
        changes = issue_changes(scenario, idx)
        reopened = [c.issue for c in changes if c.change == "reopened"]
        g = se.gains_of(u)
        packages.append(
            PackageResult(
                package={k: value_out(v) for k, v in scenario.decode(idx).items()},
                utilities={p: _clean(u[i]) for i, p in enumerate(parties)},
                gains={p: _clean(g[i]) for i, p in enumerate(parties)},
                changes=changes,
                reopened=reopened,
                objective=_clean(value),
                ranked_by=ranked_by,
            )
        )
    _check_packages(scenario, se, [(i, u) for i, u, *_ in found])

    exact = run.termination == Termination.optimal
    termination = run.termination
    if not found:
        if exact:
            explanation, feasible = _why_none(scenario, name)
            if not feasible:
                termination = Termination.infeasible  # no package meets the rules at all
        else:
            explanation = (
                "The search stopped before finding a Pareto-improving package "
                f"({'; '.join(run.messages) or run.termination.value})."
            )
    elif len(found) < top and exact:
        free = sum(1 for i in scenario.issues if i.status != "agreed" and i.size > 1)
        if min_diff == 1:
            explanation = (
                f"Only {len(found)} different Pareto-improving "
                f"{'package exists' if len(found) == 1 else 'packages exist'}."
            )
        elif min_diff > free:  # say the bound that applied, not the number asked for
            explanation = (
                f"No further Pareto-improving package differs from {'it' if len(found) == 1 else 'them'} "
                f"in every issue that can change: packages can differ in at most {free} "
                f"issue{'s' if free != 1 else ''} (those not agreed), fewer than the {min_diff} "
                "asked for."
            )
        else:
            shown = "the package" if len(found) == 1 else f"each of the {len(found)} packages"
            explanation = (
                "No further Pareto-improving package differs in at least "
                f"{min_diff} issues from {shown} shown."
            )
    if not exact and found:
        explanation = (
            f"Stopped early ({run.termination.value}): the packages shown are Pareto-improving "
            "but may not be the best."
        )

    breaks = reference_breaks(scenario)
    if breaks:  # never "already on the Pareto frontier": the deal on the table is no deal
        rules = "; ".join(b.text for b in breaks)
        head = (
            f"The deal on the table breaks {'a hard rule' if len(breaks) == 1 else 'hard rules'} "
            f"({rules}), so it is not a possible deal."
        )
        if not found and exact and explanation and "Pareto frontier" in explanation:
            # _why_none found the rules feasible; what blocks improvement is the table itself
            explanation = (
                f"{head} No package that keeps every rule is at least as good as it for every "
                "party: some side must accept less than the table shows."
            )
        elif found:
            explanation = f"{head} {explanation or ''}".strip()
        # else: no package keeps the rules at all, and the diagnosis already names them
        run.notes.append(f"the deal on the table breaks: {rules}")
    status = SolveStatus(
        termination=termination,
        solver=name,
        message="; ".join(dict.fromkeys([*run.messages, *run.notes])),
        solves=se.m.solves,
        seconds=round(time.perf_counter() - t0, 6),
    )
    from optimizer.engine.money import annotate_money

    result = ImproveResult(
        scenario=scenario.name,
        parties=parties,
        objective=objective,
        reference=None
        if scenario.reference() is None
        else {k: value_out(v) for k, v in scenario.reference().items()},  # type: ignore[union-attr]
        reference_utilities={p: _clean(se.ref_u[i]) for i, p in enumerate(parties)},
        packages=packages,
        exact=exact,
        status=status,
        explanation=explanation,
        nash_method=nash_method,
        ranking=_ranking([r for *_, r in found]),
    )
    return annotate_money(scenario, result)


def _nash_top(
    se: _Searcher, top: int, min_diff: int, found: list[tuple[np.ndarray, np.ndarray, float, str]]
) -> int:
    """The Nash part of a ranking: the packages improving every party strictly, by the largest
    product of gains (ties: the larger smallest gain, then the fewest reopened issues), appended
    to ``found`` best first until ``top`` or until none is left; returns how many.

    Each package is the exact best of those not yet ranked. The log of a gain needs a positive
    floor: before each package, the best smallest gain among the packages left (max-min) gives one
    of them, whose product ``P0`` the next package must reach, so a party gaining less than
    ``P0`` over the others' largest possible gains cannot be next. The floor is recomputed for
    every package: the one of the first package is not safe for the later ones."""
    rows: list[str] = []
    count = 0
    n = len(se.parties)
    try:
        while len(found) < top:
            for r in rows:
                se.m.remove_row(r)
            rows = []
            term, idx, u = se.lexicographic([se.stage_min(), se.stage_total()])
            if idx is None or term != Termination.optimal:
                break
            g0 = se.gains_of(u)
            if g0.min() <= TIE_TOL:
                break  # no package left improves every party strictly
            if not hasattr(se, "log"):
                se.nash_setup(
                    [max(float(g0[i]), se.m.tables.upper_bound(i) - se.ref_u[i]) for i in range(n)]
                )
            top_gain = np.array(se.top_gain)
            # A party gaining less than this cannot reach the max-min package's product.
            floor = float(np.prod(g0)) * float(top_gain.min()) / float(np.prod(top_gain))
            floor = max(min(floor / 2.0, float(g0.min())), 1e-7)
            rows = se.nash_floor(floor)
            term, idx, u = se.nash_best()
            if idx is None:
                break
            stages = [
                _Stage(se.log_sum, True, lambda i, u: se.nash_value(u)),
                se.stage_min(),
            ]
            if se.prov:
                stages.append(se.stage_reopen())
            if term == Termination.optimal:
                term, idx, u = se.lexicographic(stages, first=(idx, u))
                if idx is None:
                    break
            found.append((idx, u, float(np.exp(se.nash_value(u))), "nash"))
            count += 1
            if term != Termination.optimal:
                break
            se.m.exclude(idx, min_diff)
    finally:
        for r in rows:
            se.m.remove_row(r)
    return count


def _ranking(ranked_by: list[str]) -> list[str]:
    """The rules that ranked the packages, in the order they did (``ImproveResult.ranking``)."""
    return list(dict.fromkeys(ranked_by))


def _clean(x: float) -> float:
    """A utility, gain or objective as every output shows it (``number_out``: no float noise)."""
    return float(number_out(x))


def _check_packages(scenario: Scenario, se: _Searcher, found: list) -> None:
    """Every package returned is feasible (numpy) and Pareto-improving; otherwise a loud error."""
    from optimizer.engine.milp import violated_groups
    from optimizer.errors import ModelError

    seen: set[tuple[int, ...]] = set()
    for idx, u in found:
        key = tuple(int(x) for x in idx)
        if key in seen:
            raise ModelError(f"the same package was returned twice: {scenario.decode(idx)}")
        seen.add(key)
        broken = violated_groups(scenario, idx)
        if broken:
            raise ModelError(f"a returned package breaks {', '.join(broken)}")
        if not se.improving(idx, u):
            raise ModelError("a returned package is not Pareto-improving")


def _why_none(scenario: Scenario, solver: str) -> tuple[str, bool]:
    """Words for "no Pareto-improving package" (infeasible rules, or what blocks improvement), and
    whether any package meets the rules at all."""
    from optimizer.searches.diagnose import explain_infeasible, explain_no_improvement

    d = explain_infeasible(scenario, solver=solver)
    if not d.feasible:
        return d.text, False
    return explain_no_improvement(scenario, solver=solver).text, True
