"""Fit a party's weights and values to what it said and what it offered (UTA-style linear programs).

The model is the scenario's own additive utility, written on the interval scale that comparisons
can identify: per issue, a *level* variable ``u[k, l]`` for each option (numeric issues: each
breakpoint of a piecewise-linear value), with the issue's worst level at 0 and its best level equal
to the issue's weight ``w[k]``; the weights sum to 1. A package's utility is the sum of its levels
(numeric values interpolate between breakpoints), so every statement is a linear row:

* ``prefers A over B``: ``U(A) - U(B) >= MARGIN`` (an offer answering another party's offer counts
  as preferring one's own offer to the one it rejected);
* a party's successive offers are concessions: ``U(previous) - U(next) >= 0``;
* ``equal: [A, B]``: ``|U(A) - U(B)| <= EQUAL_TOL``;
* an order of options: each option beats the next by ``MARGIN``;
* a swing statement "A matters about k times B": ``k / SWING_FACTOR <= w[A] / w[B] <= k * SWING_FACTOR``.

Each piece of evidence has a slack variable. First the smallest total slack is found (the
statements that need slack are reported as inconsistencies), then the largest margin by which
every statement holds with those slacks. The *consistent region* is every parameter vector that
meets each statement by ``MARGIN`` with at most its minimal slack; each weight gets its smallest
and largest value over that region (one LP each), each option value (``u / w``, a ratio) its
smallest and largest by the Charnes-Cooper transformation (one LP each). The ``likely`` point is
the mean of the extreme solutions found, which lies in the region (it is convex).

Which option of an issue is best and which worst is not linear; it comes from the party's
statements of order, the prior value shape of a numeric issue (increasing/decreasing/peak) or,
failing these, a first LP without that assumption (ties broken by the party's current values).
Issues whose best/worst the evidence did not settle are listed in ``assumed_order``.

The LPs are solved by HiGHS directly (highspy): one model per phase, only the objective or a few
bounds change between solves, so each re-solve starts from the previous basis.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer.errors import DealoptError, SolverError
from optimizer.scenario.models import (
    EqualStatement,
    Issue,
    OrderStatement,
    Party,
    PreferStatement,
    Range,
    Scenario,
    SwingStatement,
    ValueShape,
    format_number,
    statement_text,
    value_out,
)

#: A strict preference holds by at least this much (utility share; 0.1 points on a 0-100 scale).
MARGIN = 1e-3
#: "About equal": utilities within this share (2 points on a 0-100 scale).
EQUAL_TOL = 0.02
#: "About k times": a weight ratio between k / SWING_FACTOR and k * SWING_FACTOR.
SWING_FACTOR = 1.25
#: Most breakpoints a numeric issue's fitted value gets.
MAX_BREAKPOINTS = 7
_TOL = 1e-7
#: How strongly the first (ordering) fit leans towards the prior guess of each option.
PRIOR_PULL = 0.3
_INF = math.inf


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass
class Inconsistency:
    """A piece of evidence the fit could not honour: where it is, what it says, by how much."""

    location: str
    text: str
    shortfall: float
    """Utility points (on the scenario's scale) by which it fails at the best fit."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "statement": self.text,
            "shortfall": round(self.shortfall, 6),
        }


@dataclass
class Estimate:
    """A party's fitted preferences: weights and values as low/likely/high ranges."""

    party: str
    weights: dict[str, Range]
    values: dict[str, dict[str, Range]]
    """Categorical issues: option -> range of its value (worst 0, best 1)."""
    shapes: dict[str, list[tuple[float, Range]]]
    """Numeric issues: [(breakpoint, range of its value)], linear in between."""
    inconsistencies: list[Inconsistency]
    margin: float
    """The smallest margin (utility points) by which the evidence holds at the best fit."""
    evidence: dict[str, int]
    assumed_order: list[str]
    best: dict[str, Any] = field(default_factory=dict)
    worst: dict[str, Any] = field(default_factory=dict)
    prior: str = "none"
    """Where the likely point leans when the evidence leaves room: "current" (the party's
    weights and values before the fit), "offers" (the frequency of its offers) or "none"."""
    # internal: the parameter space and the cloud of extreme solutions (for next_question)
    space: _Space | None = field(default=None, repr=False)
    cloud: np.ndarray | None = field(default=None, repr=False)
    likely: np.ndarray | None = field(default=None, repr=False)

    @property
    def consistent(self) -> bool:
        return not self.inconsistencies

    def to_dict(self) -> dict[str, Any]:
        """The CLI's JSON shape (``dealopt estimate --json``)."""

        def rng(r: Range) -> dict[str, float]:
            return {"low": _r6(r.low), "likely": _r6(r.likely), "high": _r6(r.high)}

        values: dict[str, Any] = {
            k: {o: rng(r) for o, r in v.items()} for k, v in self.values.items()
        }
        for k, pts in self.shapes.items():
            values[k] = {
                "shape": "piecewise",
                "points": [[_num(x), _r6(r.likely)] for x, r in pts],
                "low": [[_num(x), _r6(r.low)] for x, r in pts],
                "high": [[_num(x), _r6(r.high)] for x, r in pts],
            }
        return {
            "party": self.party,
            "weights": {k: rng(r) for k, r in self.weights.items()},
            "values": values,
            "inconsistencies": [i.to_dict() for i in self.inconsistencies],
            "consistent": self.consistent,
            "margin": _r6(self.margin),
            "evidence": dict(self.evidence),
            "assumed_order": list(self.assumed_order),
            "prior": self.prior,
            "best": {k: _num(v) if not isinstance(v, str) else v for k, v in self.best.items()},
            "worst": {k: _num(v) if not isinstance(v, str) else v for k, v in self.worst.items()},
        }

    def utility(self, packages: np.ndarray) -> np.ndarray:
        """The likely utility (0-1 share scale) of packages given as grid positions."""
        assert self.space is not None and self.likely is not None
        return self.space.package_matrix(packages) @ self.likely


