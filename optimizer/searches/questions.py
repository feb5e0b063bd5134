"""What to ask next, and how sensitive the recommendation is to each weight.

Both questions vary **one estimate at a time**, the others held at their point estimates
(``likely``), and watch which package is best:

* the *recommended package* is ``optimizer.searches.improve.improve(scenario, objective=...)``'s first package
  (at the point estimates);
* at any value of the estimate a package is *eligible* when it is Pareto-improving over the
  reference and clears every party's reservation value at that value; the *best* package is the
  eligible one with the highest objective (``maxmin``: the smallest gain over the reference;
  ``welfare``: the sum of gains; ``nash``: the product of gains). The recommendation *stays best*
  while it is eligible and its objective is within ``TIE_TOL`` of the best (ties keep it).

The packages compared are candidates, evaluated with the sampling module's vectorised tables on a
fine grid (401 points) of the estimate: improve's top three at the point estimates, plus the best
package ``improve`` finds when re-solved with the estimate set to grid values where it matters:
for ``questions`` the ends of the range and both sides of every point where the recommendation
starts or stops being best; for ``sensitivity`` just outside the interval where it stays best (or
the end of the scale). Rounds repeat (at most three) until the solver finds no new package, so
every reported switch point is confirmed by a solve on each side of it, up to the grid step.

``questions`` scores each uncertain estimate (a range of positive width) by the **probability that
the best package changes** when it moves over its range: the probability mass (triangular or PERT
on low / likely / high) of the grid points where the recommendation does not stay best. The top
``k`` become questions to ask across the table, naming the two packages the estimate decides
between and the value at which the choice flips.

``sensitivity`` moves each party's weight on each issue as a *share* of that party's total weight
(0 to 99.5%, the other weights keeping their ratios; any weight share is reachable this way and
every utility is linear in it) and reports the interval of shares (and raw weights) over which the
recommendation stays best and which package takes over beyond each end: the data of a tornado
chart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from optimizer.engine.budget import TIME_LIMIT_NOTE, time_budget
from optimizer.engine.results import Termination
from optimizer.errors import DealoptError, TimeLimitReached
from optimizer.scenario.models import TIE_TOL, Range, format_number
from optimizer.searches.sampling import (
    Distribution,
    Param,
    SampleSet,
    accept_mask,
    estimates,
    reference_utilities,
    win_win_mask,
)

if TYPE_CHECKING:
    from optimizer.scenario.models import Scenario

Objective = Literal["maxmin", "welfare", "nash"]

#: Grid points per estimate (questions) and per weight share (sensitivity).
GRID = 401


class Question(BaseModel):
    """An estimate worth checking across the table, with the decision it settles."""

    model_config = ConfigDict(extra="forbid")

    parameter: str = Field(description="The estimate's key: kind/party/issue[/option].")
    kind: Literal["weight", "score", "reservation"]
    party: str
    issue: str | None = None
    option: str | None = None
    score: float = Field(
        description="Probability (over the estimate's range, the others at their best guess) "
        "that the best package is not the recommended one."
    )
    text: str = Field(description="The question to ask, in words.")
    recommended: dict[str, str | int | float] | None = Field(
        default=None, description="The recommended package (None: no deal works)."
    )
    alternative: dict[str, str | int | float] | None = Field(
        default=None, description="The package that is best instead (None: no deal works)."
    )
    recommended_number: int | None = Field(
        default=None, description="The recommended package's number (1: improve's first)."
    )
    alternative_number: int | None = Field(
        default=None,
        description="The alternative's number: 1-3 are improve's top three at the best guess, "
        "higher numbers packages found while varying the estimate.",
    )
    below: float | None = Field(
        default=None, description="Below this value of the estimate the recommendation changes."
    )
    above: float | None = Field(
        default=None, description="Above this value of the estimate the recommendation changes."
    )


class SensitivityItem(BaseModel):
    """How far one party's weight on one issue can move before the recommendation changes."""

    model_config = ConfigDict(extra="forbid")

    party: str
    issue: str
    weight: float = Field(description="The weight now (point estimate).")
    share: float = Field(description="The weight's share of the party's total weight now.")
    low_share: float = Field(description="Lowest share at which the recommendation stays best.")
    high_share: float = Field(description="Highest share at which it stays best.")
    low_weight: float
    high_weight: float | None = Field(description="None: stays best up to a 99.5% share.")
    below: dict[str, str | int | float] | None = Field(
        default=None, description="The package best just below the interval (None: none)."
    )
    above: dict[str, str | int | float] | None = None
    below_no_deal: bool = Field(
        default=False, description="True when no package is eligible just below the interval."
    )
    above_no_deal: bool = False

    @property
    def width(self) -> float:
        return self.high_share - self.low_share


