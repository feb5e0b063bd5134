"""Robust packages: our best gain subject to a win-win probability, by sample-average approximation.

``robust_improve(scenario, alpha, samples=200, seed=0)`` draws ``N = samples`` joint samples of the
estimate ranges (``optimizer.searches.sampling``) and solves, on the compiled scenario
(``optimizer.engine.milp.compile_scenario``: its choice variables, hard constraints and agreed issues)::

    maximise    (1/N) sum_s U_us^s(x)                      our sample-average utility
    subject to  for every sample s and party p:
                    U_p^s(x) - R_p^s  >= -M_p^s (1 - w_s)              (all at least as well off)
                sum_p (U_p^s(x) - R_p^s) >= EPS w_s - M^s (1 - w_s)    (one strictly better)
                sum_s w_s >= ceil(alpha N),   w_s binary

``U_p^s`` is party p's utility in sample s (the per-sample tables, linear in the model's piece
variables), ``R_p^s`` its reference utility in that sample (the deal on the table, or its sampled
reservation value when there is no deal, 0 without one), ``M_p^s = max(0, R_p^s - min U_p^s)`` the
smallest big-M that switches a row off, padded by ``PAD`` (1 point, so that the indicator
coefficients stay well scaled), and ``M^s = sum_p M_p^s``. "At least one party strictly better"
is not expressible as a strict inequality in a MILP; with every gain >= 0, a sum of gains of at
least ``EPS`` (1e-4 utility points on the usual 0-100 scale) means some party gains at least
``EPS / n_parties``, well above the tie tolerance (1e-9) that ``annotate`` uses. The SAA is
therefore conservative: it only gives up samples where the total gain is a sliver under 1e-4. After each solve the chosen package is recounted
exactly on the same samples with ``win_win_mask`` (the same definition as ``p_win_win``); solver
tolerances could in principle let a near-tie row through, so if the recount falls short of
``ceil(alpha N)`` the solve is repeated with a margin (1e-6, then 1e-4 points) on every row.

The MILP needs one binary per sample, so it does not scale to 10,000 samples. ``method="auto"``
solves the same problem without it: by scoring every feasible package on every sample (numpy)
when they are few, else by scoring a *candidate set* -- the exact Pareto frontiers at the best
guess and in a few sampled scenarios (``robust_candidates``) -- which is exact over those
candidates and says so (``exact_over``; ``exact`` false). The MILP stays for ``method="milp"``.

Walk-away points given as numbers stay hard rows at their value; uncertain ones (ranges) are
judged per sample (with no deal on the table they are the reference). The *most robust* package
maximises ``sum_s w_s`` (then our sample-average utility among the packages reaching that count).
Each package's guarantee is reported twice: in-sample (``k of N``) and out-of-sample with
``check_samples`` fresh samples (seed ``seed + 1``) through ``annotate``.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from optimizer.engine.budget import TIME_LIMIT_NOTE, bounded_by_time_limit, current_budget
from optimizer.engine.results import (
    ImproveResult,
    PackageResult,
    SolveStatus,
    Termination,
    value_out,
)
from optimizer.engine.results import package_result as shared_package_result
from optimizer.errors import DealoptError, TooLargeError
from optimizer.scenario.models import TIE_TOL, format_number, format_percent, is_uncertain
from optimizer.searches.sampling import (
    SampleSet,
    annotate,
    has_ranges,
    reference_utilities,
    sample,
    win_win_mask,
)

if TYPE_CHECKING:
    from optimizer.engine.milp import CompiledModel
    from optimizer.scenario.models import Scenario
    from optimizer.scenario.utility import UtilityTables

#: Minimum total gain (utility points) that stands for "at least one party strictly better".
EPS = 1e-4

#: Padding of every big-M (utility points): keeps the indicator coefficients well scaled.
PAD = 1.0

#: The MILP has one binary variable and one row per sample: more samples than this are refused
#: before the model is built (enumeration, for small scenarios, takes more).
MAX_MILP_SAMPLES = 5_000

#: Enumerate (instead of the MILP) when feasible packages x samples is at most this.
ENUM_CELLS = 100_000_000

#: ... and the package grid (after agreed issues and acceptable sets) at most this.
ENUM_PACKAGES = 2_000_000

#: ``auto`` scores every feasible package when feasible packages x samples is at most this
#: (about 2,000 packages at 10,000 samples: well under a second), else the candidate set.
AUTO_ENUM_CELLS = 20_000_000

#: Sampled scenarios whose exact Pareto frontiers join the candidate set (besides the best guess).
FRONTIER_SAMPLES = 16

#: The methods of ``robust_improve``.
METHODS = ("auto", "enumerate", "candidates", "milp")

#: Row margins tried in turn when the exact recount disagrees with the solver.
MARGINS = (0.0, 1e-6, 1e-4)

#: Integrality and feasibility tolerance of the SAA solves. With the default (about 1e-6) a
#: sample switch ``w_s = 1 - 7e-7`` counted as 1 switches the strict row (``EPS`` over a big-M of
#: about 150) off: packages that tie the reference in every sample were "win-win" in all of them,
#: and the most robust search returned such a package, whose recount was 0 (issue 11).
SWITCH_TOL = 1e-9


def reference_point_utilities(scenario: Scenario) -> dict[str, float]:
    """Each party's reference utility at the point estimates (reservation value or 0 without a deal)."""
    ref = scenario.reference()
    if ref is not None:
        u = scenario.utilities([ref])[0]
        return {p: float(u[i]) for i, p in enumerate(scenario.party_names)}
    return {p: float(scenario.reservation(p) or 0.0) for p in scenario.party_names}


