"""The Pareto frontier: every distinct non-dominated utility vector, with its solution concepts.

``frontier(scenario, *, parties=None, solver=None, time_limit=None, method="auto")`` returns a
``FrontierResult``. A package is *feasible* when it meets every constraint, keeps every agreed issue
at its value and clears every party's walk-away point (``utility >= reservation - 1e-9``; docs/design.md
allows leaving packages below a walk-away point out). ``parties`` restricts the frontier to those
parties' utilities; the others must still clear their walk-away points. Utilities closer than 1e-9
are ties: a package worse for one party and tied for the others is dominated; one package is
reported per distinct utility vector (the one reopening the fewest provisional issues where the
method can tell).

Methods (``method="auto"`` picks the first that applies, in this order):

* ``fast_path`` (exact, ``optimizer.engine.fastpath``): separable utilities and single-issue constraints,
  or linked issues (a cross-issue constraint or synergy) whose joint options are few enough to
  enumerate as one block; any number of parties.
* ``enumeration`` (exact): every package, in numpy chunks, when there are at most
  ``ENUM_LIMIT`` of them (after agreed issues and single-issue constraints).
* ``epsilon_constraint`` (2 parties, MILP): walk the frontier from the first party's best point.
  Each solve maximises ``u_A`` subject to ``u_B >= b + q_B / 2`` where ``b`` is the second
  party's utility at the previous package. Exactness argument: every achievable utility of a
  party is a sum of table entries and synergy bonuses; when all of them are (within 1e-12 of)
  multiples of a quantum ``q_B`` (found by exact rational reconstruction, see ``utility_quantum``),
  every achievable ``u_B`` is a multiple of ``q_B``, so "``u_B`` beats ``b`` beyond a tie" is
  exactly "``u_B >= b + q_B / 2``": no point is skipped and no tie is re-found. ``q_B / 2`` is far
  above the solver tolerances we set (``q / scale >= 1e-6``, feasibility tolerances 1e-9) and every
  returned package is re-evaluated in numpy. Each solve returns the largest ``u_A`` above the
  threshold (gap 0), whatever its ``u_B``: by induction, for every frontier point ``P`` the solve
  after the last threshold below ``P``'s ``u_B`` returns ``P``'s ``u_A`` with a ``u_B`` tied with
  ``P``'s (a larger one would dominate ``P``, a smaller one is below the next threshold... and
  would have been the last threshold), so the non-dominated filter of the visited packages is the
  exact frontier. A package with the right ``u_A`` but a low ``u_B`` costs one extra solve and is
  filtered out (a tie-break weight on ``u_B`` would avoid it but makes every solve prove tiny
  objective differences: measured slower). Walk-away rows use the same lattice
  (``u_p >= L_p - q_p / 2``, ``L_p`` the smallest lattice value clearing it). ``exact`` is true
  only when the lattice exists and every solve was proven optimal; without a lattice the step is
  1e-6 and the result says it is an approximation.
* ``weighted_sum`` (3+ parties, MILP, approximation): the maximisers of a grid of positive
  weightings of the parties' utilities (supported points only), ``exact: false``.

``method`` may force ``"fast"``, ``"enumeration"`` or ``"milp"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from optimizer.engine.budget import (
    TIME_LIMIT_NOTE,
    Budget,
    check_time,
    cleanup_after_budget,
    time_budget,
)
from optimizer.engine.concepts import solution_concepts
from optimizer.engine.fastpath import (
    TIE_TOL,
    allowed_options,
    change_costs,
    constraint_mask,
    fast_frontier,
    nondominated,
    reservation_vector,
    spread,
)
from optimizer.engine.limits import DEFAULT_MAX_POINTS, MAX_POINTS_LIMIT
from optimizer.engine.results import (
    FrontierResult,
    SolveStatus,
    Termination,
    issue_changes,  # noqa: F401 - re-exported: pareto.issue_changes predates results'
    package_result,
    value_out,
)
from optimizer.errors import DealoptError, FastPathNotApplicable, TimeLimitReached
from optimizer.scenario.utility import UtilityTables, reference_utilities

if TYPE_CHECKING:
    from optimizer.scenario.models import Scenario

#: ``auto`` enumerates when the package space (after fixed/filtered issues) is at most this.
ENUM_LIMIT = 200_000

#: ``auto`` enumerates up to this many packages for 3+ parties (the MILP there approximates).
ENUM_LIMIT_MULTI = 2_000_000

#: ``method="enumeration"`` refuses spaces larger than this.
ENUM_HARD_LIMIT = 20_000_000

#: Packages per numpy chunk when enumerating.
CHUNK = 250_000

#: A utility lattice is used only when its quantum is at least this share of the utility scale
#: (so half a quantum is far above the solver tolerances).
MIN_QUANTUM_SHARE = 1e-6

#: Step of the epsilon-constraint walk when no lattice proves exactness.
FALLBACK_STEP = 1e-6

#: Packages the solver's tolerance let past a walk's bounds that are cut off before it gives up.
MAX_REJECTED = 1000

METHODS = ("auto", "fast", "enumeration", "milp")

#: The caveat on solution concepts marked on a frontier that is not exact.
CONCEPTS_NOT_EXACT = (
    "the solution concepts are the best of the points found: the frontier is not exact, so they "
    "may not be the negotiation's concept points"
)


#: A result holds at most this many (point, issue) cells: every point is a whole package with a
#: change record per issue (about 25 µs a cell to build and print on a loaded machine), so many
#: issues lower the cap (200 issues: 500 points).
MAX_RESULT_CELLS = 100_000


# --------------------------------------------------------------------------------------------
# Package results
# --------------------------------------------------------------------------------------------


def disagreement_point(scenario: Scenario, parties: list[str]) -> np.ndarray:
    """The disagreement point of the solution concepts: reservation values (0 when none)."""
    return np.array([scenario.reservation(p) or 0.0 for p in parties], dtype=float)


# --------------------------------------------------------------------------------------------
# The utility lattice
# --------------------------------------------------------------------------------------------


def utility_quantum(
    tables: UtilityTables, party: int, *, min_share: float = MIN_QUANTUM_SHARE
) -> float | None:
    """The largest ``q`` we can prove every achievable utility of ``party`` is a multiple of.

    Every utility is a sum of one table entry per issue plus synergy bonuses. Each table's first
    entry and its successive differences (few distinct values: tables are affine on long numeric
    stretches) are written as exact fractions of the utility scale (``limit_denominator``, accepted
    only within 1e-12); ``q`` is the scale over the least common multiple of their denominators.
    None when a value is not such a fraction or ``q`` would be below ``min_share`` of the scale.
    """
    scale = float(tables.scale)
    max_den = int(round(1.0 / min_share))
    values: list[float] = []
    for tab in tables.tables[party]:
        if len(tab) == 0:
            continue
        values.append(float(tab[0]))
        if len(tab) > 1:
            diffs = np.diff(tab)
            _, first = np.unique(np.round(diffs, 11), return_index=True)  # dedupe float noise
            values.extend(diffs[first].tolist())
    values.extend(float(s.bonus) for s in tables.synergies if s.party == party)
    den = 1
    for v in set(values):
        x = v / scale
        f = Fraction(x).limit_denominator(max_den)
        if abs(float(f) - x) > 1e-12 * max(1.0, abs(x)):
            return None
        den = den * f.denominator // math.gcd(den, f.denominator)
        if den > max_den:
            return None
    return scale / den


# --------------------------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------------------------


@dataclass
class _Found:
    """What a method found: packages, all parties' utilities, how it ended."""

    index: np.ndarray
    utilities: np.ndarray
    method: str
    exact: bool
    termination: Termination = Termination.optimal
    solver: str = ""
    solves: int = 0
    message: str = ""
    notes: list[str] = field(default_factory=list)
    capped: bool = False