def _r6(x: float) -> float:
    return float(round(x, 6)) + 0.0


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


# --------------------------------------------------------------------------------------------
# The parameter space
# --------------------------------------------------------------------------------------------


@dataclass
class _Issue:
    name: str
    issue: Issue
    w: int  # column of the weight
    levels: list[Any]  # option names (categorical) or breakpoint numbers (numeric)
    cols: list[int]  # column of each level
    prior: np.ndarray  # the party's current value of each level (tie-breaks)
    monotone: str | None = None  # "increasing" / "decreasing" / "peak:<index>" for numeric priors


@dataclass
class _Space:
    """Columns: one weight per issue, one level per option / breakpoint."""

    issues: list[_Issue]
    n_params: int

    def coefs(self, k: int, value: Any) -> dict[int, float]:
        """Level columns and coefficients giving issue ``k``'s contribution at ``value``."""
        it = self.issues[k]
        if not it.issue.is_numeric:
            pos = it.issue.index_of(value)
            return {it.cols[pos]: 1.0}
        x = float(value)
        xs = it.levels
        if x <= xs[0]:
            return {it.cols[0]: 1.0}
        if x >= xs[-1]:
            return {it.cols[-1]: 1.0}
        j = int(np.searchsorted(xs, x, side="right")) - 1
        t = (x - xs[j]) / (xs[j + 1] - xs[j])
        out = {it.cols[j]: 1.0 - t}
        if t > 0:
            out[it.cols[j + 1]] = t
        return out

    def package_matrix(self, packages: np.ndarray) -> np.ndarray:
        """Rows: packages (grid positions); columns: parameters; utility = row @ params."""
        packages = np.atleast_2d(packages)
        out = np.zeros((len(packages), self.n_params))
        for k, it in enumerate(self.issues):
            if not it.issue.is_numeric:
                out[np.arange(len(packages)), np.array(it.cols)[packages[:, k]]] += 1.0
                continue
            grid = it.issue.grid()
            for pos in np.unique(packages[:, k]):
                rows = packages[:, k] == pos
                for c, v in self.coefs(k, grid[pos]).items():
                    out[rows, c] += v
        return out


def _breakpoints(issue: Issue, shape: Any) -> list[float]:
    grid = issue.grid()
    if len(grid) <= MAX_BREAKPOINTS:
        return [float(x) for x in grid]
    lo, hi = float(issue.min), float(issue.max)  # type: ignore[arg-type]
    pts = {lo, hi}
    if isinstance(shape, ValueShape):
        if shape.shape == "peak":
            pts.add(float(shape.peak))  # type: ignore[arg-type]
        elif shape.shape == "piecewise":
            pts.update(float(x) for x, _ in shape.points or [] if lo < x < hi)
    for q in (0.25, 0.5, 0.75):
        pts.add(float(grid[int(round(q * (len(grid) - 1)))]))
    out = sorted(pts)
    while len(out) > MAX_BREAKPOINTS:  # drop the interior point closest to a neighbour
        gaps = [out[i + 1] - out[i - 1] for i in range(1, len(out) - 1)]
        out.pop(1 + int(np.argmin(gaps)))
    return out


def _space(scenario: Scenario, party: Party) -> _Space:
    from optimizer.scenario.utility import issue_values

    issues: list[_Issue] = []
    col = 0
    for k, issue in enumerate(scenario.issues):
        spec = party.preferences.values.get(issue.name)
        if issue.is_numeric:
            levels: list[Any] = _breakpoints(issue, spec)
            prior = (
                spec.evaluate(np.array(levels), float(issue.min), float(issue.max))  # type: ignore[arg-type]
                if isinstance(spec, ValueShape)
                else np.zeros(len(levels))
            )
        else:
            levels = list(issue.options or [])
            prior = issue_values(scenario, party, k)
        w = col
        cols = list(range(col + 1, col + 1 + len(levels)))
        col += 1 + len(levels)
        mono = None
        if isinstance(spec, ValueShape) and spec.shape in ("increasing", "decreasing"):
            mono = spec.shape
        elif isinstance(spec, ValueShape) and spec.shape == "piecewise" and np.ptp(prior) > 0:
            steps = np.diff(prior)
            mono = (
                "increasing" if (steps >= 0).all() else "decreasing" if (steps <= 0).all() else None
            )
        elif isinstance(spec, ValueShape) and spec.shape == "peak":
            mono = f"peak:{int(np.argmin(np.abs(np.array(levels) - float(spec.peak))))}"  # type: ignore[arg-type]
        issues.append(_Issue(issue.name, issue, w, levels, cols, np.asarray(prior, float), mono))
    return _Space(issues, col)


def _own_offers(scenario: Scenario, party: str) -> list[dict[str, Any]]:
    """The party's offers in the log, each completed with the terms on the table before it."""
    table: dict[str, Any] = {}
    out = []
    for offer in scenario.history:
        table = {**table, **offer.package}
        if offer.by == party:
            out.append(dict(table))
    return out


