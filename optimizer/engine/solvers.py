"""Solver backends behind PuLP (a small linopy-style interface).

* ``available_solvers()`` -> the names usable here, best first (``"highs"`` then ``"cbc"``).
* ``is_available(name)`` -> bool.
* ``resolve_name(name | None)`` -> the canonical name (None picks HiGHS, or CBC when highspy is
  missing); an unknown or unavailable name raises ``SolverError`` listing the available ones.
* ``make_solver(name | None, time_limit, *, presolve=True)`` -> a configured PuLP solver with MIP
  gaps set to 0 (relative and absolute: a gap would let the searches drop exact points).
* ``solve(prob, solver=None, time_limit=None, *, presolve=True, confirm_infeasible=False)
  -> SolveOutcome`` runs one solve (see Presolve below) and maps PuLP's
  ``status`` / ``sol_status`` pair to a ``Termination``. PuLP reports "Optimal" for an incumbent
  found before a time limit; only ``sol_status == LpSolutionOptimal`` counts as proven optimal,
  an integer-feasible incumbent is ``Termination.time_limit`` (``has_solution`` tells whether
  the variables hold a usable package).

Presolve
--------
HiGHS's MIP presolve has rules that are wrong on our models. Its "Enumeration" rule (seen with
HiGHS 1.16.0; bit 16 of ``presolve_rule_off``) drops an *equality* clique once all but one of its binaries are
fixed, so the postsolved solution can choose two pieces of one issue (every ``one_j`` row of the
compiled model is such a clique). HiGHS then rejects its own incumbent and reports a feasible model
"Infeasible" or ends with "Solve error" (PuLP: "Not Solved"); HiGHS issue #3216 describes the
reduction. Its "Doubleton equation" rule (bit 9) has cut off a maxmin optimum (70 reported as
68.75, "Optimal", nothing for any check to see). So every HiGHS solve, also with a solver object
made elsewhere, runs with both rules switched off (``HIGHS_PRESOLVE_RULES_OFF``; switching a rule
off never changes a correct answer). And a
HiGHS verdict that HiGHS itself contradicts (an error status, or "infeasible" while it holds a
solution that failed its own post-presolve check) is solved again without presolve before it is
believed; ``SolveOutcome.note`` says so. With ``confirm_infeasible=True`` (the searches, whose
"infeasible" becomes a claim such as "only 2 packages exist") every "infeasible" is confirmed so.

CBC 2.10's CGL preprocessing also calls some feasible models infeasible ("Cut generators found to
be infeasible", e.g. a stage that fixes a maxmin optimum of 91.67 with fractional utilities), so a
CBC "infeasible" is confirmed with presolve and preprocessing off before it is believed. Without
preprocessing, CBC 2.10 crashes writing the solution file of some models it has just proved
infeasible ("Problem is infeasible - tightenPrimalBounds!", then a segmentation fault); such an
inconclusive check leaves the first verdict standing.

Every solution is checked against the problem itself (finite values, integrality, bounds, every
row; ``_broken_solution``): HiGHS 1.16's presolve has also returned "Optimal" with NaN values, which
``decode`` and ``verify`` would not notice. Such a solve is redone without presolve, and values
that still are not a solution end as ``Termination.error``, never as an answer.

PuLP is imported inside the functions so that importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Any

from optimizer.engine.results import Termination
from optimizer.errors import SolverError

#: Canonical solver names, in order of preference.
SOLVER_NAMES: tuple[str, ...] = ("highs", "cbc")

#: HiGHS presolve rules switched off in every HiGHS solve (``presolve_rule_off`` bit mask):
#: rule 16, "Enumeration", and rule 9, "Doubleton equation" (see the module docstring).
HIGHS_PRESOLVE_RULES_OFF = (1 << 16) | (1 << 9)

_ALIASES = {
    "highs": "highs",
    "highspy": "highs",
    "cbc": "cbc",
    "pulp_cbc_cmd": "cbc",
    "coin": "cbc",
    "coin-or": "cbc",
}


@dataclass
class SolveOutcome:
    """How one solve ended: the termination, the solver used, the objective and the time taken."""

    termination: Termination
    solver: str
    objective: float | None = None
    seconds: float = 0.0
    has_solution: bool = False
    message: str = ""
    note: str = ""  # e.g. a HiGHS verdict re-checked without presolve

    @property
    def optimal(self) -> bool:
        """True only for a proven optimum (gap 0, no limit hit)."""
        return self.termination == Termination.optimal


_BANNER_DONE = False


def _silence_highs_banner() -> None:
    """Create the process's first HiGHS instance with stdout muted.

    HiGHS prints a copyright banner on the C-level stdout the first time a solver object is
    created, whatever the output options; that would corrupt ``--json`` output.
    """
    global _BANNER_DONE
    if _BANNER_DONE:
        return
    _BANNER_DONE = True
    import highspy

    fd = 1  # the C-level stdout, whatever Python's sys.stdout currently is
    with contextlib.suppress(AttributeError, OSError, ValueError):
        sys.stdout.flush()
    try:
        saved = os.dup(fd)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:  # no usable stdout (closed): nothing to protect
        return
    try:
        os.dup2(devnull, fd)
        with contextlib.redirect_stdout(io.StringIO()):  # highspy may print through Python
            h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        try:
            import ctypes

            ctypes.CDLL(None).fflush(None)
        except (OSError, AttributeError):
            pass
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def _highs_available() -> bool:
    try:
        import highspy  # noqa: F401
    except ImportError:
        return False
    import pulp

    return bool(pulp.HiGHS().available())


def _cbc_available() -> bool:
    import pulp

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return bool(pulp.PULP_CBC_CMD(msg=False).available())
    except Exception:  # a broken bundled binary counts as unavailable
        return False


_AVAILABLE: dict[str, bool] = {}


def is_available(name: str) -> bool:
    """Whether the solver ``name`` (``highs`` or ``cbc``) can be used on this machine."""
    key = _ALIASES.get(name.strip().lower())
    if key is None:
        return False
    if key not in _AVAILABLE:
        _AVAILABLE[key] = _highs_available() if key == "highs" else _cbc_available()
    return _AVAILABLE[key]


def available_solvers() -> list[str]:
    """The usable solver names, best first."""
    return [n for n in SOLVER_NAMES if is_available(n)]


def resolve_name(name: str | None) -> str:
    """The canonical solver name for ``name`` (None: the default); SolverError when unusable."""
    avail = available_solvers()
    if name is None:
        if not avail:
            raise SolverError("no MILP solver is available (install highspy, or PuLP's CBC)")
        return avail[0]
    key = _ALIASES.get(str(name).strip().lower())
    if key is None:
        raise SolverError(
            f"unknown solver {name!r}; available: {', '.join(avail) or 'none'}"
            f" (known: {', '.join(SOLVER_NAMES)})"
        )
    if key not in avail:
        raise SolverError(
            f"solver {key!r} is not available here; available: {', '.join(avail) or 'none'}"
        )
    return key


def make_solver(
    name: str | None = None,
    time_limit: float | None = None,
    *,
    presolve: bool = True,
    tolerance: float | None = None,
) -> Any:
    """A configured PuLP solver: quiet, MIP gaps 0, optional time limit in seconds.

    HiGHS runs with ``HIGHS_PRESOLVE_RULES_OFF``. ``presolve=False`` switches presolve off (CBC:
    also its CGL preprocessing, after which CBC 2.10 can crash on an infeasible model).
    ``tolerance`` sets the integrality and primal feasibility tolerances (defaults about 1e-6):
    a big-M row whose switch must be exactly 0 or 1 needs them below its smallest meaningful
    fraction (the robust search's indicators, see ``optimizer.searches.robust``)."""
    import pulp

    key = resolve_name(name)
    if time_limit is not None and not time_limit > 0:
        raise SolverError(f"the time limit must be a positive number of seconds (got {time_limit})")
    if key == "highs":
        _silence_highs_banner()
        extra = {}
        if tolerance is not None:
            extra = {
                "mip_feasibility_tolerance": tolerance,
                "primal_feasibility_tolerance": tolerance,
            }
        backend = pulp.HiGHS(msg=False, gapRel=0, gapAbs=0, timeLimit=time_limit, **extra)
        _configure_highs(backend, presolve)
        return backend
    options = [] if presolve else list(_CBC_NO_PREPROCESS)
    if tolerance is not None:
        options += [f"integerT {tolerance:g}", f"primalT {tolerance:g}"]
    with warnings.catch_warnings():  # PuLP 3.3 flags the bundled CBC as deprecated for 4.0
        warnings.simplefilter("ignore", DeprecationWarning)
        if presolve:
            return pulp.PULP_CBC_CMD(
                msg=False, gapRel=0, gapAbs=0, timeLimit=time_limit, options=options
            )
        return pulp.PULP_CBC_CMD(
            msg=False,
            gapRel=0,
            gapAbs=0,
            timeLimit=time_limit,
            presolve=False,
            options=options,
        )


#: CBC command-line options that switch its (CGL) preprocessing off.
_CBC_NO_PREPROCESS = ("preprocess off",)


def _configure_highs(backend: Any, presolve: bool = True) -> None:
    """Switch HiGHS's wrong presolve rules off (and all of presolve when ``presolve`` is False)."""
    options = backend.optionsDict
    options["presolve_rule_off"] = int(options.get("presolve_rule_off", 0)) | (
        HIGHS_PRESOLVE_RULES_OFF
    )
    if not presolve:
        options["presolve"] = "off"


#: HiGHS model statuses that say the solve itself failed (not a verdict on the model).
_HIGHS_ERRORS = ("kSolveError", "kPresolveError", "kPostsolveError", "kMemoryLimit")


def _highs_status(prob: Any) -> tuple[str, str, bool]:
    """(status name, status in words, whether HiGHS contradicts its own verdict) of the last solve.

    HiGHS contradicts itself when the solve failed, when it says "infeasible or unbounded" (our
    models are bounded), or when it says "infeasible" while holding a solution (an incumbent that
    failed its check after presolve was undone: the presolve reductions were wrong)."""
    try:
        import highspy
    except ImportError:
        return "", "", False
    h = getattr(prob, "solverModel", None)
    if not isinstance(h, highspy.Highs):
        return "", "", False
    ms = h.getModelStatus()
    name = getattr(ms, "name", str(ms))
    words = h.modelStatusToString(ms)
    doubtful = name in (*_HIGHS_ERRORS, "kUnboundedOrInfeasible", "kUnknown")
    if name == "kInfeasible":
        doubtful = int(h.getInfo().primal_solution_status) != 0
    return name, words, doubtful


def termination_of(status: int, sol_status: int, *, time_limited: bool) -> Termination:
    """Map PuLP's (status, sol_status) to a Termination; never "optimal" without proof."""
    import pulp

    if status == pulp.LpStatusOptimal:
        if sol_status == pulp.LpSolutionOptimal:
            return Termination.optimal
        if sol_status == pulp.LpSolutionIntegerFeasible:
            return Termination.time_limit if time_limited else Termination.not_solved
        return Termination.error
    if status == pulp.LpStatusInfeasible:
        return Termination.infeasible
    if status == pulp.LpStatusUnbounded:
        return Termination.unbounded
    if status == pulp.LpStatusNotSolved:
        return Termination.time_limit if time_limited else Termination.not_solved
    return Termination.error


def solve(
    prob: Any,
    solver: str | Any | None = None,
    time_limit: float | None = None,
    *,
    presolve: bool = True,
    confirm_infeasible: bool = False,
) -> SolveOutcome:
    """Solve a PuLP problem; ``solver`` is a name, None (default) or a ready PuLP solver object.

    A verdict the solver's presolve may have got wrong is solved again without it (see the
    module docstring): a HiGHS verdict that HiGHS itself contradicts, a CBC "infeasible", and
    with ``confirm_infeasible`` every "infeasible" (for verdicts a caller states as a fact). The
    outcome is then the second solve's; ``note`` says when the verdicts differ or HiGHS
    contradicted itself. ``presolve=False`` solves without presolve from the start (a ready solver
    object is copied, not changed)."""
    import pulp

    from optimizer.engine.budget import current_budget, time_left_for_solve

    # The command's time budget caps every solve (optimizer.engine.budget).
    time_limit = current_budget().solve_limit(time_limit)
    if not time_left_for_solve():
        if solver is None or isinstance(solver, str):
            name = resolve_name(solver)
        else:
            name = "highs" if isinstance(solver, pulp.HiGHS) else "cbc"
        return SolveOutcome(
            Termination.time_limit,
            name,
            message=f"{name}: the time limit was reached before this solve",
        )
    if solver is None or isinstance(solver, str):
        name = resolve_name(solver)
        backend = make_solver(name, time_limit, presolve=presolve)
    else:
        name = "highs" if isinstance(solver, pulp.HiGHS) else "cbc"
        backend = solver if presolve else _without_presolve(solver, name)
        if name == "highs":
            _silence_highs_banner()
            _configure_highs(backend, presolve)
        if time_limit is not None:
            backend.timeLimit = time_limit
    t0 = time.perf_counter()
    out = _solve_once(prob, backend, name)
    broken = _broken_solution(prob) if out.has_solution else None
    if broken and not presolve:
        return _unusable(out, name, broken)
    if not presolve:
        return out
    infeasible = out.termination == Termination.infeasible
    contradicted = False
    if name == "highs":
        _, words, contradicted = _highs_status(prob)
        why = f"{name}: {words} with presolve"
        if contradicted:
            why += " (contradicted by HiGHS's own check)"
    else:
        why = f"{name}: Infeasible with preprocessing"
    if broken:
        contradicted = True
        why = f"{name}: {out.termination.value} with presolve, but {broken}"
    if not (contradicted or (infeasible and (confirm_infeasible or name == "cbc"))):
        return out
    retry = _without_presolve(backend, name)
    if time_limit is not None:
        left = time_limit - (time.perf_counter() - t0)
        if left <= 0:
            return SolveOutcome(
                Termination.time_limit,
                name,
                seconds=time.perf_counter() - t0,
                message=f"{why}; no time was left to solve again without presolve",
                note=why,
            )
        retry.timeLimit = left
    again = _solve_once(prob, retry, name)
    again.seconds = time.perf_counter() - t0
    if name == "cbc" and infeasible and again.termination == Termination.error:
        # CBC 2.10 without preprocessing crashes writing the solution of a model it has just
        # proved infeasible: the check is inconclusive, and the first verdict stands
        out.seconds = again.seconds
        return out
    if contradicted or again.termination != out.termination:
        again.note = f"{why}; solved again without presolve: {again.termination.value}"
    broken = _broken_solution(prob) if again.has_solution else None
    return _unusable(again, name, broken) if broken else again


def _broken_solution(prob: Any) -> str | None:
    """Why the values a solver returned are not a solution of ``prob`` (None when they are).

    HiGHS 1.16's presolve has returned "Optimal" with NaN values, or with a row violated by whole
    utility points; the searches' numpy checks see only the packages, not every row, so each
    value and row is checked here: finite, integral within 1e-6, within its bounds and every row
    within 1e-6 of the row's size (the solvers' own tolerances are 1e-6 to 1e-7)."""
    import pulp

    values: dict[str, float] = {}
    for v in prob.variables():
        x = v.varValue
        if v.name == "__dummy":  # PuLP's stand-in for an empty row (CBC gives it no value)
            continue
        if x is None or not math.isfinite(x):
            return f"variable {v.name} has no finite value ({x})"
        if v.cat == pulp.LpInteger and abs(x - round(x)) > 1e-6:
            return f"variable {v.name} is not integral ({x})"
        if (v.lowBound is not None and x < v.lowBound - 1e-6) or (
            v.upBound is not None and x > v.upBound + 1e-6
        ):
            return f"variable {v.name} is out of its bounds ({x})"
        values[v.name] = x
    for name, c in prob._constraints.items():
        terms = [coef * values.get(v.name, 0.0) for v, coef in c.items()]
        lhs = math.fsum(terms) + c.constant
        tol = 1e-6 * (1.0 + abs(c.constant) + math.fsum(abs(t) for t in terms))
        if (
            (c.sense == pulp.LpConstraintLE and lhs > tol)
            or (c.sense == pulp.LpConstraintGE and lhs < -tol)
            or (c.sense == pulp.LpConstraintEQ and abs(lhs) > tol)
        ):
            return f"row {name} is violated by {abs(lhs):.3g}"
    return None


def _unusable(out: SolveOutcome, name: str, broken: str) -> SolveOutcome:
    """A solve whose values are not a solution: an error, never an answer."""
    return SolveOutcome(
        Termination.error,
        name,
        None,
        out.seconds,
        False,
        f"{name}: returned values that are not a solution ({broken})",
        out.note,
    )


def _without_presolve(backend: Any, name: str) -> Any:
    """A copy of a PuLP solver object with presolve (CBC: and preprocessing) switched off."""
    retry = copy.copy(backend)
    retry.optionsDict = dict(backend.optionsDict)
    if name == "highs":
        _configure_highs(retry, presolve=False)
    else:
        retry.optionsDict["presolve"] = False
        retry.options = [*backend.options, *_CBC_NO_PREPROCESS]
    return retry


def _solve_once(prob: Any, backend: Any, name: str) -> SolveOutcome:
    """One solve with a ready backend, mapped to a SolveOutcome."""
    import pulp

    limited = getattr(backend, "timeLimit", None) is not None
    t0 = time.perf_counter()
    try:
        prob.solve(backend)
    except pulp.PulpSolverError as e:
        return SolveOutcome(
            Termination.error, name, None, time.perf_counter() - t0, False, f"{name}: {e}"
        )
    except KeyError:  # a HiGHS model status PuLP 3.3 has no mapping for (memory limit, ...)
        _, words, _ = _highs_status(prob)
        return SolveOutcome(
            Termination.error,
            name,
            None,
            time.perf_counter() - t0,
            False,
            f"{name}: {words or 'unknown status'}",
        )
    seconds = time.perf_counter() - t0
    term = termination_of(prob.status, prob.sol_status, time_limited=limited)
    status, words = "", ""
    if name == "highs":
        status, words, _ = _highs_status(prob)
        if status in _HIGHS_ERRORS:
            term = Termination.error  # a failed solve, whether or not a time limit was set
    has_solution = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    objective = None
    if has_solution and prob.objective is not None:
        value = pulp.value(prob.objective)
        objective = float(value) if value is not None else 0.0
    message = ""
    if term != Termination.optimal:
        message = f"{name}: {words or pulp.LpStatus[prob.status]}"
    if term == Termination.time_limit:
        message = f"{name}: stopped at the time limit" + (
            " with a feasible (unproven) solution" if has_solution else " without a solution"
        )
    return SolveOutcome(term, name, objective, seconds, has_solution, message)