def package_count(scenario: Scenario) -> int:
    """How many packages remain once agreed issues are fixed and single-issue constraints applied."""
    return math.prod(len(a) for a in allowed_options(scenario))


def _enumerate(
    scenario: Scenario, tables: UtilityTables, dims: list[int], cap: int = DEFAULT_MAX_POINTS
) -> _Found:
    """Exact frontier by evaluating every package (numpy, in chunks).

    The frontier kept between chunks is at most ``cap`` points (thinned with ``spread``, then
    ``capped``); when the time budget runs out the packages seen so far are filtered and returned
    (``exact`` false, ``time_limit``)."""
    allowed = allowed_options(scenario)
    sizes = [len(a) for a in allowed]
    total = math.prod(sizes)
    n_issues = len(scenario.issues)
    costs = change_costs(scenario)
    cross = [c for c in scenario.constraints if len(c.issue_names) > 1]
    reservation = reservation_vector(scenario)
    best_idx = np.zeros((0, n_issues), dtype=np.int64)
    best_u = np.zeros((0, len(scenario.parties)))
    best_c = np.zeros(0)
    capped = False
    seen = 0
    for start in range(0, total, CHUNK):
        try:
            check_time()
        except TimeLimitReached:
            return _Found(
                best_idx,
                best_u,
                "enumeration",
                False,
                Termination.time_limit,
                message=f"{TIME_LIMIT_NOTE} after {seen:,} of {total:,} packages",
                capped=capped,
            )
        seen = min(total, start + CHUNK)
        flat = np.arange(start, min(total, start + CHUNK), dtype=np.int64)
        pos = np.stack(np.unravel_index(flat, sizes), axis=1) if sizes else flat[:, None]
        index = np.empty((len(flat), n_issues), dtype=np.int64)
        for k in range(n_issues):
            index[:, k] = allowed[k][pos[:, k]]
        ok = np.ones(len(index), dtype=bool)
        for c in cross:
            ok &= constraint_mask(scenario, c, index)
        index = index[ok]
        U = tables.evaluate(index)
        ok = np.all(U - reservation >= -TIE_TOL, axis=1)
        index, U = index[ok], U[ok]
        cost = np.zeros(len(index))
        for k in range(n_issues):
            cost += costs[k][index[:, k]]
        index = np.vstack([best_idx, index])
        U = np.vstack([best_u, U])
        cost = np.concatenate([best_c, cost])
        try:
            keep = nondominated(U[:, dims], cost)
        except TimeLimitReached:  # the packages of earlier chunks stay a valid partial answer
            return _Found(
                best_idx,
                best_u,
                "enumeration",
                False,
                Termination.time_limit,
                message=f"{TIME_LIMIT_NOTE} after {start:,} of {total:,} packages",
                capped=capped,
            )
        if len(keep) > cap:
            keep = keep[spread(U[keep][:, dims], cap)]
            capped = True
        best_idx, best_u, best_c = index[keep], U[keep], cost[keep]
    return _Found(best_idx, best_u, "enumeration", not capped, capped=capped)