def _prior(scenario: Scenario, party: Party, space: _Space) -> tuple[np.ndarray | None, str]:
    """A guess of the parameters to pull towards where the evidence leaves room, and its source.

    The party's current weights and values when they say something (not all equal); otherwise the
    frequency model of its offers (HardHeaded: an issue kept unchanged between consecutive offers
    gains weight, options offered more often are worth more); otherwise none. The levels of the
    guess also order each issue's options where the evidence does not."""
    from optimizer.scenario.utility import weight_shares

    n = len(space.issues)
    informative = any(np.ptp(it.prior) > 1e-9 for it in space.issues if len(it.prior) > 1)
    source = "current"
    if informative:
        w = weight_shares(scenario, party)
        levels = [it.prior for it in space.issues]
    else:
        offers = _own_offers(scenario, party.name)
        if not offers:
            return None, "none"
        source = "offers"
        w = np.ones(n) / n
        levels = [np.ones(len(it.levels)) for it in space.issues]
        prev = None
        for pkg in offers:
            for k, it in enumerate(space.issues):
                if it.name in pkg:
                    for c, v in space.coefs(k, pkg[it.name]).items():
                        levels[k][it.cols.index(c)] += v
            if prev is not None:
                same = np.array([pkg.get(it.name) == prev.get(it.name) for it in space.issues])
                w = w + 0.2 * same
                w = w / w.sum()
            prev = pkg
        for it, lv in zip(space.issues, levels, strict=True):
            it.prior = lv / lv.max()
    p0 = np.zeros(space.n_params)
    spans = np.array([float(np.ptp(lv)) if len(lv) > 1 else 0.0 for lv in levels])
    ws = np.asarray(w, float) * spans
    if ws.sum() <= 0:
        return None, "none"
    ws = ws / ws.sum()
    for k, it in enumerate(space.issues):
        p0[it.w] = ws[k]
        if spans[k] > 0:
            p0[it.cols] = ws[k] * (levels[k] - levels[k].min()) / spans[k]
    return p0, source


def _project(
    lb: list[float],
    ub: list[float],
    rows: list[tuple[dict[int, float], float, float]],
    p0: np.ndarray,
    space: _Space,
) -> np.ndarray | None:
    """The point of the region nearest the guess ``p0`` (L1): first the weights, then, with the
    weights fixed there, each level nearest the guess's value times its issue's new weight (so a
    guessed shape keeps its shape when the evidence allows)."""
    n, m = len(lb), len(p0)
    lb2, ub2 = list(lb) + [0.0] * (2 * m), list(ub) + [_INF] * (2 * m)
    rows2 = list(rows)
    first = len(rows2)
    for j in range(m):
        rows2.append(({j: 1.0, n + j: -1.0, n + m + j: 1.0}, float(p0[j]), float(p0[j])))
    lp = _LP(lb2, ub2, rows2)
    wcols = [it.w for it in space.issues]
    x = lp.solve({c: 1.0 for j in wcols for c in (n + j, n + m + j)})
    if x is None:
        return None
    for it in space.issues:
        w0, w1 = float(p0[it.w]), float(x[it.w])
        lp.set_bounds(it.w, max(0.0, w1 - 1e-9), w1 + 1e-9)
        for c in it.cols:
            target = float(p0[c]) / w0 * w1 if w0 > _TOL else float(p0[c])
            lp.h.changeRowBounds(first + c, target, target)
    level_cols = [c for it in space.issues for c in it.cols]
    y = lp.solve({c: 1.0 for j in level_cols for c in (n + j, n + m + j)})
    return (x if y is None else y)[:n]


# --------------------------------------------------------------------------------------------
# Evidence as rows
# --------------------------------------------------------------------------------------------


@dataclass
class _Evidence:
    """One statement or offer as linear rows over the parameters (sharing one slack)."""

    location: str
    text: str
    kind: str  # strict (>= margin), weak (>= 0), equal (|.| <= tol), ratio (2 rows >= 0, 1 strict)
    rows: list[dict[int, float]]


def _diff(
    space: _Space, scenario: Scenario, a: dict[str, Any], b: dict[str, Any]
) -> dict[int, float]:
    pos = {n: k for k, n in enumerate(scenario.issue_names)}
    out: dict[int, float] = {}
    for name in a:
        if name not in b:
            continue
        k = pos[name]
        for c, v in space.coefs(k, a[name]).items():
            out[c] = out.get(c, 0.0) + v
        for c, v in space.coefs(k, b[name]).items():
            out[c] = out.get(c, 0.0) - v
    return {c: v for c, v in out.items() if abs(v) > 1e-12}


