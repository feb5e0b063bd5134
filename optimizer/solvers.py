"""Solver backends behind PuLP (a small linopy-style interface).

* ``available_solvers()`` -> the names usable here, best first (``"highs"`` then ``"cbc"``).
* ``is_available(name)`` -> bool.
* ``resolve_name(name | None)`` -> the canonical name (None picks HiGHS, or CBC when highspy is
  missing); an unknown or unavailable name raises ``SolverError`` listing the available ones.
* ``make_solver(name | None, time_limit, *, presolve=True)`` -> a configured PuLP solver with MIP
  gaps set to 0 (relative and absolute: a gap would let the searches drop exact points).
* ``solve(prob, solver=None, time_limit=None) -> SolveOutcome`` runs one solve and maps PuLP's
  ``status`` / ``sol_status`` pair to a ``Termination``. PuLP reports "Optimal" for an incumbent
  found before a time limit; only ``sol_status == LpSolutionOptimal`` counts as proven optimal,
  an integer-feasible incumbent is ``Termination.time_limit`` (``has_solution`` tells whether
  the variables hold a usable package).

HiGHS presolve
--------------
HiGHS's MIP presolve has rules that are wrong on our models. Its "Enumeration" rule (HiGHS 1.16,
bit 16 of ``presolve_rule_off``) drops an *equality* clique once all but one of its binaries are
fixed, so the postsolved solution can choose two pieces of one issue (every ``one_j`` row of the
compiled model is such a clique). HiGHS then rejects its own incumbent and reports a feasible model
"Infeasible" or ends with "Solve error" (PuLP: "Not Solved"); HiGHS issue #3216 describes the
reduction. So every HiGHS solve, also with a solver object made elsewhere, runs with that rule
switched off (``HIGHS_PRESOLVE_RULES_OFF``; switching a rule off never changes an answer). And a
HiGHS verdict that HiGHS itself contradicts (an error status, or "infeasible" while it holds a
solution that failed its own post-presolve check) is solved again without presolve before it is
believed; ``SolveOutcome.note`` says so.

PuLP is imported inside the functions so that importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Any

from optimizer.errors import SolverError
from optimizer.results import Termination

#: Canonical solver names, in order of preference.
SOLVER_NAMES: tuple[str, ...] = ("highs", "cbc")

#: HiGHS presolve rules switched off in every HiGHS solve (``presolve_rule_off`` bit mask):
#: rule 16, "Enumeration" (see the module docstring).
HIGHS_PRESOLVE_RULES_OFF = 1 << 16

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
    name: str | None = None, time_limit: float | None = None, *, presolve: bool = True
) -> Any:
    """A configured PuLP solver: quiet, MIP gaps 0, optional time limit in seconds.

    HiGHS runs with ``HIGHS_PRESOLVE_RULES_OFF``; ``presolve=False`` switches its presolve off."""
    import pulp

    key = resolve_name(name)
    if time_limit is not None and not time_limit > 0:
        raise SolverError(f"the time limit must be a positive number of seconds (got {time_limit})")
    if key == "highs":
        _silence_highs_banner()
        backend = pulp.HiGHS(msg=False, gapRel=0, gapAbs=0, timeLimit=time_limit)
        _configure_highs(backend, presolve)
        return backend
    with warnings.catch_warnings():  # PuLP 3.3 flags the bundled CBC as deprecated for 4.0
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(msg=False, gapRel=0, gapAbs=0, timeLimit=time_limit)


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
    import highspy

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
) -> SolveOutcome:
    """Solve a PuLP problem; ``solver`` is a name, None (default) or a ready PuLP solver object.

    A HiGHS verdict that HiGHS itself contradicts is solved again without presolve (see the module
    docstring); the outcome is the second solve's, and ``note`` says what happened.
    ``presolve=False`` solves without presolve from the start (a ready solver object is copied)."""
    import pulp

    if solver is None or isinstance(solver, str):
        name = resolve_name(solver)
        backend = make_solver(name, time_limit, presolve=presolve)
    else:
        backend = solver
        name = "highs" if isinstance(backend, pulp.HiGHS) else "cbc"
        if not presolve:
            backend = copy.copy(backend)
            backend.optionsDict = dict(backend.optionsDict)
            if name == "cbc":
                backend.optionsDict["presolve"] = False
        if name == "highs":
            _silence_highs_banner()
            _configure_highs(backend, presolve)
        if time_limit is not None:
            backend.timeLimit = time_limit
    t0 = time.perf_counter()
    out = _solve_once(prob, backend, name)
    if name != "highs" or not presolve or backend.optionsDict.get("presolve") == "off":
        return out
    status, words, doubtful = _highs_status(prob)
    if not doubtful:
        return out
    retry = copy.copy(backend)
    retry.optionsDict = dict(backend.optionsDict)
    _configure_highs(retry, presolve=False)
    note = f"{name}: {words} with presolve (contradicted by HiGHS's own check)"
    if time_limit is not None:
        left = time_limit - (time.perf_counter() - t0)
        if left <= 0:
            return SolveOutcome(
                Termination.time_limit,
                name,
                seconds=time.perf_counter() - t0,
                message=f"{note}; no time was left to solve again without presolve",
                note=note,
            )
        retry.timeLimit = left
    again = _solve_once(prob, retry, name)
    again.seconds = time.perf_counter() - t0
    again.note = f"{note}; solved again without presolve: {again.termination.value}"
    return again


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