def _fast(
    scenario: Scenario, tables: UtilityTables, dims: list[int], cap: int = DEFAULT_MAX_POINTS
) -> _Found:
    ff = fast_frontier(scenario, dims, tables=tables, cap=cap)
    notes = []
    linked = [b for b in ff.blocks if len(b) > 1]
    if linked:
        notes.append(f"{len(linked)} group(s) of linked issues merged as blocks")
    if ff.stopped:
        return _Found(
            ff.index,
            ff.utilities,
            "fast_path",
            False,
            Termination.time_limit,
            message=f"{TIME_LIMIT_NOTE}: the issues not merged by then keep their least "
            "disruptive option",
            notes=notes,
            capped=ff.capped,
        )
    return _Found(ff.index, ff.utilities, "fast_path", not ff.capped, notes=notes, capped=ff.capped)


def _make_solver(
    name: str | None, time_limit: float | None, tight: bool = False, strict: bool = False
) -> Any:
    """A PuLP solver with gaps 0; with ``tight``, HiGHS's feasibility tolerances go from 1e-6/1e-7
    to 1e-9 (used when half a lattice step is small; tighter tolerances make HiGHS slower).
    ``strict`` also tightens CBC's integrality and primal tolerances to 1e-9: the walk's second
    try at a step CBC called infeasible although a package beyond the step exists."""
    import pulp

    from optimizer.engine.solvers import make_solver, resolve_name

    key = resolve_name(name)
    tight = tight or strict
    if key == "cbc" and tight:
        return make_solver(key, time_limit, tolerance=1e-9)
    if key == "highs" and tight:
        make_solver(key, None)  # silences the HiGHS banner once per process
        return pulp.HiGHS(
            msg=False,
            gapRel=0,
            gapAbs=0,
            timeLimit=time_limit,
            mip_feasibility_tolerance=1e-9,
            primal_feasibility_tolerance=1e-9,
        )
    return make_solver(key, time_limit)