class SensitivityResult(BaseModel):
    """Per weight, the interval over which the recommended package stays best."""

    model_config = ConfigDict(extra="forbid")

    scenario: str
    objective: str
    recommended: dict[str, str | int | float] | None
    items: list[SensitivityItem] = []
    solves: int = 0
    exact: bool = Field(
        default=True, description="False when the time limit stopped the scan (items left out)."
    )
    notes: list[str] = Field(default=[], description="Why the scan is not complete.")


class QuestionList(list):
    """The questions found, best first; ``exact`` is False (and ``note`` says why) when the time
    limit stopped the scan before every estimate was looked at."""

    exact: bool = True
    note: str = ""


# --------------------------------------------------------------------------------------------
# Evaluating candidates
# --------------------------------------------------------------------------------------------


def objective_values(
    utilities: np.ndarray, reference: np.ndarray, reservation: np.ndarray, objective: str
) -> np.ndarray:
    """(n, m) objective of each package in each sample; ``-inf`` where it is not eligible."""
    gains = utilities - reference[:, None, :]
    ok = win_win_mask(utilities, reference) & np.all(accept_mask(utilities, reservation), axis=2)
    if objective == "maxmin":
        val = gains.min(axis=2)
    elif objective == "welfare":
        val = gains.sum(axis=2)
    elif objective == "nash":
        val = np.log(np.clip(gains, 1e-300, None)).sum(axis=2)
    else:
        raise DealoptError(f"unknown objective {objective!r} (use maxmin, welfare or nash)")
    return np.where(ok, val, -np.inf)


def outcomes(values: np.ndarray, rec: int) -> np.ndarray:
    """Per sample the best candidate (-1: none eligible); the recommendation ``rec`` wins ties."""
    best = np.argmax(values, axis=1) if values.shape[1] else np.zeros(len(values), dtype=int)
    top = values.max(axis=1) if values.shape[1] else np.full(len(values), -np.inf)
    best = np.where(np.isfinite(top), best, -1)
    if rec >= 0:
        keep = np.isfinite(values[:, rec]) & (values[:, rec] >= top - TIE_TOL)
        best = np.where(keep, rec, best)
    return best


class _Candidates:
    """Distinct packages (grid positions), numbered in the order found."""

    def __init__(self, n_issues: int) -> None:
        self.rows: list[tuple[int, ...]] = []
        self._pos: dict[tuple[int, ...], int] = {}
        self.n_issues = n_issues

    def add(self, row: np.ndarray | None) -> int:
        if row is None:
            return -1
        key = tuple(int(v) for v in row)
        if key not in self._pos:
            self._pos[key] = len(self.rows)
            self.rows.append(key)
        return self._pos[key]

    def array(self) -> np.ndarray:
        return np.array(self.rows, dtype=np.int64).reshape(-1, self.n_issues)


def with_estimates(scenario: Scenario, values: dict[Param, float]) -> Scenario:
    """A copy of the scenario with some estimates replaced by numbers."""
    out = scenario.model_copy(deep=True)
    for prm, x in values.items():
        party = out.party(prm.party)
        if prm.kind == "weight":
            party.preferences.weights[prm.issue] = float(x)  # type: ignore[index]
        elif prm.kind == "score":
            party.preferences.values[prm.issue][prm.option] = float(x)  # type: ignore[index]
        else:
            party.reservation_value = float(x)
    return out