def package_result(
    scenario: Scenario, index: np.ndarray, reference: dict[str, float]
) -> PackageResult:
    """A package (grid positions) with utilities, gains and issue changes at the point estimates."""
    u = scenario.utilities(np.asarray(index, dtype=np.int64)[None, :])[0]
    return shared_package_result(scenario, index, u, reference)


class _SAA:
    """The compiled scenario plus the sample rows of the chance constraint."""

    def __init__(
        self, scenario: Scenario, samples: SampleSet, alpha: float | None, margin: float
    ) -> None:
        import pulp

        from optimizer.engine.milp import compile_scenario, scenario_groups

        self.scenario = scenario
        self.samples = samples
        uncertain_res = {
            p.name
            for p in scenario.parties
            if is_uncertain(p.reservation_value)  # type: ignore[arg-type]
        }
        groups = [
            g.label
            for g in scenario_groups(scenario)
            if not (g.kind == "walk_away" and g.parties[0] in uncertain_res)
        ]
        self.model: CompiledModel = compile_scenario(scenario, groups=groups)
        if not self._pieces_affine():
            # A weight whose best guess is 0 but whose range is not: its value shape did not
            # shape the pieces, so give every value of the long numeric issues its own binary.
            longest = max(i.size for i in scenario.issues)
            self.model = compile_scenario(scenario, groups=groups, grid_limit=longest)
        n, names = samples.n, scenario.party_names
        ref = reference_utilities(scenario, samples)
        self.w = [self.model.new_var("w", 0, 1, integer=True) for _ in range(n)]
        self.us = names.index(scenario.us_name)
        tables = [samples.issue_tables(p) for p in range(len(names))]
        lows = np.zeros((n, len(names)))
        for p in range(len(names)):
            lows[:, p] = sum(t.min(axis=1) for t in tables[p])
            lows[:, p] += sum(min(0.0, s.bonus) for s in samples.synergies if s.party == p)
        big = np.maximum(0.0, ref - lows) + margin + PAD
        self.expr: list[list[Any]] = [[None] * len(names) for _ in range(n)]
        for s in range(n):
            total = pulp.LpAffineExpression()
            for p in range(len(names)):
                e = self._utility(tables[p], p, s)
                self.expr[s][p] = e
                # e - R >= margin - M (1 - w)   <=>   e - M w >= R + margin - M
                self.model.add_row(
                    e - float(big[s, p]) * self.w[s] >= float(ref[s, p] + margin - big[s, p])
                )
                total += e
            bsum = float(big[s].sum())
            eps = EPS * scenario.utility_scale / 100.0 + margin
            self.model.add_row(total - (eps + bsum) * self.w[s] >= float(ref[s].sum() - bsum))
        mean = pulp.LpAffineExpression()
        for s in range(n):
            mean += self.expr[s][self.us] * (1.0 / n)
        self.our_mean = mean
        self.count = pulp.lpSum(self.w)
        if alpha is not None:
            self.need = math.ceil(alpha * n - 1e-9)
            self.model.add_row(self.count >= self.need)
        else:
            self.need = 0

    def _pieces_affine(self) -> bool:
        """Sampled tables must be affine on the model's pieces (value shapes are fixed)."""
        for p in range(len(self.scenario.parties)):
            for j, iv in enumerate(self.model.issues):
                vals = self.samples.values[p][j]
                for pc in iv.pieces:
                    if pc.length > 2:
                        seg = vals[:, pc.start : pc.start + pc.length]
                        d2 = seg[:, 2:] - 2 * seg[:, 1:-1] + seg[:, :-2]
                        if np.abs(d2).max() > 1e-9:
                            return False
        return True

    def _utility(self, tables: list[np.ndarray], p: int, s: int) -> Any:
        return self.model.utility_expression(
            [tables[j][s] for j in range(len(self.model.issues))], self.samples.synergies, p
        )