def _lattice_level(r: float, q: float) -> float:
    """The smallest multiple of ``q`` that clears the reservation value ``r`` (tie rule)."""
    n = math.floor((r - TIE_TOL) / q) - 1
    while n * q < r - TIE_TOL:
        n += 1
    return n * q


def _nondominated_found(
    found_idx: list, found_u: list, dims: list[int], scenario: Scenario, n_parties: int
) -> tuple[np.ndarray, np.ndarray]:
    """The packages a MILP walk found, reduced to the non-dominated ones on ``dims``."""
    if not found_idx:
        return np.zeros((0, len(scenario.issues)), dtype=np.int64), np.zeros((0, n_parties))
    index = np.array(found_idx, dtype=np.int64)
    U = np.array(found_u)
    keep = nondominated(U[:, dims])
    return index[keep], U[keep]


def _compile(scenario: Scenario, quanta: list[float | None]) -> Any:
    """The PuLP model with walk-away rows on the utility lattice (or at the reservation)."""
    from optimizer.engine.milp import compile_scenario

    m = compile_scenario(scenario, walk_away=False)
    for p, name in enumerate(scenario.party_names):
        r = scenario.reservation(name)
        if r is None:
            continue
        q = quanta[p]
        level = _lattice_level(r, q) - q / 2 if q else r - TIE_TOL  # numpy keeps ties too
        m.add_row(m.utility[name] >= level, name=f"walk_away_{p}")
    return m


def _party_scale(scenario: Scenario, p: int) -> float:
    party = scenario.parties[p]
    scale = getattr(party, "utility_scale", None)
    return float(scale if scale is not None else scenario.utility_scale)


def _span(tables: UtilityTables, p: int) -> float:
    lo = sum(float(t.min()) for t in tables.tables[p] if len(t))
    lo += sum(min(0.0, s.bonus) for s in tables.synergies if s.party == p)
    return max(tables.upper_bound(p) - lo, 1e-9)


def _lattice_ok(scenario: Scenario, tables: UtilityTables, dims: list[int]) -> bool:
    """Whether the epsilon-constraint walk can prove exactness (two parties, a lattice)."""
    if len(dims) != 2:
        return True  # the 3+ party MILP method is an approximation either way
    needed = set(dims) | {
        p for p, n in enumerate(scenario.party_names) if scenario.reservation(n) is not None
    }
    return all(utility_quantum(tables, p) is not None for p in needed)