class _Solver:
    """``improve`` at modified estimates, cached, counting solves."""

    def __init__(
        self, scenario: Scenario, objective: str, solver: str | None, time_limit: float | None
    ) -> None:
        self.scenario = scenario
        self.objective = objective
        self.solver = solver
        self.time_limit = time_limit
        self.solves = 0
        self._cache: dict[tuple, np.ndarray | None] = {}

    def top(self, changes: dict[Param, float], k: int = 1) -> list[np.ndarray]:
        from optimizer.searches.improve import improve

        s = with_estimates(self.scenario, changes) if changes else self.scenario
        res = improve(
            s, objective=self.objective, top=k, solver=self.solver, time_limit=self.time_limit
        )
        self.solves += 1
        if res.status.termination == Termination.time_limit:
            # An answer cut short is not "the recommendation changes": stop the scan instead
            raise TimeLimitReached(TIME_LIMIT_NOTE)
        return [self.scenario.encode(p.package) for p in res.packages]

    def best(self, prm: Param, x: float) -> np.ndarray | None:
        key = (prm.key, round(float(x), 12))
        if key not in self._cache:
            found = self.top({prm: x})
            self._cache[key] = found[0] if found else None
        return self._cache[key]


def _scan(
    scenario: Scenario,
    params: list[Param],
    j: int,
    grid: np.ndarray,
    cands: np.ndarray,
    objective: str,
) -> np.ndarray:
    """Objective values (len(grid), n_candidates) with estimate ``j`` set to each grid value."""
    theta = np.tile(np.array([p.likely for p in params], dtype=float), (len(grid), 1))
    theta[:, j] = grid
    ss = SampleSet.build(scenario, theta, params)
    if len(cands) == 0:
        return np.zeros((len(grid), 0))
    u = ss.utilities(cands)
    return objective_values(u, reference_utilities(scenario, ss), ss.reservation, objective)


def _stable_run(out: np.ndarray, rec: int, at: int) -> tuple[int, int]:
    """The grid positions [lo, hi] around ``at`` where the outcome stays ``rec``."""
    lo = hi = at
    while lo - 1 >= 0 and out[lo - 1] == rec:
        lo -= 1
    while hi + 1 < len(out) and out[hi + 1] == rec:
        hi += 1
    return lo, hi


def _refine(
    scenario: Scenario,
    params: list[Param],
    j: int,
    grid: np.ndarray,
    cands: _Candidates,
    solver: _Solver,
    objective: str,
    rec: int,
    seeds: list[float],
    *,
    around: int | None = None,
    rounds: int = 3,
) -> np.ndarray:
    """Grow the candidates with solves until the outcome on the grid is confirmed; the outcomes.

    First ``improve`` is solved at ``seeds``. Then, each round, at the grid points where it matters
    whether the recommendation stays best: with ``around`` (a grid position), just outside the
    stable run containing it (or at the grid's end when the run reaches it); otherwise at both
    sides of every point where the recommendation starts or stops being best. Stops when a round
    finds no new package.
    """
    prm = params[j]
    for x in seeds:
        cands.add(solver.best(prm, x))
    out = outcomes(_scan(scenario, params, j, grid, cands.array(), objective), rec)
    for _ in range(rounds):
        if around is not None:
            lo, hi = _stable_run(out, rec, around) if out[around] == rec else (around, around)
            probes = [lo - 1 if lo > 0 else 0, hi + 1 if hi < len(grid) - 1 else len(grid) - 1]
        else:
            is_rec = out == rec
            switch = np.flatnonzero(is_rec[1:] != is_rec[:-1])
            probes = sorted({int(x) for s in switch for x in (s, s + 1)})
        before = len(cands.rows)
        for g in probes:
            cands.add(solver.best(prm, grid[g]))
        if len(cands.rows) == before:
            break
        out = outcomes(_scan(scenario, params, j, grid, cands.array(), objective), rec)
    return out


# --------------------------------------------------------------------------------------------
# Probability mass of a grid under an estimate's distribution
# --------------------------------------------------------------------------------------------


def _triangular_cdf(x: np.ndarray, a: float, c: float, b: float) -> np.ndarray:
    x = np.clip(x, a, b)
    left = np.where(c > a, (x - a) ** 2 / ((b - a) * max(c - a, 1e-300)), 0.0)
    right = np.where(b > c, 1.0 - (b - x) ** 2 / ((b - a) * max(b - c, 1e-300)), 1.0)
    return np.where(x <= c, left, right)