def _evidence(
    scenario: Scenario, party: Party, space: _Space, use_offers: bool = True
) -> tuple[list[_Evidence], dict[str, int]]:
    issues = {i.name: i for i in scenario.issues}
    pos = {n: k for k, n in enumerate(scenario.issue_names)}
    ev: list[_Evidence] = []
    ploc = f'party "{party.name}" > statements'
    for n, st in enumerate(party.statements, start=1):
        loc, text = f"{ploc} > {n}", statement_text(st, issues)
        if isinstance(st, PreferStatement):
            d = _diff(space, scenario, st.prefers, st.over)
            ev.append(_Evidence(loc, text, "strict", [d]))
        elif isinstance(st, EqualStatement):
            d = _diff(space, scenario, st.equal[0], st.equal[1])
            ev.append(_Evidence(loc, text, "equal", [d]))
        elif isinstance(st, OrderStatement):
            rows = [
                _diff(space, scenario, {st.issue: a}, {st.issue: b})
                for a, b in itertools.pairwise(st.order)
            ]
            ev.append(_Evidence(loc, text, "strict", rows))
        elif isinstance(st, SwingStatement):
            wa, wb = space.issues[pos[st.swing]].w, space.issues[pos[st.than]].w
            lo, hi = st.times / SWING_FACTOR, st.times * SWING_FACTOR
            # the ratio both ways, and the issue compared with matters at all
            ev.append(
                _Evidence(loc, text, "ratio", [{wa: 1.0, wb: -lo}, {wb: hi, wa: -1.0}, {wb: 1.0}])
            )
    n_offers = 0
    if use_offers:
        table: dict[str, Any] = {}
        last_other: dict[str, Any] | None = None
        last_own: tuple[int, dict[str, Any]] | None = None
        for n, offer in enumerate(scenario.history, start=1):
            table = {**table, **offer.package}
            full = dict(table)
            if offer.by != party.name:
                last_other = full
                continue
            n_offers += 1
            loc = f"offer {n} ({offer.date.isoformat()}) by {offer.by}"
            if last_other is not None:
                d = _diff(space, scenario, full, last_other)
                if d:
                    ev.append(
                        _Evidence(
                            loc,
                            f"{party.name} offered this rather than accept the offer before it",
                            "strict",
                            [d],
                        )
                    )
            if last_own is not None:
                d = _diff(space, scenario, last_own[1], full)
                if d:
                    ev.append(
                        _Evidence(
                            loc,
                            f"a concession: no better for {party.name} than its offer "
                            f"{last_own[0]}",
                            "weak",
                            [d],
                        )
                    )
            last_own = (n, full)
    counts = {"statements": len(party.statements), "offers": n_offers, "rows": len(ev)}
    return ev, counts


# --------------------------------------------------------------------------------------------
# HiGHS
# --------------------------------------------------------------------------------------------


class _LP:
    """A small LP in HiGHS: columns with bounds, rows with bounds; re-solved with new objectives."""

    def __init__(
        self,
        col_lb: list[float],
        col_ub: list[float],
        rows: list[tuple[dict[int, float], float, float]],
    ):
        import highspy  # kept off the import path of the CLI's lighter commands

        from optimizer.engine.solvers import _silence_highs_banner

        _silence_highs_banner()
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("presolve", "off")
        self.h.setOptionValue("simplex_strategy", 4)
        n = len(col_lb)
        lp = highspy.HighsLp()
        lp.num_col_ = n
        lp.num_row_ = len(rows)
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_ = np.array(col_lb, dtype=float)
        lp.col_upper_ = np.array(col_ub, dtype=float)
        lp.row_lower_ = np.array([r[1] for r in rows], dtype=float)
        lp.row_upper_ = np.array([r[2] for r in rows], dtype=float)
        start, index, value = [0], [], []
        for coefs, _, _ in rows:
            for c, v in coefs.items():
                index.append(c)
                value.append(v)
            start.append(len(index))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.array(start, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(value, dtype=float)
        lp.a_matrix_.num_col_ = n
        lp.a_matrix_.num_row_ = len(rows)
        self.h.passModel(lp)
        self.n = n
        self._ok = highspy.HighsModelStatus.kOptimal
        self._sense = highspy.ObjSense

    def solve(self, cost: dict[int, float], maximize: bool = False) -> np.ndarray | None:
        """Optimal column values for ``cost`` (None when infeasible)."""
        c = np.zeros(self.n)
        for j, v in cost.items():
            c[j] = v
        self.h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), c)
        self.h.changeObjectiveSense(self._sense.kMaximize if maximize else self._sense.kMinimize)
        self.h.run()
        status = self.h.getModelStatus()
        if status != self._ok:
            if str(status).endswith("kInfeasible"):
                return None
            raise SolverError(f"the preference fit's LP ended with status {status}")
        return np.array(self.h.getSolution().col_value)

    def set_bounds(self, col: int, lb: float, ub: float) -> None:
        self.h.changeColBounds(col, lb, ub)

    def set_coef(self, row: int, col: int, value: float) -> None:
        self.h.changeCoeff(row, col, value)


# --------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------


def _structure(
    space: _Space, best: dict[int, int] | None, worst: dict[int, int] | None
) -> tuple[list[float], list[float], list[tuple[dict[int, float], float, float]]]:
    """Bounds and rows of the parameter space (with or without a fixed best/worst per issue)."""
    lb = [0.0] * space.n_params
    ub = [1.0] * space.n_params
    rows: list[tuple[dict[int, float], float, float]] = []
    rows.append(({it.w: 1.0 for it in space.issues}, 1.0, 1.0))
    for k, it in enumerate(space.issues):
        for c in it.cols:
            rows.append(({c: 1.0, it.w: -1.0}, -_INF, 0.0))
        if best is not None and worst is not None:
            if best[k] == worst[k]:
                ub[it.w] = 0.0
            ub[it.cols[worst[k]]] = 0.0
            rows.append(({it.cols[best[k]]: 1.0, it.w: -1.0}, 0.0, 0.0))
        if it.monotone in ("increasing", "decreasing"):
            cols = it.cols if it.monotone == "increasing" else it.cols[::-1]
            for a, b in itertools.pairwise(cols):
                rows.append(({b: 1.0, a: -1.0}, 0.0, _INF))
        elif it.monotone and it.monotone.startswith("peak:"):
            p = int(it.monotone.split(":")[1])
            for j in range(len(it.cols) - 1):
                a, b = it.cols[j], it.cols[j + 1]
                rows.append(({b: 1.0, a: -1.0} if j < p else {a: 1.0, b: -1.0}, 0.0, _INF))
    return lb, ub, rows