def _epsilon_constraint(
    scenario: Scenario,
    tables: UtilityTables,
    dims: list[int],
    solver: str | None,
    clock: Budget,
    cap: int = DEFAULT_MAX_POINTS,
) -> _Found:
    """Exact two-party frontier by the lattice epsilon-constraint walk (module docstring); it
    stops after ``cap`` packages (``capped``)."""
    a, b = dims
    quanta = [utility_quantum(tables, p) for p in range(len(scenario.parties))]
    needed = {a, b} | {
        p for p, n in enumerate(scenario.party_names) if scenario.reservation(n) is not None
    }
    lattice = all(quanta[p] is not None for p in needed)
    step_b = quanta[b] / 2 if quanta[b] else FALLBACK_STEP
    # Half a lattice step below 1e-4 of the scale: tighten the solver's feasibility tolerances.
    tight = not lattice or any(
        quanta[p] < 2e-4 * _party_scale(scenario, p)
        for p in needed  # type: ignore[operator]
    )
    m = _compile(scenario, quanta if lattice else [None] * len(quanta))
    names = scenario.party_names
    m.set_objective(m.utility[names[a]])
    reservation = reservation_vector(scenario)
    found_idx: list[np.ndarray] = []
    found_u: list[np.ndarray] = []
    exact = lattice
    termination = Termination.optimal
    message = ""
    solver_name = ""
    threshold_row: str | None = None
    threshold = -math.inf
    rejected = 0
    capped = False
    while True:
        if len(found_idx) >= cap:
            exact, capped = False, True
            break
        remaining = clock.remaining()
        if remaining is not None and remaining <= 0:
            exact, termination = False, Termination.time_limit
            message = f"{TIME_LIMIT_NOTE} before the walk finished"
            break
        out = m.solve(_make_solver(solver, remaining, tight), remaining)
        solver_name = out.solver
        if out.termination == Termination.infeasible and threshold_row is not None:
            m.remove_row(threshold_row)
            out, beyond = _confirm_end(m, names, a, b, threshold, reservation, solver, clock)
            if beyond is not None:  # a package beyond the step exists: the verdict was wrong
                found_idx.append(beyond[0])
                found_u.append(beyond[1])
                threshold_row = m.add_row(m.utility[names[b]] >= threshold, name=f"eps_{m.solves}")
                m.set_objective(m.utility[names[a]])
                remaining = clock.remaining()
                out = m.solve(_make_solver(solver, remaining, tight, strict=True), remaining)
                if out.termination == Termination.infeasible:
                    exact = False
                    message = (
                        f"{out.solver} called a step of the walk infeasible although a package "
                        f"beyond it exists (also with tolerances of 1e-9): points with "
                        f"{names[b]}'s utility between {threshold:.6g} and "
                        f"{beyond[1][b]:.6g} may be missing"
                    )
                    break
        if out.termination == Termination.infeasible:
            break
        if not out.optimal:
            exact, termination = False, out.termination
            message = out.message or f"a solve ended with status {out.termination.value}"
            if out.has_solution:
                idx = m.decode()
                found_idx.append(idx)
                found_u.append(tables.evaluate(idx[None, :])[0])
            break
        idx = m.decode()
        u = m.verify(idx)
        outside = bool(np.any(u - reservation < -TIE_TOL))
        if outside or u[b] < threshold - TIE_TOL:
            # Only the solver's tolerance (up to 1e-6) let this package in: cut it off and solve
            # again. Stopping here (as the walk once did) lost every point further along.
            if not outside:
                found_idx.append(idx)  # a real package: the non-dominated filter decides
                found_u.append(u)
            m.exclude(idx)
            rejected += 1
            if rejected > MAX_REJECTED:
                exact, termination = False, Termination.not_solved
                message = (
                    f"the solver returned {rejected} packages outside its bounds (numerical "
                    "tolerance); the walk stopped"
                )
                break
            continue
        found_idx.append(idx)
        found_u.append(u)
        threshold = u[b] + step_b  # > the previous threshold: u_b cleared it within 1e-9
        if threshold_row is not None:
            m.remove_row(threshold_row)
        threshold_row = m.add_row(m.utility[names[b]] >= threshold, name=f"eps_{m.solves}")
    if threshold_row is not None:
        m.remove_row(threshold_row)
    notes = []
    if not lattice:
        if termination == Termination.optimal and found_idx:
            stopped = _fill_gaps(
                m, names, a, b, reservation, found_idx, found_u, solver, clock, tight
            )
            if stopped is not None:
                exact, termination = False, stopped[0]
                message = message or stopped[1]
        notes.append(
            f"utilities are not on a grid coarse enough to prove exactness; the walk's steps of "
            f"{FALLBACK_STEP:g} may skip a point whose utilities are within {FALLBACK_STEP:g} of "
            "a point found (every gap between the points found was checked again)"
        )
    index, U = _nondominated_found(found_idx, found_u, dims, scenario, len(names))
    return _Found(
        index,
        U,
        "epsilon_constraint",
        exact,
        termination,
        solver_name,
        m.solves,
        message,
        notes,
        capped,
    )