def grid_mass(
    prm: Param, grid: np.ndarray, distribution: Distribution = "triangular"
) -> np.ndarray:
    """Probability of each grid cell (midpoint edges) under the estimate's distribution."""
    a, c, b = prm.low, prm.likely, prm.high
    edges = np.concatenate([[a], (grid[1:] + grid[:-1]) / 2, [b]])
    if distribution == "triangular":
        return np.diff(_triangular_cdf(edges, a, c, b))
    alpha = 1 + 4 * (c - a) / (b - a)
    beta = 1 + 4 * (b - c) / (b - a)
    t = np.clip((grid - a) / (b - a), 1e-12, 1 - 1e-12)
    logpdf = (alpha - 1) * np.log(t) + (beta - 1) * np.log1p(-t)
    w = np.exp(logpdf - logpdf.max()) * np.diff(edges)
    return w / w.sum()


# --------------------------------------------------------------------------------------------
# Questions
# --------------------------------------------------------------------------------------------


def _describe(scenario: Scenario, row: tuple[int, ...], other: tuple[int, ...] | None) -> str:
    """A package by the issues where it differs from ``other`` (all open issues when None)."""
    parts = []
    for k, issue in enumerate(scenario.issues):
        if other is not None and row[k] == other[k]:
            continue
        if other is None and issue.status == "agreed":
            continue
        parts.append(f"{issue.name} {issue.display(issue.value_at(row[k]))}")
    return ", ".join(parts) if parts else "the same terms"


def _package_label(scenario: Scenario, cands: _Candidates, idx: int, other: int) -> str:
    if idx < 0:
        return "no deal (no package works for everyone)"
    other_row = cands.rows[other] if other >= 0 else None
    return f"package {idx + 1} ({_describe(scenario, cands.rows[idx], other_row)})"


def _number(x: float) -> str:
    return format_number(round(x, 2))


def _head(scenario: Scenario, prm: Param) -> tuple[str, str]:
    """The question's opening and how the estimate is called in the rest of the sentence."""
    ours = prm.party == scenario.us_name
    if prm.kind == "weight":
        if ours:
            return f"Settle how much {prm.issue} matters to us", "our weight on it"
        return f"Ask why {prm.issue} matters to {prm.party}", "its weight"
    if prm.kind == "score":
        if ours:
            return f"Settle how much we like {prm.option} for {prm.issue}", "our score for it"
        return f"Ask how {prm.party} sees {prm.option} for {prm.issue}", "its score"
    if ours:
        return "Check our own walk-away point", "it"
    return f"Ask what {prm.party} would do without a deal", "its walk-away point"


def _side(out: np.ndarray, mass: np.ndarray, sel: np.ndarray) -> tuple[int | None, float]:
    """The outcome with the most probability mass among the grid points ``sel``, and that mass."""
    if not sel.any():
        return None, 0.0
    vals = np.unique(out[sel])
    masses = [float(mass[sel & (out == v)].sum()) for v in vals]
    k = int(np.argmax(masses))
    return int(vals[k]), masses[k]


def questions(
    scenario: Scenario,
    k: int = 3,
    *,
    objective: Objective = "maxmin",
    distribution: Distribution = "triangular",
    solver: str | None = None,
    time_limit: float | None = None,
    grid: int = GRID,
) -> QuestionList:
    """The ``k`` uncertain estimates most likely to change the recommended package, as questions.

    Score: the probability, over that estimate's range with the others at their best guess, that
    the recommended package is no longer the best (see the module docstring). Estimates that never
    change it are left out, so fewer than ``k`` questions (or none) may come back.
    ``time_limit`` bounds the whole scan; past it the estimates scanned so far are ranked and the
    list says ``exact = False`` with a ``note``.
    """
    with time_budget(time_limit):
        return _questions(scenario, k, objective, distribution, solver, time_limit, grid)