def _recount(scenario: Scenario, samples: SampleSet, index: np.ndarray) -> int:
    u = samples.utilities(np.asarray(index)[None, :])
    return int(win_win_mask(u, reference_utilities(scenario, samples)).sum())


def _lexi(
    saa: _SAA, first: Any, second: Any, solver: str | None, time_limit: float | None
) -> tuple[np.ndarray | None, Any]:
    """Maximise ``first``, then ``second`` with ``first`` held at its optimum."""
    from optimizer.engine.solvers import make_solver

    m = saa.model
    m.set_objective(first, maximize=True)
    out = m.solve(make_solver(solver, time_limit, tolerance=SWITCH_TOL), time_limit)
    if not out.has_solution:
        return None, out
    best = out.objective
    index = m.decode()
    row = m.add_row(first >= best - 1e-7 * max(1.0, abs(best)))
    m.set_objective(second, maximize=True)
    out2 = m.solve(make_solver(solver, time_limit, tolerance=SWITCH_TOL), time_limit)
    m.remove_row(row)
    if out2.has_solution:
        index = m.decode()
        out = out2 if out2.termination != Termination.optimal else out
    return index, out


def _walk_away_groups(scenario: Scenario) -> list[str]:
    """Row groups of the robust search: all but the walk-away points given as ranges."""
    from optimizer.engine.milp import scenario_groups

    uncertain = {
        p.name
        for p in scenario.parties
        if is_uncertain(p.reservation_value)  # type: ignore[arg-type]
    }
    return [
        g.label
        for g in scenario_groups(scenario)
        if not (g.kind == "walk_away" and g.parties[0] in uncertain)
    ]


def _feasible_packages(scenario: Scenario, samples: int) -> np.ndarray | None:
    """Every feasible package (grid positions) when few enough to score on all samples, else None."""
    from optimizer.engine.milp import feasible_mask

    allowed = [np.flatnonzero(m) for m in scenario.reachable_masks()]
    total = math.prod(len(a) for a in allowed)
    if total == 0:  # the acceptable sets leave an issue without a value: nothing is feasible
        return np.zeros((0, len(scenario.issues)), dtype=np.int64)
    if total > ENUM_PACKAGES or total * samples > ENUM_CELLS * 4:
        return None
    grids = np.meshgrid(*allowed, indexing="ij")
    X = np.stack([g.ravel() for g in grids], axis=1).astype(np.int64)
    X = X[feasible_mask(scenario, X, groups=_walk_away_groups(scenario))]
    if len(X) * samples > ENUM_CELLS:
        return None
    return X