def _fill_gaps(
    m: Any,
    names: list[str],
    a: int,
    b: int,
    reservation: np.ndarray,
    found_idx: list[np.ndarray],
    found_u: list[np.ndarray],
    solver: str | None,
    clock: Budget,
    tight: bool,
) -> tuple[Termination, str] | None:
    """Check every gap of a walk without a lattice; add the points found there (in place).

    Off the lattice, CBC has answered a walk step with a package that is not the best above the
    step ("optimal", 9 utility points short), and the walk then stepped over whole points. A
    point the walk missed lies in a gap between two consecutive points found, ``P`` (higher
    ``u_b``) and ``Q``: ``u_a > u_a(P)`` and ``u_b > u_b(Q)``. Each gap is asked once more in
    another form (the largest ``u_b`` with both bounds as rows); a point found there is added and
    its two new gaps are asked in turn. Returns None, or (termination, message) when a solve
    stopped the check (time limit, a solver failure)."""
    asked: set[tuple[float, float]] = set()
    while True:
        U = np.array(found_u)
        pts = sorted({(float(x[a]), float(x[b])) for x in U[nondominated(U[:, [a, b]])]})
        # ascending u_a means descending u_b: a gap lies between neighbours
        gaps = [(pts[i][0], pts[i + 1][1]) for i in range(len(pts) - 1)]
        new = [g for g in gaps if g not in asked]
        if not new:
            return None
        for low_a, low_b in new:
            asked.add((low_a, low_b))
            remaining = clock.remaining()
            if remaining is not None and remaining <= 0:
                return Termination.time_limit, "the time limit was reached checking the walk's gaps"
            rows = [
                m.add_row(m.utility[names[a]] >= low_a + FALLBACK_STEP, name=f"gap_a_{m.solves}"),
                m.add_row(m.utility[names[b]] >= low_b + FALLBACK_STEP, name=f"gap_b_{m.solves}"),
            ]
            m.set_objective(m.utility[names[b]])
            out = m.solve(_make_solver(solver, remaining, tight), remaining)
            for r in rows:
                m.remove_row(r)
            m.set_objective(m.utility[names[a]])
            if out.termination == Termination.infeasible:
                continue
            if not out.optimal or not out.has_solution:
                return out.termination, out.message or "a solve checking the walk's gaps failed"
            idx = m.decode()
            u = m.verify(idx)
            inside = u[a] > low_a + TIE_TOL and u[b] > low_b + TIE_TOL
            if inside and np.all(u - reservation >= -TIE_TOL):
                found_idx.append(idx)
                found_u.append(u)


def _confirm_end(
    m: Any,
    names: list[str],
    a: int,
    b: int,
    threshold: float,
    reservation: np.ndarray,
    solver: str | None,
    clock: Budget,
) -> tuple[Any, tuple[np.ndarray, np.ndarray] | None]:
    """Check a walk step the solver called infeasible: the largest ``u_b`` without the step's row.

    That solve always has a solution (the previous package). Below ``threshold`` (numpy): the
    walk has really ended; the outcome is returned as it is. At or above it, CBC's verdict was
    wrong (seen on non-lattice utilities): the package found beyond the step is returned. The
    caller has removed the step's row and adds it again."""
    m.set_objective(m.utility[names[b]])
    remaining = clock.remaining()
    out = m.solve(_make_solver(solver, remaining, True), remaining)
    m.set_objective(m.utility[names[a]])
    if not out.has_solution:
        return out, None
    idx = m.decode()
    u = m.verify(idx)
    outside = bool(np.any(u - reservation < -TIE_TOL)) or m.checker.violated(idx, u)
    if u[b] < threshold - TIE_TOL or outside:
        out.termination = Termination.infeasible  # the walk has really ended
        return out, None
    return out, (idx, u)


def _simplex_grid(m: int, h: int) -> np.ndarray:
    """Weight vectors with positive entries on a grid of resolution 1/h summing to 1."""
    out = []

    def rec(prefix: list[int], left: int, slots: int) -> None:
        if slots == 1:
            if left >= 1:
                out.append([*prefix, left])
            return
        for x in range(1, left - slots + 2):
            rec([*prefix, x], left - x, slots - 1)

    rec([], h, m)
    return np.array(out, dtype=float) / h


def _weighted_sum(
    scenario: Scenario,
    tables: UtilityTables,
    dims: list[int],
    solver: str | None,
    clock: Budget,
) -> _Found:
    """Supported frontier points from a grid of weightings (an approximation for 3+ parties)."""
    m = _compile(scenario, [None] * len(scenario.parties))
    names = scenario.party_names
    spans = [_span(tables, p) for p in dims]
    h = {3: 12, 4: 8}.get(len(dims), 5)
    grid = _simplex_grid(len(dims), max(h, len(dims)))
    found_idx: list[np.ndarray] = []
    found_u: list[np.ndarray] = []
    termination, message, solver_name = Termination.optimal, "", ""
    for w in grid:
        remaining = clock.remaining()
        if remaining is not None and remaining <= 0:
            termination, message = Termination.time_limit, TIME_LIMIT_NOTE
            break
        expr = None
        for weight, p, span in zip(w, dims, spans, strict=True):
            term = (weight / span) * m.utility[names[p]]
            expr = term if expr is None else expr + term
        m.set_objective(expr)
        out = m.solve(_make_solver(solver, remaining), remaining)
        solver_name = out.solver
        if out.termination == Termination.infeasible:
            break
        if not out.has_solution:
            termination, message = out.termination, out.message
            break
        idx = m.decode()
        found_idx.append(idx)
        found_u.append(tables.evaluate(idx[None, :])[0])
        if not out.optimal:
            termination, message = out.termination, out.message
            break
    index, U = _nondominated_found(found_idx, found_u, dims, scenario, len(names))
    note = (
        f"approximation: maximisers of {len(grid)} weightings of the parties' utilities "
        "(supported points only; points in the frontier's dents are missed)"
    )
    return _Found(
        index, U, "weighted_sum", False, termination, solver_name, m.solves, message, [note]
    )