def _questions(
    scenario: Scenario,
    k: int,
    objective: Objective,
    distribution: Distribution,
    solver: str | None,
    time_limit: float | None,
    grid: int,
) -> QuestionList:
    from optimizer.searches.sampling import uncertain_parameters

    if k < 1:
        return QuestionList()
    uncertain = uncertain_parameters(scenario)
    if not uncertain:
        return QuestionList()
    params = estimates(scenario)
    solve = _Solver(scenario, objective, solver, time_limit)
    cands = _Candidates(len(scenario.issues))
    stopped = QuestionList()
    stopped.exact = False
    try:
        for row in solve.top({}, k=3):
            cands.add(row)
    except TimeLimitReached:
        stopped.note = f"{TIME_LIMIT_NOTE} before the recommended package was found"
        return stopped
    rec = 0 if cands.rows else -1
    found: list[Question] = []
    scanned = 0
    for prm in uncertain:
        j = next(i for i, p in enumerate(params) if p.key == prm.key)
        xs = np.unique(np.concatenate([np.linspace(prm.low, prm.high, grid), [prm.likely]]))
        try:
            out = _refine(
                scenario, params, j, xs, cands, solve, objective, rec, [prm.low, prm.high]
            )
        except TimeLimitReached:
            stopped.note = (
                f"{TIME_LIMIT_NOTE}: {scanned} of {len(uncertain)} estimates were scanned"
            )
            break
        scanned += 1
        mass = grid_mass(prm, xs, distribution)
        score = float(mass[out != rec].sum())
        if score <= 1e-12:
            continue
        at = int(np.searchsorted(xs, prm.likely))
        pos = np.arange(len(xs))
        if out[at] == rec:
            lo, hi = _stable_run(out, rec, at)
        else:
            lo, hi = at, at - 1  # the recommendation is not best even at the best guess
        alt_lo, m_lo = _side(out, mass, (pos < lo) & (out != rec))
        alt_hi, m_hi = _side(out, mass, (pos > hi) & (out != rec))
        below = float((xs[lo - 1] + xs[lo]) / 2) if alt_lo is not None and lo > 0 else None
        above = (
            float((xs[hi] + xs[hi + 1]) / 2) if alt_hi is not None and hi < len(xs) - 1 else None
        )
        head, subject = _head(scenario, prm)
        guess = f"our guess {_number(prm.likely)}, range {_number(prm.low)} to {_number(prm.high)}"
        share = f"the best package changes in {round(100 * score)}% of the plausible cases"
        if out[at] != rec or (below is None and above is None):
            alt, _ = _side(out, mass, out != rec)
            text = (
                f"{head} ({guess}): across that range the best package moves between "
                f"{_package_label(scenario, cands, rec, alt if alt is not None else -1)} and "
                f"{_package_label(scenario, cands, alt, rec)}; {share}."
            )
        elif below is not None and above is not None:
            alt = alt_lo if m_lo >= m_hi else alt_hi
            text = (
                f"{head} ({guess}): below {_number(below)}, "
                f"{_package_label(scenario, cands, alt_lo, rec)} beats "
                f"{_package_label(scenario, cands, rec, alt_lo)}; above {_number(above)}, "
                f"{_package_label(scenario, cands, alt_hi, rec)} does; {share}."
            )
        else:
            alt = alt_lo if below is not None else alt_hi
            cond = f"below {_number(below)}" if below is not None else f"above {_number(above)}"
            text = (
                f"{head} ({guess}): whether {subject} is {cond} decides between "
                f"{_package_label(scenario, cands, rec, alt)} and "
                f"{_package_label(scenario, cands, alt, rec)}; {share}."
            )
        found.append(
            Question(
                parameter=prm.key,
                kind=prm.kind,
                party=prm.party,
                issue=prm.issue,
                option=prm.option,
                score=score,
                text=text,
                recommended=_decode(scenario, cands, rec),
                alternative=_decode(scenario, cands, alt if alt is not None else -1),
                recommended_number=rec + 1 if rec >= 0 else None,
                alternative_number=alt + 1 if alt is not None and alt >= 0 else None,
                below=below,
                above=above,
            )
        )
    found.sort(key=lambda q: -q.score)
    result = QuestionList(found[:k])
    result.exact, result.note = not stopped.note, stopped.note
    return result


def _decode(scenario: Scenario, cands: _Candidates, idx: int) -> dict | None:
    if idx < 0:
        return None
    from optimizer.scenario.models import value_out

    return {k: value_out(v) for k, v in scenario.decode(list(cands.rows[idx])).items()}


# --------------------------------------------------------------------------------------------
# Sensitivity
# --------------------------------------------------------------------------------------------