def _sample_tables(draws: SampleSet, s: int) -> UtilityTables:
    """The utility tables of sample ``s`` (rows shared by all samples are row 0)."""
    from optimizer.scenario.utility import UtilityTables

    tables = []
    for p in range(len(draws.parties)):
        c = draws.coef[p]
        c_row = c[min(s, len(c) - 1)]
        tables.append([c_row[k] * v[min(s, len(v) - 1)] for k, v in enumerate(draws.values[p])])
    return UtilityTables(draws.parties, [], tables, draws.synergies)


def _without_uncertain_walk_away(scenario: Scenario) -> Scenario:
    """The scenario with the walk-away points given as ranges removed (they are judged per
    sample, so a package below one at the best guess may still be win-win)."""
    if not any(is_uncertain(p.reservation_value) for p in scenario.parties):  # type: ignore[arg-type]
        return scenario
    parties = [
        p.model_copy(update={"reservation_value": None})
        if is_uncertain(p.reservation_value)  # type: ignore[arg-type]
        else p
        for p in scenario.parties
    ]
    return scenario.model_copy(update={"parties": parties})


def robust_candidates(
    scenario: Scenario,
    draws: SampleSet,
    *,
    solver: str | None = None,
    time_limit: float | None = None,
) -> tuple[np.ndarray, str, bool]:
    """The packages the candidate search scores: (grid positions (n, n_issues), what they are,
    whether every frontier in the set is exact).

    The exact Pareto frontier at the best guess, plus the exact frontiers of the first
    ``FRONTIER_SAMPLES`` sampled scenarios, all parties, under the hard constraints (walk-away
    points given as ranges left to the samples). The separable fast path computes them
    (``optimizer.engine.fastpath``); where it does not apply, the frontier at the best guess
    comes from ``frontier`` (enumeration or the MILP walk) and the sampled ones are skipped.
    """
    from optimizer.engine.fastpath import fast_frontier
    from optimizer.errors import FastPathNotApplicable
    from optimizer.scenario.utility import UtilityTables

    base = _without_uncertain_walk_away(scenario)
    parties = list(range(len(scenario.parties)))
    found: list[np.ndarray] = []
    try:
        found.append(fast_frontier(base, parties, tables=UtilityTables.build(base)).index)
        for s in range(min(FRONTIER_SAMPLES, draws.n) if has_ranges(scenario) else 0):
            found.append(fast_frontier(base, parties, tables=_sample_tables(draws, s)).index)
        what = (
            f"the exact Pareto frontiers at the best guess and in {min(FRONTIER_SAMPLES, draws.n)} "
            "sampled scenarios"
            if has_ranges(scenario)
            else "the exact Pareto frontier"
        )
        exact = True
    except FastPathNotApplicable:
        from optimizer.searches.frontier import frontier

        res = frontier(base, solver=solver, time_limit=time_limit)
        found = [
            np.array([base.encode(p.package) for p in res.packages], dtype=np.int64).reshape(
                -1, len(base.issues)
            )
        ]
        what = f"the Pareto frontier at the best guess ({res.method})"
        exact = res.exact
    X = np.unique(np.concatenate(found, axis=0), axis=0) if found else np.zeros((0, 0))
    X = X.astype(np.int64).reshape(-1, len(scenario.issues))
    from optimizer.engine.milp import feasible_mask

    X = X[feasible_mask(scenario, X, groups=_walk_away_groups(scenario))] if len(X) else X
    return X, what, exact