def _with_evidence(
    n_params: int,
    rows: list[tuple[dict[int, float], float, float]],
    lb: list[float],
    ub: list[float],
    ev: list[_Evidence],
) -> tuple[int, list[int], list[float], list[float], list[tuple[dict[int, float], float, float]]]:
    """Add the margin column ``eps`` and one slack per evidence; return eps and slack columns."""
    eps = n_params
    lb, ub, rows = lb + [MARGIN], ub + [1.0], list(rows)
    slacks = []
    for e in ev:
        s = len(lb)
        slacks.append(s)
        lb.append(0.0)
        ub.append(_INF)
        for i, r in enumerate(e.rows):
            if e.kind == "strict" or (e.kind == "ratio" and i == 2):
                rows.append(({**r, s: 1.0, eps: -1.0}, 0.0, _INF))
            elif e.kind in ("weak", "ratio"):
                rows.append(({**r, s: 1.0}, 0.0, _INF))
            else:  # equal: -tol - s <= d <= tol + s
                rows.append(({**r, s: 1.0}, -EQUAL_TOL, _INF))
                rows.append(({**r, s: -1.0}, -_INF, EQUAL_TOL))
    return eps, slacks, lb, ub, rows


def _orientation(
    space: _Space, ev: list[_Evidence], party: Party
) -> tuple[dict[int, int], dict[int, int], list[str]]:
    """Best and worst level of each issue: from statements, prior shapes, or a relaxed fit."""
    best: dict[int, int] = {}
    worst: dict[int, int] = {}
    settled: set[int] = set()
    pos = {it.name: k for k, it in enumerate(space.issues)}
    for st in party.statements:
        if isinstance(st, OrderStatement):
            k = pos[st.issue]
            it = space.issues[k]
            if not it.issue.is_numeric and len(set(st.order)) == len(it.levels):
                best[k] = it.levels.index(st.order[0])
                worst[k] = it.levels.index(st.order[-1])
                settled.add(k)
    for k, it in enumerate(space.issues):
        if k in best:
            continue
        if len(it.levels) == 1:
            best[k] = worst[k] = 0
            settled.add(k)
        elif it.monotone == "increasing":
            best[k], worst[k] = len(it.levels) - 1, 0
            settled.add(k)
        elif it.monotone == "decreasing":
            best[k], worst[k] = 0, len(it.levels) - 1
            settled.add(k)
        elif it.monotone and it.monotone.startswith("peak:"):
            best[k] = int(it.monotone.split(":")[1])
    todo = [k for k in range(len(space.issues)) if k not in best or k not in worst]
    if not todo:
        return best, worst, []
    lb, ub, rows = _structure(space, None, None)
    eps, slacks, lb, ub, rows = _with_evidence(space.n_params, rows, lb, ub, ev)
    lp = _LP(lb, ub, rows)
    # a small pull towards the party's current values decides what the evidence leaves open
    pull = {
        c: PRIOR_PULL * float(v)
        for it in space.issues
        for c, v in zip(it.cols, it.prior, strict=True)
    }
    x = lp.solve({**pull, eps: 1.0, **{s: -1000.0 for s in slacks}}, maximize=True)
    if x is None:  # cannot happen (slacks make every row satisfiable); fall back on the prior
        x = np.zeros(len(lb))
    assumed: list[str] = []
    for k in todo:
        it = space.issues[k]
        u = x[it.cols]
        # the evidence's order, ties broken by the party's current values, then by position
        key_best = np.lexsort((-np.arange(len(u)), it.prior, np.round(u, 7)))
        key_worst = np.lexsort((np.arange(len(u)), -it.prior, -np.round(u, 7)))
        if k not in best:
            best[k] = int(key_best[-1])
        if k not in worst:
            w = int(key_worst[-1])
            worst[k] = w if w != best[k] else int(key_worst[-2])
    # settled only if no consistent solution (with the least slack) puts another level level with
    # or above the best (below the worst): one small LP per competitor, warm-started
    for s, v in zip(slacks, x[slacks], strict=True):
        lp.set_bounds(s, 0.0, float(v) + 1e-9)
    lp.set_bounds(eps, MARGIN, MARGIN)
    for k in todo:
        it = space.issues[k]
        b, w = it.cols[best[k]], it.cols[worst[k]]
        open_ = False
        for c in it.cols:
            if c != b:
                y = lp.solve({c: 1.0, b: -1.0}, maximize=True)
                if y is None or y[c] - y[b] > -MARGIN / 2:
                    open_ = True
                    break
            if c != w:
                y = lp.solve({c: 1.0, w: -1.0})
                if y is None or y[c] - y[w] < MARGIN / 2:
                    open_ = True
                    break
        if open_:
            assumed.append(it.name)
    return best, worst, sorted(set(assumed) - {space.issues[k].name for k in settled})