def sensitivity(
    scenario: Scenario,
    *,
    parties: list[str] | None = None,
    objective: Objective = "maxmin",
    solver: str | None = None,
    time_limit: float | None = None,
    grid: int = GRID,
) -> SensitivityResult:
    """For each party's weight on each issue: the share interval where the recommendation holds.

    ``parties`` defaults to every party (ours and the other side's). A party's weight on an issue
    is moved as a share of its total weight from 0 to 99.5% (the other weights keep their ratios);
    issues a party gives no weight and parties with a single weighted issue are skipped (moving
    that weight changes nothing). ``time_limit`` bounds the whole scan; past it the weights
    scanned so far are returned with ``exact`` False and a note.
    """
    with time_budget(time_limit):
        return _sensitivity(scenario, parties, objective, solver, time_limit, grid)


def _sensitivity(
    scenario: Scenario,
    parties: list[str] | None,
    objective: Objective,
    solver: str | None,
    time_limit: float | None,
    grid: int,
) -> SensitivityResult:
    names = parties if parties is not None else scenario.party_names
    for nm in names:
        scenario.party(nm)  # KeyError -> clear message below
    params = estimates(scenario)
    solve = _Solver(scenario, objective, solver, time_limit)
    cands = _Candidates(len(scenario.issues))
    try:
        top = solve.top({}, k=3)
    except TimeLimitReached:
        return SensitivityResult(
            scenario=scenario.name,
            objective=objective,
            recommended=None,
            solves=solve.solves,
            exact=False,
            notes=[f"{TIME_LIMIT_NOTE} before the recommended package was found"],
        )
    for row in top:
        cands.add(row)
    rec = 0 if top else -1
    items: list[SensitivityItem] = []
    shares = np.linspace(0.0, 0.995, grid)
    notes: list[str] = []
    try:
        _scan_weights(
            scenario, names if rec >= 0 else [], params, solve, cands, objective, rec, shares, items
        )
    except TimeLimitReached:
        notes.append(f"{TIME_LIMIT_NOTE}: {len(items)} weights were scanned, the others left out")
    items.sort(key=lambda it: it.width)
    rec_pkg = _decode(scenario, cands, rec)
    return SensitivityResult(
        scenario=scenario.name,
        objective=objective,
        recommended=rec_pkg,
        items=items,
        solves=solve.solves,
        exact=not notes,
        notes=notes,
    )


def _scan_weights(
    scenario: Scenario,
    names: list[str],
    params: list[Param],
    solve: _Solver,
    cands: _Candidates,
    objective: Objective,
    rec: int,
    shares: np.ndarray,
    items: list[SensitivityItem],
) -> None:
    """Append one SensitivityItem per party weight to ``items`` (stops on TimeLimitReached)."""
    for nm in names:  # no recommendation: nothing to keep best
        w_params = [(i, p) for i, p in enumerate(params) if p.kind == "weight" and p.party == nm]
        total = sum(p.likely for _, p in w_params)
        if total <= 0 or sum(1 for _, p in w_params if p.likely > 0) < 2:
            continue
        for j, prm in w_params:
            others = total - prm.likely
            if others <= 0:
                continue
            share = prm.likely / total
            xs_share = np.unique(np.concatenate([shares, [share]]))
            xs = xs_share / (1.0 - xs_share) * others
            at = int(np.searchsorted(xs_share, share))
            out = _refine(scenario, params, j, xs, cands, solve, objective, rec, [], around=at)
            lo, hi = _stable_run(out, rec, at) if out[at] == rec else (at, at)
            below = int(out[lo - 1]) if lo > 0 else None
            above = int(out[hi + 1]) if hi < len(xs) - 1 else None
            items.append(
                SensitivityItem(
                    party=nm,
                    issue=prm.issue,  # type: ignore[arg-type]
                    weight=prm.likely,
                    share=share,
                    low_share=float(xs_share[lo]),
                    high_share=float(xs_share[hi]),
                    low_weight=float(xs[lo]),
                    high_weight=float(xs[hi]) if hi < len(xs) - 1 else None,
                    below=_decode(scenario, cands, below) if below is not None else None,
                    above=_decode(scenario, cands, above) if above is not None else None,
                    below_no_deal=below == -1,
                    above_no_deal=above == -1,
                )
            )


def describe_estimate(est: float | Range) -> str:
    """An estimate in words for tables: "30 / 40 / 50" or "40"."""
    if isinstance(est, Range):
        return " / ".join(_number(x) for x in (est.low, est.likely, est.high))
    return _number(float(est))