def _by_enumeration(
    scenario: Scenario, draws: SampleSet, X: np.ndarray, need: int, top: int
) -> tuple[list[tuple[np.ndarray, int, str]], bool]:
    """The SAA solved exactly by scoring every feasible package on every sample (numpy); with
    whether the time budget stopped it (then only the packages scored by then are ranked)."""
    us = draws.parties.index(scenario.us_name)
    ref = reference_utilities(scenario, draws)
    count = np.zeros(len(X), dtype=np.int64)
    mean = np.zeros(len(X))
    chunk = max(1, 4_000_000 // draws.n)
    stopped = False
    for a in range(0, len(X), chunk):
        if current_budget().expired():
            X, count, mean, stopped = X[:a], count[:a], mean[:a], True
            break
        # per party an (n, m) array: no (n, m, parties) temporaries, no reductions over parties
        utilities = _party_utilities(draws, X[a : a + chunk])
        mean[a : a + chunk] = utilities[us].mean(axis=0)
        ok = np.ones(utilities[0].shape, dtype=bool)
        better = np.zeros(utilities[0].shape, dtype=bool)
        for p, u in enumerate(utilities):
            gain = np.subtract(u, ref[:, p, None], out=u)  # the arithmetic of win_win_mask
            ok &= gain >= -TIE_TOL
            better |= gain > TIE_TOL
        count[a : a + chunk] = np.count_nonzero(ok & better, axis=0)
    found: list[tuple[np.ndarray, int, str]] = []
    ok = np.flatnonzero(count >= need)
    order = ok[np.lexsort((-count[ok], -mean[ok]))]
    for i in order[:top]:
        found.append((X[i], int(count[i]), "best gain"))
    if len(X):
        best = np.flatnonzero(count == count.max())
        i = int(best[np.argmax(mean[best])])
        _merge_robust(found, X[i], int(count[i]))
    return found, stopped


def _party_utilities(draws: SampleSet, index: np.ndarray) -> list[np.ndarray]:
    """Per party, the (n_samples, m) utilities of packages ``index`` (as ``SampleSet.utilities``,
    laid out for the win-win test)."""
    out = []
    for p in range(len(draws.parties)):
        c = draws.coef[p]
        values = draws.values[p]
        # issues whose values are the same in every sample: one matrix product for all of them
        shared = [k for k, v in enumerate(values) if v.shape[0] == 1]
        table = np.stack([values[k][0, index[:, k]] for k in shared]) if shared else None
        acc = np.zeros((draws.n, len(index)))
        if table is not None:
            acc += c[:, shared] @ table
        for k, vals in enumerate(values):
            if vals.shape[0] != 1:
                acc += c[:, k : k + 1] * vals[:, index[:, k]]
        for syn in draws.synergies:
            if syn.party == p:
                hit = np.isin(index[:, syn.i], syn.a) & np.isin(index[:, syn.j], syn.b)
                acc += syn.bonus * hit[None, :]
        out.append(acc)
    return out


def _merge_robust(found: list[tuple[np.ndarray, int, str]], index: np.ndarray, k: int) -> None:
    same = [i for i, f in enumerate(found) if np.array_equal(f[0], index)]
    if same:
        i = same[0]
        found[i] = (found[i][0], found[i][1], "best gain and most robust")
    elif k > 0:
        found.append((index, k, "most robust"))


def _by_milp(
    scenario: Scenario,
    draws: SampleSet,
    alpha: float,
    need: int,
    top: int,
    solver: str | None,
    time_limit: float | None,
    status: SolveStatus,
) -> tuple[list[tuple[np.ndarray, int, str]], Termination]:
    """The SAA as a MILP (see the module docstring); the packages found and how the solves ended."""
    found: list[tuple[np.ndarray, int, str]] = []
    termination = Termination.optimal
    for margin in MARGINS:
        saa = _SAA(scenario, draws, alpha, margin)
        found = []
        short = False
        for _ in range(top):
            index, out = _lexi(saa, saa.our_mean, saa.count, solver, time_limit)
            status.solver = out.solver
            if index is None:
                if out.termination != Termination.infeasible:
                    termination = out.termination
                break
            if out.termination != Termination.optimal:
                termination = out.termination
            k = _recount(scenario, draws, index)
            if k < need:
                short = True
                break
            found.append((index, k, "best gain"))
            saa.model.exclude(index)
        status.solves += saa.model.solves
        status.seconds += saa.model.seconds
        if not short:
            break
    for margin in MARGINS:
        robust = _SAA(scenario, draws, None, margin)
        index, out = _lexi(robust, robust.count, robust.our_mean, solver, time_limit)
        status.solves += robust.model.solves
        status.seconds += robust.model.seconds
        status.solver = status.solver or out.solver
        if out.termination not in (Termination.optimal, Termination.infeasible):
            termination = out.termination
        if index is None:
            break
        k = _recount(scenario, draws, index)
        claimed = sum(round(w.varValue or 0.0) for w in robust.w)
        if k >= claimed:  # the count the solver claims holds exactly: the most robust
            _merge_robust(found, index, k)
            break
        # the solver's tolerance let rows through (its count exceeds the recount): add a margin
    return found, termination


@bounded_by_time_limit
def robust_improve(
    scenario: Scenario,
    alpha: float,
    *,
    samples: int = 200,
    seed: int = 0,
    top: int = 1,
    solver: str | None = None,
    time_limit: float | None = None,
    check_samples: int = 10000,
    method: str = "auto",
) -> ImproveResult:
    """Our best packages that are win-win in at least ``alpha`` of the samples, and the most robust.

    ``packages`` holds up to ``top`` packages by our sample-average gain subject to the chance
    constraint (``extra["role"] == "best gain"``), then the most robust package (``"most robust"``;
    when it is already listed, that entry's role says both). Each carries ``extra["in_sample"]``
    (win-win count of N) and the out-of-sample ``p_win_win`` of ``annotate``.

    ``method``: ``"milp"`` (the SAA MILP over every feasible package), ``"enumerate"`` (score every
    feasible package on every sample in numpy: the same problem solved exactly, for small
    scenarios), ``"candidates"`` (score the packages of ``robust_candidates`` -- exact Pareto
    frontiers at the best guess and in sampled scenarios -- on every sample: exact over that
    set only, so ``exact`` is false) or ``"auto"`` (enumeration when feasible packages x samples
    is at most ``AUTO_ENUM_CELLS``, else the candidates). The result's ``method`` and
    ``exact_over`` say which was used and over which packages the answer is exact.
    """
    if not 0 < alpha <= 1:
        raise DealoptError(f"alpha must be in (0, 1] (got {alpha})")
    if samples < 1:
        raise DealoptError(f"the number of samples must be at least 1 (got {samples})")
    if top < 1:
        raise DealoptError(f"top must be at least 1 (got {top})")
    if method not in METHODS:
        raise DealoptError(f"unknown method {method!r} (use {', '.join(METHODS)})")
    t0 = time.perf_counter()
    if samples > MAX_MILP_SAMPLES and method == "milp":
        raise TooLargeError(
            f"the sample-average MILP takes at most {MAX_MILP_SAMPLES:,} samples (one binary "
            f"variable each); {samples:,} were asked for: use fewer samples"
        )
    draws = sample(scenario, samples, seed=seed)
    ref_point = reference_point_utilities(scenario)
    need = math.ceil(alpha * samples - 1e-9)
    status = SolveStatus(solver="", solves=0)
    termination = Termination.optimal
    X = _feasible_packages(scenario, samples) if method in ("auto", "enumerate") else None
    if method == "enumerate" and X is None:
        raise DealoptError(
            "too many packages x samples to enumerate; use method='milp' or fewer samples"
        )
    if method == "auto" and X is not None and len(X) * samples > AUTO_ENUM_CELLS:
        X = None  # too many to score quickly: the candidate set instead
    over_all = True
    if X is not None:
        found, stopped = _by_enumeration(scenario, draws, X, need, top)
        status.solver = "enumeration"
        used = f"enumeration of the {len(X)} feasible packages"
        how, exact_over = "enumeration", f"all {len(X)} feasible packages"
        if stopped:
            termination = Termination.time_limit
            status.message = f"{TIME_LIMIT_NOTE}: not every feasible package was scored"
    elif method in ("auto", "candidates"):
        C, what, frontiers_exact = robust_candidates(
            scenario, draws, solver=solver, time_limit=time_limit
        )
        found, stopped = _by_enumeration(scenario, draws, C, need, top)
        status.solver = "candidates"
        over_all = False
        if not frontiers_exact:
            what += " (that frontier is not proven exact)"
        how, exact_over = "candidates", f"{len(C)} candidate packages: {what}"
        used = (
            f"scoring {len(C)} candidate packages ({what}) on every sample: exact over those "
            "candidates, not over every feasible package"
        )
        if stopped:
            termination = Termination.time_limit
            status.message = f"{TIME_LIMIT_NOTE}: not every candidate package was scored"
    else:
        if samples > MAX_MILP_SAMPLES:
            raise TooLargeError(
                f"the sample-average MILP takes at most {MAX_MILP_SAMPLES:,} samples (one "
                f"binary variable each); {samples:,} were asked for: use fewer samples"
            )
        found, termination = _by_milp(scenario, draws, alpha, need, top, solver, time_limit, status)
        used = "the sample-average MILP"
        how, exact_over = "milp", "all feasible packages (the sample-average MILP)"
    packages: list[PackageResult] = []
    us = draws.parties.index(scenario.us_name)
    ref_samples = reference_utilities(scenario, draws)
    for idx, k, role in found:
        pr = package_result(scenario, idx, ref_point)
        pr.objective = float(np.mean(draws.utilities(idx[None, :])[:, 0, us] - ref_samples[:, us]))
        pr.extra = {
            "role": role,
            "in_sample": {"win_win": k, "samples": samples, "share": k / samples},
        }
        packages.append(pr)
    result = ImproveResult(
        scenario=scenario.name,
        parties=scenario.party_names,
        objective="robust",
        reference=(
            {k: value_out(v) for k, v in scenario.reference().items()}  # type: ignore[union-attr]
            if scenario.reference() is not None
            else None
        ),
        reference_utilities=ref_point,
        packages=packages,
        exact=termination == Termination.optimal and over_all,
        status=status,
        method=how,
        exact_over=exact_over,
    )
    if has_ranges(scenario):
        annotate(scenario, result, samples=check_samples, seed=seed + 1)
    result.status.termination = termination
    result.status.seconds = time.perf_counter() - t0
    result.explanation = _explain(scenario, result, alpha, samples, seed, need, check_samples, used)
    return result


def _pct(x: float) -> str:
    return format_percent(x, 1).replace(".0%", "%")


def _explain(
    scenario: Scenario,
    result: ImproveResult,
    alpha: float,
    n: int,
    seed: int,
    need: int,
    check: int,
    used: str,
) -> str:
    """The guarantee in words: samples used, in-sample share, out-of-sample check."""
    head = (
        f"Sample-average approximation with {n} samples (seed {seed}) of the estimate ranges: "
        f"win-win (every side at least as well off as under the "
        f"{'deal on the table' if scenario.reference() is not None else 'walk-away points'}, "
        f"one strictly better) required in at least {need} of {n} samples "
        f"(alpha {format_number(alpha)}), solved by {used}."
    )
    if not has_ranges(scenario):
        head += " The scenario has no ranges, so every sample is the point estimate."
    lines = [head]
    best = [p for p in result.packages if "best gain" in p.extra.get("role", "")]
    if not best:
        lines.append(
            f"No package is win-win in {need} of the {n} samples under the hard constraints; "
            "lower alpha, or narrow the ranges by asking the questions below."
        )
    for number, p in enumerate(result.packages, start=1):
        ins = p.extra["in_sample"]
        out = (
            f"; out of sample ({check} fresh samples, seed {seed + 1}): p_win_win "
            f"{_pct(p.p_win_win)}"
            if p.p_win_win is not None
            else ""
        )
        gain = (p.gains or {}).get(scenario.us_name)
        lines.append(
            f"Package {number} ({p.extra['role']}): win-win in {ins['win_win']} of {n} samples "
            f"({_pct(ins['share'])}){out}; our gain {format_number(round(gain or 0.0, 2))} "
            f"at the best guess, {format_number(round(p.objective or 0.0, 2))} on average over "
            "the samples."
        )
    if result.status.termination != Termination.optimal:
        lines.append(f"The solver stopped early ({result.status.termination.value}): not proven.")
    return " ".join(lines)


__all__ = ["EPS", "TIE_TOL", "package_result", "reference_point_utilities", "robust_improve"]