def _cc_model(
    lb: list[float], ub: list[float], rows: list[tuple[dict[int, float], float, float]]
) -> tuple[_LP, int, int]:
    """Charnes-Cooper form of a region (y = t x): ratios u / w become linear. Returns the LP,
    the column of t and the row that pins the denominator to 1."""
    n = len(lb)
    t = n
    cc_rows: list[tuple[dict[int, float], float, float]] = []
    for coefs, rlo, rhi in rows:
        if rlo == rhi:
            cc_rows.append(({**coefs, t: -rlo}, 0.0, 0.0))
            continue
        if rlo > -_INF:
            cc_rows.append(({**coefs, t: -rlo}, 0.0, _INF))
        if rhi < _INF:
            cc_rows.append(({**coefs, t: -rhi}, -_INF, 0.0))
    ylb, yub = [], []
    for j in range(n):
        if lb[j] == ub[j]:
            cc_rows.append(({j: 1.0, t: -lb[j]}, 0.0, 0.0))
            ylb.append(-_INF if lb[j] != 0 else 0.0)
            yub.append(_INF if lb[j] != 0 else 0.0)
            continue
        ylb.append(0.0 if lb[j] == 0 else -_INF)
        if lb[j] not in (0.0, -_INF):
            cc_rows.append(({j: 1.0, t: -lb[j]}, 0.0, _INF))
        yub.append(_INF)
        if ub[j] < _INF:
            cc_rows.append(({j: 1.0, t: -ub[j]}, -_INF, 0.0))
    norm = len(cc_rows)
    cc_rows.append(({0: 1.0}, 1.0, 1.0))
    return _LP(ylb + [0.0], yub + [_INF], cc_rows), t, norm


def estimate(
    scenario: Scenario, party: str, *, offers: bool = True, values: bool = True
) -> Estimate:
    """Fit ``party``'s weights and values to its statements (and, with ``offers``, its offers in
    the negotiation log). ``values=False`` skips the option-value ranges (weights only, faster)."""
    try:
        p = scenario.party(party)
    except KeyError:
        raise DealoptError(
            f"no party named {party!r} (parties: {', '.join(scenario.party_names)})"
        ) from None
    space = _space(scenario, p)
    ev, counts = _evidence(scenario, p, space, use_offers=offers)
    p0, prior_source = _prior(scenario, p, space) if offers or p.statements else (None, "none")
    if not offers and prior_source == "offers":
        p0, prior_source = None, "none"
    best, worst, assumed = _orientation(space, ev, p)
    lb, ub, rows = _structure(space, best, worst)
    eps, slacks, lb, ub, rows = _with_evidence(space.n_params, rows, lb, ub, ev)
    lp = _LP(lb, ub, rows)

    # 1. the least slack (with every strict statement held by MARGIN)
    lp.set_bounds(eps, MARGIN, MARGIN)
    x = lp.solve({s: 1.0 for s in slacks})
    if x is None:
        raise SolverError("the preference fit's LP is infeasible (this is a bug)")
    s_star = np.maximum(x[slacks], 0.0) if slacks else np.zeros(0)
    # 2. the largest margin with at most those slacks
    for s, v in zip(slacks, s_star, strict=True):
        lp.set_bounds(s, 0.0, float(v) + 1e-9)
    lp.set_bounds(eps, MARGIN, 1.0)
    x2 = lp.solve({eps: 1.0}, maximize=True)
    margin = float(x2[eps]) if x2 is not None and ev else 0.0
    cloud = [x2 if x2 is not None else x]
    # 3. the consistent region: every statement by MARGIN, each with at most its least slack
    lp.set_bounds(eps, MARGIN, MARGIN)
    w_lo, w_hi = {}, {}
    for k, it in enumerate(space.issues):
        xs_min = lp.solve({it.w: 1.0})
        xs_max = lp.solve({it.w: 1.0}, maximize=True)
        if xs_min is None or xs_max is None:
            raise SolverError("the preference fit's region vanished between solves (this is a bug)")
        w_lo[k], w_hi[k] = float(xs_min[it.w]), float(xs_max[it.w])
        cloud += [xs_min, xs_max]
    v_lo: dict[tuple[int, int], float] = {}
    v_hi: dict[tuple[int, int], float] = {}
    if values:
        cc_lb, cc_ub = list(lb), list(ub)
        cc_lb[eps] = cc_ub[eps] = MARGIN
        for s, v in zip(slacks, s_star, strict=True):
            cc_ub[s] = float(v) + 1e-9
        cc, t, norm = _cc_model(cc_lb, cc_ub, rows)
        current = 0
        for k, it in enumerate(space.issues):
            free = [j for j in range(len(it.cols)) if j not in (best[k], worst[k])]
            if not free or w_hi[k] <= _TOL:
                continue
            cc.set_coef(norm, current, 0.0)
            cc.set_coef(norm, it.w, 1.0)
            current = it.w
            for j in free:
                c = it.cols[j]
                for maximize in (False, True):
                    y = cc.solve({c: 1.0}, maximize=maximize)
                    if y is None:
                        continue
                    val = float(y[c])
                    (v_hi if maximize else v_lo)[(k, j)] = val
                    if y[t] > _TOL:
                        cloud.append(y[: len(lb)] / y[t])
    X = np.array(cloud)
    # the likely point: the consistent point nearest the prior guess, else the mean of every
    # extreme solution found (a point of the region; in the benchmark it fits answers better
    # than the mean of the weights' extremes alone, 0.92 against 0.85)
    center = X.mean(axis=0)
    if p0 is not None:
        r_lb, r_ub = list(lb), list(ub)
        r_lb[eps] = r_ub[eps] = MARGIN
        for s, v in zip(slacks, s_star, strict=True):
            r_ub[s] = float(v) + 1e-9
        near = _project(r_lb, r_ub, rows, p0, space)
        if near is not None:
            center = near
    weights: dict[str, Range] = {}
    vals: dict[str, dict[str, Range]] = {}
    shapes: dict[str, list[tuple[float, Range]]] = {}
    scale = scenario.utility_scale
    for k, it in enumerate(space.issues):
        wl = max(0.0, w_lo[k])
        wh = min(1.0, max(w_hi[k], wl))
        weights[it.name] = _range(wl, float(center[it.w]), wh)
        per: list[Range] = []
        for j, c in enumerate(it.cols):
            if j == best[k] and w_hi[k] > _TOL:
                per.append(Range(low=1.0, likely=1.0, high=1.0))
                continue
            if j == worst[k] or w_hi[k] <= _TOL:
                per.append(Range(low=0.0, likely=0.0, high=0.0))
                continue
            lo = v_lo.get((k, j), 0.0)
            hi = v_hi.get((k, j), 1.0)
            like = float(center[c] / center[it.w]) if center[it.w] > _TOL else (lo + hi) / 2
            per.append(_range(max(0.0, lo), like, min(1.0, hi)))
        if it.issue.is_numeric:
            shapes[it.name] = list(zip([float(x) for x in it.levels], per, strict=True))
        else:
            vals[it.name] = dict(zip(it.levels, per, strict=True))
    incons = [
        Inconsistency(e.location, e.text, float(v) * scale)
        for e, v in zip(ev, s_star, strict=True)
        if v > 1e-7
    ]
    return Estimate(
        party=p.name,
        weights=weights,
        values=vals,
        shapes=shapes,
        inconsistencies=incons,
        margin=margin * scale,
        evidence=counts,
        assumed_order=assumed,
        best={it.name: value_out(it.levels[best[k]]) for k, it in enumerate(space.issues)},
        worst={it.name: value_out(it.levels[worst[k]]) for k, it in enumerate(space.issues)},
        prior=prior_source,
        space=space,
        cloud=X[:, : space.n_params],
        likely=center[: space.n_params],
    )


