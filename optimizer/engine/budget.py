"""One time budget for a whole command: every search path stops when it is used up (issue 15).

``--time-limit S`` means the whole command's wall time, not each solve's. The budget is opened
once (``time_budget(S)``: by the command line around a whole command, and by each public search
function around its own work, so the Python API gets the same meaning) and read wherever work
happens:

* every MILP solve (``optimizer.engine.solvers.solve``) gets at most the remaining time, and a
  solve asked for after the budget is used up returns ``Termination.time_limit`` at once;
* loops that do not solve (the fast path's merges, enumeration chunks, the non-dominated filter,
  the question and sensitivity loops) call ``check_time()``, which raises ``TimeLimitReached``;
  the method catches it and returns what it has found, labelled inexact (``exact: false``,
  ``status: time_limit``, the reason in the notes).

Budgets nest: an inner ``time_budget`` never ends later than the one around it, so a search
called by another (``questions`` -> ``improve``) cannot outlive the command's limit. The current
budget is a context variable: each thread (a Streamlit session) has its own.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from optimizer.errors import TimeLimitReached

#: A solve is not started with less time than this left (it could not load the model).
MIN_SOLVE_SECONDS = 0.05

#: The message searches give when the budget ran out (one wording everywhere).
TIME_LIMIT_NOTE = "the time limit was reached"


@dataclass(frozen=True)
class Budget:
    """A wall-clock deadline (``time.perf_counter`` seconds), or none (unlimited)."""

    deadline: float | None = None
    start: float = 0.0

    @property
    def limited(self) -> bool:
        return self.deadline is not None

    def remaining(self) -> float | None:
        """Seconds left (may be negative), None when unlimited."""
        if self.deadline is None:
            return None
        return self.deadline - time.perf_counter()

    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def solve_limit(self, own: float | None = None) -> float | None:
        """A solve's time limit: its own (if any) capped by what is left of the budget."""
        left = self.remaining()
        if left is None:
            return own
        return left if own is None else min(own, left)


_UNLIMITED = Budget()
_CURRENT: ContextVar[Budget] = ContextVar("dealopt_time_budget", default=_UNLIMITED)


def current_budget() -> Budget:
    """The innermost open budget (an unlimited one when none is open)."""
    return _CURRENT.get()


@contextmanager
def time_budget(seconds: float | None) -> Iterator[Budget]:
    """Open a budget of ``seconds`` (None: no new limit) inside the current one."""
    outer = _CURRENT.get()
    now = time.perf_counter()
    deadline = outer.deadline
    if seconds is not None:
        mine = now + float(seconds)
        deadline = mine if deadline is None else min(deadline, mine)
    budget = Budget(deadline, now)
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)


def check_time() -> None:
    """Raise ``TimeLimitReached`` when the current budget is used up (call it inside loops)."""
    if _CURRENT.get().expired():
        raise TimeLimitReached(TIME_LIMIT_NOTE)


def time_left_for_solve() -> bool:
    """Whether a solve may still start (at least ``MIN_SOLVE_SECONDS`` left, or no limit)."""
    left = _CURRENT.get().remaining()
    return left is None or left > MIN_SOLVE_SECONDS


@contextmanager
def cleanup_after_budget() -> Iterator[None]:
    """Lift the budget for a small, bounded clean-up of what was found (the caller bounds its
    size), so a result found in time can still be filtered and reported."""
    token = _CURRENT.set(_UNLIMITED)
    try:
        yield
    finally:
        _CURRENT.reset(token)


F = TypeVar("F", bound=Callable[..., Any])


def bounded_by_time_limit(fn: F) -> F:
    """Run a search inside ``time_budget(time_limit)`` (its keyword argument), so its limit
    covers the whole call, including the searches it calls, and never outlasts an outer one."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        limit = kwargs.get("time_limit")
        ok = isinstance(limit, int | float) and not isinstance(limit, bool)
        seconds = float(limit) if ok and math.isfinite(limit) and limit > 0 else None
        with time_budget(seconds):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