# --------------------------------------------------------------------------------------------
# The public function
# --------------------------------------------------------------------------------------------


def _frontier_parties(scenario: Scenario, parties: list[str] | str | None) -> list[str]:
    names = scenario.party_names
    if parties is None:
        return list(names)
    if isinstance(parties, str):
        parties = [p.strip() for p in parties.split(",") if p.strip()]
    parties = list(parties)
    unknown = [p for p in parties if p not in names]
    if unknown:
        raise DealoptError(
            f"unknown part{'y' if len(unknown) == 1 else 'ies'} {', '.join(map(repr, unknown))}; "
            f"the parties are {', '.join(map(repr, names))}"
        )
    if len(set(parties)) != len(parties):
        raise DealoptError("each party may be named only once in the frontier's parties")
    if len(parties) < 2:
        raise DealoptError("a frontier needs at least two parties")
    return parties


def _empty_explanation(scenario: Scenario, solver: str | None) -> str:
    """Why no package is feasible, in words (a minimal conflicting set, ``optimizer.searches.diagnose``)."""
    from optimizer.searches.diagnose import explain_infeasible

    head = "The frontier is empty: no package meets every rule, agreed issue and walk-away point."
    try:
        diagnosis = explain_infeasible(scenario, solver=solver)
    except DealoptError:
        return head
    return f"{head} {diagnosis.text}" if diagnosis.text else head


def _explanation(
    scenario: Scenario, solver: str | None, found: _Found, any_found: bool
) -> str | None:
    """Why the frontier is empty (None when it is not)."""
    if any_found:
        return None
    if found.termination != Termination.optimal:
        return f"The search stopped before finding a package: {found.message or 'no solution'}."
    return _empty_explanation(scenario, solver)