def _range(lo: float, likely: float, hi: float) -> Range:
    lo, hi = _r6(lo), _r6(max(hi, lo))
    likely = min(max(_r6(likely), lo), hi)
    return Range(low=lo, likely=likely, high=hi)


# --------------------------------------------------------------------------------------------
# Writing the estimate back; the next question; answers
# --------------------------------------------------------------------------------------------


def apply_estimate(scenario: Scenario, est: Estimate) -> Scenario:
    """The scenario with ``est.party``'s weights and values replaced by the estimated ranges
    (numeric issues: a piecewise shape through the likely values); statements are kept."""
    data = scenario.to_dict()
    for pd in data["parties"]:
        if pd["name"] != est.party:
            continue
        prefs = pd.setdefault("preferences", {})
        prefs["weights"] = {k: r.model_dump() for k, r in est.weights.items()}
        values: dict[str, Any] = {
            k: {o: r.model_dump() for o, r in v.items()} for k, v in est.values.items()
        }
        for k, pts in est.shapes.items():
            values[k] = {"shape": "piecewise", "points": [[x, r.likely] for x, r in pts]}
        prefs["values"] = values
    return Scenario.from_dict(data)


def add_statement(scenario: Scenario, party: str, statement: dict[str, Any]) -> Scenario:
    """A copy of the scenario with one more statement for ``party`` (validated)."""
    data = scenario.to_dict()
    for pd in data["parties"]:
        if pd["name"] == party:
            pd.setdefault("statements", []).append(statement)
            break
    else:
        raise DealoptError(f"no party named {party!r}")
    return Scenario.from_dict(data)


@dataclass
class Question:
    """Two partial packages (issues not named are the same in both) to ask a party about."""

    party: str
    prefers: dict[str, Any]
    over: dict[str, Any]
    text: str
    split: float
    """Share of the extreme consistent solutions on the minority side (0.5: an even split)."""
    spread: float
    """How far apart the two packages can be, in utility points, over the consistent region."""

    @property
    def informative(self) -> bool:
        return self.split > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "prefers": self.prefers,
            "over": self.over,
            "party": self.party,
            "question": self.text,
            "split": _r6(self.split),
            "spread": _r6(self.spread),
            "informative": self.informative,
        }

    def answer(self, choice: str) -> dict[str, Any]:
        """The statement an answer makes: ``first`` (prefers the first), ``second`` or ``equal``."""
        if choice == "first":
            return {"prefers": dict(self.prefers), "over": dict(self.over)}
        if choice == "second":
            return {"prefers": dict(self.over), "over": dict(self.prefers)}
        if choice == "equal":
            return {"equal": [dict(self.prefers), dict(self.over)]}
        raise ValueError(f"an answer is 'first', 'second' or 'equal', not {choice!r}")