def frontier(
    scenario: Scenario,
    *,
    parties: list[str] | str | None = None,
    solver: str | None = None,
    time_limit: float | None = None,
    method: str = "auto",
    max_points: int = DEFAULT_MAX_POINTS,
) -> FrontierResult:
    """The Pareto frontier of a scenario (see the module docstring for methods and exactness).

    ``parties`` (names, or a comma-separated string) restricts the frontier to those parties'
    utilities; ``solver`` is ``"highs"`` or ``"cbc"`` (MILP methods); ``time_limit`` (seconds) caps
    the whole computation (inside any budget already open, ``optimizer.engine.budget``), and a
    run it cuts short returns what it found, never reported exact; ``method`` is ``"auto"``,
    ``"fast"``, ``"enumeration"`` or ``"milp"``; ``max_points`` caps the points kept (beyond it
    they are thinned, spread along the frontier, and the result says ``capped``).
    """
    if method == "enumerate":
        method = "enumeration"
    if method not in METHODS:
        raise DealoptError(f"unknown frontier method {method!r}; use one of {', '.join(METHODS)}")
    if time_limit is not None and not time_limit > 0:
        raise DealoptError(
            f"the time limit must be a positive number of seconds (got {time_limit})"
        )
    if (
        isinstance(max_points, bool)
        or not isinstance(max_points, int)
        or not 1 <= max_points <= MAX_POINTS_LIMIT
    ):
        raise DealoptError(
            f"max_points must be a whole number from 1 to {MAX_POINTS_LIMIT:,} (got {max_points!r})"
        )
    cap = min(max_points, max(1, MAX_RESULT_CELLS // max(1, len(scenario.issues))))
    with time_budget(time_limit) as clock:
        result = _frontier(scenario, parties, solver, method, cap, clock)
    if result.capped and cap < max_points:
        result.status.message += (
            f"; with {len(scenario.issues)} issues a result holds at most {cap:,} packages "
            f"({MAX_RESULT_CELLS:,} issue values in all)"
        )
    elif result.capped:
        result.status.message += "; ask for more points with --max-points (max_points=)"
    return result


def _frontier(
    scenario: Scenario,
    parties: list[str] | str | None,
    solver: str | None,
    method: str,
    cap: int,
    clock: Budget,
) -> FrontierResult:
    """``frontier`` inside its time budget."""
    names = _frontier_parties(scenario, parties)
    dims = [scenario.party_names.index(p) for p in names]
    tables = UtilityTables.build(scenario)
    if solver is not None:
        from optimizer.engine.solvers import resolve_name

        resolve_name(solver)  # an unknown or missing solver is an error whatever the method

    found: _Found | None = None
    fallback_note = ""
    if method in ("auto", "fast"):
        try:
            found = _fast(scenario, tables, dims, cap)
        except TimeLimitReached:
            found = _stopped("fast_path", len(scenario.issues), len(scenario.parties))
        except FastPathNotApplicable as e:
            if method == "fast":
                raise DealoptError(f"the fast path does not apply: {e}") from None
            fallback_note = f"fast path not used: {e}"
    if found is None and method in ("auto", "enumeration"):
        count = package_count(scenario)
        limit = ENUM_LIMIT if method == "auto" else ENUM_HARD_LIMIT
        if method == "auto" and len(dims) > 2:
            limit = ENUM_LIMIT_MULTI  # the alternative is an approximation
        elif method == "auto" and not _lattice_ok(scenario, tables, dims):
            limit = ENUM_HARD_LIMIT  # enumeration stays exact where the MILP walk could not
        if count <= limit:
            found = _enumerate(scenario, tables, dims, cap)
        elif method == "enumeration":
            raise DealoptError(
                f"{count:,} packages are too many to enumerate (limit {limit:,}); "
                "use method 'auto' or 'milp'"
            )
    if found is None:
        if solver is None:
            from optimizer.engine.solvers import resolve_name

            resolve_name(None)
        if len(dims) == 2:
            found = _epsilon_constraint(scenario, tables, dims, solver, clock, cap)
        else:
            found = _weighted_sum(scenario, tables, dims, solver, clock)
    if found.capped:
        found.notes.append(
            f"capped: the frontier has more than {cap:,} points, {cap:,} are kept (spread along it)"
        )

    # Order: by the first frontier party's utility, then the others (ascending).
    U = found.utilities
    if len(U):
        order = np.lexsort([U[:, p] for p in reversed(dims)])
        index, U = found.index[order], U[order]
    else:
        index = found.index
    ref_u = reference_utilities(scenario, tables)
    packages = [package_result(scenario, index[i], U[i], ref_u) for i in range(len(index))]
    concepts: dict[str, int] = {}
    if len(U):
        with cleanup_after_budget():  # a few passes over at most ``cap`` points
            concepts = solution_concepts(U[:, dims], disagreement_point(scenario, names))
        for concept, i in concepts.items():
            packages[i].concepts.append(concept)

    message_parts = [found.message, *found.notes]
    if fallback_note and found.method != "fast_path":
        message_parts.append(fallback_note)
    if concepts and not found.exact:
        message_parts.append(CONCEPTS_NOT_EXACT)
    termination = found.termination
    if not packages and termination == Termination.optimal:
        termination = Termination.infeasible  # proven: no package meets every rule
    ref = scenario.reference()
    return FrontierResult(
        scenario=scenario.name,
        parties=names,
        packages=packages,
        exact=found.exact,
        method=found.method,
        status=SolveStatus(
            termination=termination,
            solver=found.solver,
            message="; ".join(p for p in message_parts if p),
            solves=found.solves,
            seconds=round(clock.elapsed(), 6),
        ),
        reference={k: value_out(v) for k, v in ref.items()} if ref is not None else None,
        reference_utilities={n: float(u) for n, u in zip(scenario.party_names, ref_u, strict=True)},
        reservation={n: scenario.reservation(n) for n in scenario.party_names},
        concepts=concepts,
        concepts_exact=found.exact,
        explanation=_explanation(scenario, solver, found, bool(packages)),
        capped=found.capped,
    )


def _stopped(method: str, n_issues: int, n_parties: int) -> _Found:
    """Nothing found before the time budget ran out."""
    return _Found(
        np.zeros((0, n_issues), dtype=np.int64),
        np.zeros((0, n_parties)),
        method,
        False,
        Termination.time_limit,
        message=TIME_LIMIT_NOTE,
    )