def next_question(
    scenario: Scenario, party: str, *, est: Estimate | None = None, offers: bool = True
) -> Question:
    """The comparison (two packages differing on one or two issues) whose answer splits the
    consistent region most evenly, scored over the extreme solutions of the fit."""
    est = est or estimate(scenario, party, offers=offers)
    space, X = est.space, est.cloud
    assert space is not None and X is not None
    # utility differences are evaluated at the extreme points, normalised by their weight sum
    X = X / np.maximum(X[:, [it.w for it in space.issues]].sum(axis=1, keepdims=True), 1e-12)
    best = {
        k: space.issues[k].levels.index(_level(space.issues[k], est.best[it.name]))
        for k, it in enumerate(space.issues)
    }
    worst = {
        k: space.issues[k].levels.index(_level(space.issues[k], est.worst[it.name]))
        for k, it in enumerate(space.issues)
    }
    cands: list[tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]] = []
    live = [k for k, it in enumerate(space.issues) if len(it.levels) > 1]
    for k in live:  # within one issue: two levels whose order is open
        n = len(space.issues[k].levels)
        for a in range(n):
            for b in range(a + 1, n):
                cands.append((((k, a),), ((k, b),)))
    for a_k in live:  # across two issues: a move on one against the full swing of the other
        for b_k in live:
            if a_k == b_k:
                continue
            for j in range(len(space.issues[a_k].levels)):
                if j == worst[a_k]:
                    continue
                cands.append((((a_k, j), (b_k, worst[b_k])), ((a_k, worst[a_k]), (b_k, best[b_k]))))
    if not cands:
        raise DealoptError("every issue has a single possible value: there is nothing to ask")
    # each candidate is at most two levels against two: gather the columns at once
    Xz = np.hstack([X, np.zeros((X.shape[0], 1))])
    zero = X.shape[1]
    idx = np.full((len(cands), 4), zero, dtype=np.int64)
    for i, (first, second) in enumerate(cands):
        for slot, (k, j) in enumerate(first):
            idx[i, slot] = space.issues[k].cols[j]
        for slot, (k, j) in enumerate(second):
            idx[i, 2 + slot] = space.issues[k].cols[j]
    D = Xz[:, idx[:, 0]] + Xz[:, idx[:, 1]] - Xz[:, idx[:, 2]] - Xz[:, idx[:, 3]]
    pos = (D > MARGIN).mean(axis=0)
    neg = (D < -MARGIN).mean(axis=0)
    split = np.minimum(pos, neg)
    spread = D.max(axis=0) - D.min(axis=0)
    size = np.array([len(f) for f, _ in cands])
    score = split * 10 + spread - 1e-3 * size
    i = int(np.argmax(score))
    first, second = cands[i]
    center = D[:, i].mean()
    if center < 0:
        first, second = second, first

    def pkg(side: tuple[tuple[int, int], ...]) -> dict[str, Any]:
        return {space.issues[k].name: value_out(space.issues[k].levels[j]) for k, j in side}

    a, b = pkg(first), pkg(second)
    issues = {i.name: i for i in scenario.issues}
    show = lambda p: ", ".join(f"{k} {issues[k].display(v)}" for k, v in p.items())  # noqa: E731
    others = [n for n in scenario.issue_names if n not in a]
    rest = f" (everything else the same{': ' + ', '.join(others) if len(others) <= 4 and others else ''})"
    text = f"Which would {est.party} rather have: {show(a)}, or {show(b)}?{rest}"
    return Question(
        party=est.party,
        prefers=a,
        over=b,
        text=text,
        split=float(split[i]),
        spread=float(spread[i]) * scenario.utility_scale,
    )


def _level(it: _Issue, value: Any) -> Any:
    if it.issue.is_numeric:
        return min(it.levels, key=lambda x: abs(x - float(value)))
    return value


def describe(est: Estimate, scenario: Scenario) -> str:
    """The estimate in plain lines for the terminal."""
    lines = [
        f"{est.party}: preferences fitted to {est.evidence['statements']} statement(s) and "
        f"{est.evidence['offers']} offer(s)"
    ]
    if est.inconsistencies:
        lines.append(f"{len(est.inconsistencies)} piece(s) of evidence contradict the rest:")
        for i in est.inconsistencies:
            lines.append(
                f"  {i.location}: {i.text} (short by {format_number(round(i.shortfall, 2))} points)"
            )
    elif not est.evidence["rows"]:
        lines.append("no statements or offers yet: every weight and value is still open")
    else:
        lines.append(
            f"consistent: every statement holds by at least {format_number(round(est.margin, 3))} points at the best fit"
        )
    lines.append("weights (low / likely / high):")
    width = max(len(k) for k in est.weights)
    for k, r in est.weights.items():
        lines.append(f"  {k:<{width}}  {r.low:6.3f} / {r.likely:6.3f} / {r.high:6.3f}")
    for k, v in est.values.items():
        lines.append(f"values of {k}:")
        for o, r in v.items():
            lines.append(f"  {o}: {r.low:.3f} / {r.likely:.3f} / {r.high:.3f}")
    for k, pts in est.shapes.items():
        issue = scenario.issue(k)
        lines.append(f"value of {k} (piecewise):")
        for x, r in pts:
            lines.append(f"  at {issue.display(x)}: {r.low:.3f} / {r.likely:.3f} / {r.high:.3f}")
    if est.assumed_order:
        lines.append(
            "best and worst options assumed (the evidence does not settle them): "
            + ", ".join(
                f"{k} (best {est.best[k]}, worst {est.worst[k]})" for k in est.assumed_order
            )
        )
    return "\n".join(lines)


def point_utility(est: Estimate, scenario: Scenario, packages: np.ndarray) -> np.ndarray:
    """Likely utility of packages (grid positions) on the scenario's scale."""
    return est.utility(packages) * scenario.utility_scale


__all__ = [
    "EQUAL_TOL",
    "MARGIN",
    "SWING_FACTOR",
    "Estimate",
    "Inconsistency",
    "Question",
    "add_statement",
    "apply_estimate",
    "describe",
    "estimate",
    "next_question",
]
