"""The scenario compiled into a PuLP model (MILP), checked against the numpy evaluator.

API
---
``compile_scenario(scenario, *, walk_away=True, groups=None, grid_limit=None) -> CompiledModel``
(``grid_limit`` None means the module's ``GRID_LIMIT``, read at call time)

* **Choice variables.** Every issue's grid positions are split into *pieces*: runs of consecutive
  positions on which every party's utility table is affine and every condition that mentions the
  issue (constraints, synergies, the agreed value) is constant. A piece has a binary ``z`` (the
  issue's value lies in it) and, when longer than one position, an integer offset ``t`` in
  ``[0, length-1]``; exactly one ``z`` per issue is 1. Categorical issues and numeric issues with at
  most ``grid_limit`` values get one piece per position (one binary per option); a long numeric
  range (a salary from 80k to 140k in steps of 500) costs one integer variable per linear stretch
  of its value shapes, so peaks and piecewise shapes are exact at every grid point.
* **Utilities.** ``model.utility[party]`` is one ``LpAffineExpression`` per party, built once:
  table values on the piece binaries, slopes on the offsets, and synergy bonuses on AND variables
  (``y <= a``, ``y <= b``, ``y >= a + b - 1``).
* **Rows, in named groups** (the unit of ``diagnose``'s deletion filter): one group per scenario
  constraint (acceptable sets/ranges, forbidden combinations, implies, budgets), one per party's
  walk-away point (``utility >= reservation value``) and one per agreed issue (fixed to its value).
  Budget and walk-away rows carry the numpy rule's tolerance (``TIE_TOL``, docs/design.md's ties), so a
  package on the limit up to float noise (-1e-11) is feasible for the solver too: CBC's
  preprocessing drops it otherwise, and a tie-break then returns a worse package as "optimal".
  ``groups`` restricts which of them are added; ``model.group_info`` describes each in words.
* **Helpers** for the searches: ``member(issue, positions)`` and ``is_value(issue, k)`` (exact 0/1
  expressions), ``position(issue)``, ``fix(issue, k)`` / ``free(issue)``,
  ``exclude(index, min_diff=1)`` (no-good / minimum-Hamming-distance cut), ``add_row`` /
  ``remove_row``, ``set_objective``, ``solve`` (``presolve=False`` switches the solver's presolve
  off; ``confirm_infeasible=True`` re-checks an "infeasible" without presolve).
* **Reading a solution.** ``decode()`` returns the chosen grid positions (int array, one per issue);
  ``verify(index)`` re-evaluates them with ``UtilityTables`` and checks them against the model's own
  utility values (tolerance 1e-6) and against every active group (numpy feasibility). A mismatch
  raises ``ModelError``: an internal error, never a silently wrong answer.
* ``violated_groups(scenario, index, ...)`` / ``feasible_mask(...)`` / ``group_masks(...)``: the
  same feasibility rules in numpy, for one package or many; ``FeasibilityChecker`` builds their
  lookup tables once (``model.checker``) for repeated checks.
* ``scenario_groups(scenario)`` lists every group (``GroupInfo``: label, kind, words, issues,
  parties); ``constraint_text`` says one constraint in words with its numbers and units.

Group labels are readable and unique: ``constraint "our annual software budget"`` (or
``constraint 2`` when unnamed), ``walk-away "CloudDesk"``, ``agreed "seats"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from optimizer.errors import ModelError
from optimizer.scenario.models import (
    TIE_TOL,
    Scenario,
)
from optimizer.scenario.utility import UtilityTables
from optimizer.scenario.wording import agreed_text, constraint_text, walk_away_text

if TYPE_CHECKING:
    import pulp

    from optimizer.engine.solvers import SolveOutcome

#: Numeric issues with at most this many values get one binary per value.
GRID_LIMIT = 64

#: Model utilities must equal the numpy evaluator's within this (absolute, per 1 utility point).
VERIFY_TOL = 1e-6

_KINK_TOL = 1e-10


# --------------------------------------------------------------------------------------------
# Groups of rows (the unit of diagnosis)
# --------------------------------------------------------------------------------------------


@dataclass
class GroupInfo:
    """A named group of rows: one scenario constraint, one walk-away point or one agreed issue."""

    label: str
    kind: str  # "constraint" | "walk_away" | "agreed"
    text: str
    issues: list[str] = field(default_factory=list)
    parties: list[str] = field(default_factory=list)
    index: int | None = None  # constraint position in scenario.constraints


def scenario_groups(scenario: Scenario) -> list[GroupInfo]:
    """Every group of rows a scenario can produce, in a stable order."""
    out: list[GroupInfo] = []
    names = [c.name for c in scenario.constraints if c.name]
    for n, c in enumerate(scenario.constraints):
        if c.name and names.count(c.name) == 1:
            label = f'constraint "{c.name}"'
        elif c.name:
            label = f'constraint "{c.name}" #{n + 1}'
        else:
            label = f"constraint {n + 1}"
        parties = [c.party] if c.party else []
        out.append(
            GroupInfo(label, "constraint", constraint_text(scenario, c), c.issue_names, parties, n)
        )
    for p in scenario.parties:
        r = scenario.reservation(p.name)
        if r is None:
            continue
        text = walk_away_text(scenario, p.name, r)
        out.append(GroupInfo(f'walk-away "{p.name}"', "walk_away", text, [], [p.name]))
    for issue in scenario.issues:
        if issue.status == "agreed":
            text = agreed_text(issue)
            out.append(GroupInfo(f'agreed "{issue.name}"', "agreed", text, [issue.name], []))
    return out


# --------------------------------------------------------------------------------------------
# numpy feasibility (the same rules as the rows)
# --------------------------------------------------------------------------------------------


class FeasibilityChecker:
    """The groups' rules as lookup tables, built once, to check many packages quickly (numpy)."""

    def __init__(self, scenario: Scenario, groups: Iterable[str] | None = None) -> None:
        self.scenario = scenario
        self._tables: UtilityTables | None = None
        wanted = None if groups is None else set(groups)
        names = scenario.issue_names
        self.checks: list[tuple[str, str, Any]] = []

        for g in scenario_groups(scenario):
            if wanted is not None and g.label not in wanted:
                continue
            if g.kind == "constraint":
                c = scenario.constraints[g.index]  # type: ignore[index]
                self.checks.append((g.label, "constraint", c.lower(scenario)))
            elif g.kind == "walk_away":
                p = scenario.party_names.index(g.parties[0])
                r = scenario.reservation(g.parties[0])
                self.checks.append((g.label, "walk_away", (p, r - TIE_TOL)))  # type: ignore[operator]
            else:
                issue = scenario.issue(g.issues[0])
                k = issue.index_of(issue.value)
                self.checks.append((g.label, "agreed", (names.index(issue.name), k)))

    def masks(
        self,
        index: np.ndarray,
        utilities: np.ndarray | None = None,
        groups: Iterable[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """Per group label, which packages ``index`` (n, n_issues) satisfy it."""
        index = np.asarray(index, dtype=np.int64)
        if index.ndim == 1:
            index = index[None, :]
        wanted = None if groups is None else set(groups)
        n = len(index)
        out: dict[str, np.ndarray] = {}
        for label, kind, data in self.checks:
            if wanted is not None and label not in wanted:
                continue
            if kind == "constraint":
                ok = data.holds(index, self.scenario.issue_names)
            elif kind == "walk_away":
                if utilities is None:
                    if self._tables is None:
                        self._tables = UtilityTables.build(self.scenario)
                    utilities = self._tables.evaluate(index)
                ok = np.asarray(utilities).reshape(n, -1)[:, data[0]] >= data[1]
            else:
                ok = index[:, data[0]] == data[1]
            out[label] = ok
        return out

    def violated(
        self,
        index: Sequence[int] | np.ndarray,
        utilities: np.ndarray | None = None,
        groups: Iterable[str] | None = None,
    ) -> list[str]:
        """Labels of the groups one package breaks."""
        row = np.asarray(index, dtype=np.int64)[None, :]
        u = None if utilities is None else np.asarray(utilities, dtype=float).reshape(1, -1)
        return [g for g, m in self.masks(row, u, groups).items() if not bool(m[0])]


def group_masks(
    scenario: Scenario,
    index: np.ndarray,
    *,
    groups: Iterable[str] | None = None,
    tables: UtilityTables | None = None,
    utilities: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Per group label, which of the packages ``index`` (n, n_issues) satisfy it (numpy)."""
    checker = FeasibilityChecker(scenario, groups)
    if tables is not None:
        checker._tables = tables
    return checker.masks(index, utilities)


def feasible_mask(
    scenario: Scenario,
    index: np.ndarray,
    *,
    groups: Iterable[str] | None = None,
    walk_away: bool = True,
) -> np.ndarray:
    """Which packages (n, n_issues) satisfy every (selected) group, in numpy."""
    index = np.asarray(index, dtype=np.int64)
    if index.ndim == 1:
        index = index[None, :]
    labels = None if groups is None else list(groups)
    if not walk_away:
        base = labels if labels is not None else [g.label for g in scenario_groups(scenario)]
        labels = [g for g in base if not g.startswith("walk-away ")]
    ok = np.ones(len(index), dtype=bool)
    for m in group_masks(scenario, index, groups=labels).values():
        ok &= m
    return ok


def violated_groups(
    scenario: Scenario, index: Sequence[int] | np.ndarray, *, groups: Iterable[str] | None = None
) -> list[str]:
    """Labels of the (selected) groups one package breaks."""
    masks = group_masks(scenario, np.asarray(index)[None, :], groups=groups)
    return [g for g, m in masks.items() if not bool(m[0])]


# --------------------------------------------------------------------------------------------
# The compiled model
# --------------------------------------------------------------------------------------------


@dataclass
class Piece:
    """A run of grid positions ``start .. start+length-1`` of one issue, chosen by ``z``."""

    start: int
    length: int
    z: Any  # pulp.LpVariable, binary
    t: Any = None  # pulp.LpVariable, integer offset in [0, length-1]; None when length == 1


@dataclass
class IssueVars:
    """The variables of one issue."""

    pos: int
    name: str
    size: int
    pieces: list[Piece]
    piece_of: np.ndarray  # grid position -> piece number


def _affine_breaks(values: np.ndarray) -> set[int]:
    """Positions where a new piece must start so that ``values`` is affine on every piece."""
    if len(values) < 3:
        return set()
    scale = max(1.0, float(np.abs(values).max()))
    d2 = values[2:] - 2.0 * values[1:-1] + values[:-2]
    kinks = np.flatnonzero(np.abs(d2) > _KINK_TOL * scale) + 1  # interior positions with a kink
    return {int(k) + 1 for k in kinks}


def _mask_breaks(mask: np.ndarray) -> set[int]:
    return {int(k) for k in np.flatnonzero(mask[1:] != mask[:-1]) + 1}


class CompiledModel:
    """A scenario as a PuLP problem: variables, utilities, grouped rows and helpers."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        walk_away: bool = True,
        groups: Iterable[str] | None = None,
        grid_limit: int | None = None,
        name: str = "dealopt",
    ) -> None:
        import pulp

        self._pulp = pulp
        self.scenario = scenario
        self.tables = UtilityTables.build(scenario)
        self.parties = scenario.party_names
        self.prob = pulp.LpProblem(name, pulp.LpMaximize)
        all_groups = scenario_groups(scenario)
        wanted = None if groups is None else set(groups)
        if wanted is not None:
            unknown = wanted - {g.label for g in all_groups}
            if unknown:
                raise KeyError(f"unknown group(s): {', '.join(sorted(unknown))}")
        self.group_info: dict[str, GroupInfo] = {}
        for g in all_groups:
            if wanted is not None and g.label not in wanted:
                continue
            if g.kind == "walk_away" and not walk_away:
                continue
            self.group_info[g.label] = g
        self.groups: dict[str, list[str]] = {g: [] for g in self.group_info}
        self.reservation = {p: scenario.reservation(p) for p in self.parties}
        self.solves = 0
        self.seconds = 0.0
        self.last: SolveOutcome | None = None
        self._n = 0
        self._cache: dict[Any, Any] = {}
        self._parked: dict[str, list[tuple[str, Any]]] = {}  # groups switched off (use_groups)
        self.issues = self._make_issues(GRID_LIMIT if grid_limit is None else grid_limit)
        self.checker = FeasibilityChecker(scenario, list(self.group_info))
        self.utility: dict[str, pulp.LpAffineExpression] = {
            p: self._utility_expr(i) for i, p in enumerate(self.parties)
        }
        self._add_groups()

    # -- construction -------------------------------------------------------------------------

    def _name(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}_{self._n}"

    def _conditions_on(self, issue_name: str) -> list[np.ndarray]:
        """Boolean masks of every condition on one issue (pieces may not straddle them)."""
        s = self.scenario
        size = s.issue(issue_name).size
        masks: list[np.ndarray] = []

        def add(positions: np.ndarray) -> None:
            m = np.zeros(size, dtype=bool)
            m[positions] = True
            masks.append(m)

        for low in s.lowered():
            for clause in low.clauses:
                for k, positions in clause:
                    if k == issue_name:
                        add(positions)
        for syn in self.tables.synergies:
            if s.issue_names[syn.i] == issue_name:
                add(syn.a)
            if s.issue_names[syn.j] == issue_name:
                add(syn.b)
        issue = s.issue(issue_name)
        if issue.value is not None:
            add(np.array([issue.index_of(issue.value)]))
        return masks

    def _make_issues(self, grid_limit: int) -> list[IssueVars]:
        out: list[IssueVars] = []
        for j, issue in enumerate(self.scenario.issues):
            n = issue.size
            if not issue.is_numeric or n <= max(grid_limit, 2):
                starts = list(range(n))
            else:
                breaks: set[int] = set()
                for p in range(len(self.parties)):
                    breaks |= _affine_breaks(self.tables.tables[p][j])
                for m in self._conditions_on(issue.name):
                    breaks |= _mask_breaks(m)
                starts = sorted({0} | {b for b in breaks if 0 < b < n})
            ends = [*starts[1:], n]
            pieces: list[Piece] = []
            piece_of = np.empty(n, dtype=np.int64)
            for s_no, (a, b) in enumerate(zip(starts, ends, strict=True)):
                z = self.prob.add_variable(f"z_{j}_{a}", 0, 1, self._pulp.LpBinary)
                t = None
                if b - a > 1:
                    t = self.prob.add_variable(f"t_{j}_{a}", 0, b - a - 1, self._pulp.LpInteger)
                    self.prob.addConstraint(
                        self._pulp.LpAffineExpression([(t, 1.0), (z, -(b - a - 1.0))]) <= 0,
                        f"piece_{j}_{a}",
                    )
                pieces.append(Piece(a, b - a, z, t))
                piece_of[a:b] = s_no
            self.prob.addConstraint(
                self._pulp.LpAffineExpression([(p.z, 1.0) for p in pieces]) == 1, f"one_{j}"
            )
            out.append(IssueVars(j, issue.name, n, pieces, piece_of))
        return out

    def _utility_expr(self, p: int) -> pulp.LpAffineExpression:
        return self.utility_expression(self.tables.tables[p], self.tables.synergies, p)

    def utility_expression(
        self, row: Sequence[np.ndarray], synergies: Sequence[Any], p: int
    ) -> pulp.LpAffineExpression:
        """Party ``p``'s utility over this model's variables for per-issue value tables ``row``
        (utility points at every grid position) and synergy terms (``SynergyTerm``s; only those
        of party ``p`` count). The model's own utilities use the point-estimate tables; the
        robust search passes one sample's tables."""
        terms: dict[Any, float] = {}
        for j, iv in enumerate(self.issues):
            tab = row[j]
            if not np.any(tab):
                continue
            for pc in iv.pieces:
                v0 = float(tab[pc.start])
                if v0 != 0.0:
                    terms[pc.z] = terms.get(pc.z, 0.0) + v0
                if pc.t is not None:
                    slope = float(tab[pc.start + pc.length - 1] - v0) / (pc.length - 1)
                    if slope != 0.0:
                        terms[pc.t] = terms.get(pc.t, 0.0) + slope
        for syn in synergies:
            if syn.party != p or syn.bonus == 0.0:
                continue
            y = self._and_var(syn.i, syn.a, syn.j, syn.b)
            terms[y] = terms.get(y, 0.0) + float(syn.bonus)
        return self._pulp.LpAffineExpression(list(terms.items()))

    def _and_var(self, i: int, a: np.ndarray, j: int, b: np.ndarray) -> Any:
        key = ("and", i, tuple(int(x) for x in a), j, tuple(int(x) for x in b))
        if key in self._cache:
            return self._cache[key]
        y = self.prob.add_variable(self._name("and"), 0, 1, self._pulp.LpContinuous)
        ma, mb = self.member(i, a), self.member(j, b)
        self.prob.addConstraint(y - ma <= 0, self._name("and_a"))
        self.prob.addConstraint(y - mb <= 0, self._name("and_b"))
        self.prob.addConstraint(y - ma - mb >= -1, self._name("and_ab"))
        self._cache[key] = y
        return y

    def _add_groups(self) -> None:
        s = self.scenario
        for label, g in self.group_info.items():
            if g.kind == "constraint":
                low = s.constraints[g.index].lower(s)  # type: ignore[index]
                for clause in low.clauses:
                    if any(len(positions) == 0 for _, positions in clause):
                        continue  # a part that can never hold: the clause never fires
                    expr = self._pulp.lpSum([self.member(k, pos) for k, pos in clause])
                    self.add_row(expr <= len(clause) - 1, label)
                if low.limit is not None:
                    cost = self._pulp.LpAffineExpression()
                    for k, table in low.costs:
                        cost += self._cost_expr(k, table)
                    # the limit carries the numpy rule's tolerance: a package on the limit up
                    # to float noise stays feasible for every solver
                    self.add_row(cost <= low.limit, label)
            elif g.kind == "walk_away":
                party = g.parties[0]
                reservation = self.reservation[party] - TIE_TOL  # type: ignore[operator]
                self.add_row(self.utility[party] >= reservation, label)
            else:
                issue = s.issue(g.issues[0])
                self.add_row(self.is_value(issue.name, issue.index_of(issue.value)) == 1, label)

    def _cost_expr(self, issue: str | int, costs: np.ndarray) -> pulp.LpAffineExpression:
        """The cost of an issue's chosen position (costs affine on each piece)."""
        iv = self._iv(issue)
        terms = []
        for pc in iv.pieces:
            c0 = float(costs[pc.start])
            terms.append((pc.z, c0))
            if pc.t is not None:
                slope = float(costs[pc.start + pc.length - 1] - c0) / (pc.length - 1)
                terms.append((pc.t, slope))
        return self._pulp.LpAffineExpression(terms)

    # -- expressions ----------------------------------------------------------------------------

    def _iv(self, issue: str | int) -> IssueVars:
        if isinstance(issue, str):
            return self.issues[self.scenario.issue_names.index(issue)]
        return self.issues[int(issue)]

    def _range_indicator(self, iv: IssueVars, pc: Piece, lo: int, hi: int) -> Any:
        """Exact 0/1 variable: the issue's offset in piece ``pc`` lies in ``lo..hi``."""
        key = ("range", iv.pos, pc.start, lo, hi)
        if key in self._cache:
            return self._cache[key]
        lp = self._pulp
        big = float(pc.length - 1)
        r = self.prob.add_variable(self._name("in"), 0, 1, lp.LpBinary)
        self.prob.addConstraint(r - pc.z <= 0, self._name("in_z"))
        # r = 1 => lo <= t <= hi
        if lo > 0:
            self.prob.addConstraint(pc.t - lo * r >= 0, self._name("in_lo"))
        if hi < pc.length - 1:
            self.prob.addConstraint(pc.t + (big - hi) * r <= big, self._name("in_hi"))
        # z = 1 and r = 0 => t < lo or t > hi
        below = above = None
        if lo > 0:
            below = self.prob.add_variable(self._name("below"), 0, 1, lp.LpBinary)
            # below = 1 => t <= lo - 1
            self.prob.addConstraint(pc.t + (big - lo + 1) * below <= big, self._name("below_t"))
        if hi < pc.length - 1:
            above = self.prob.add_variable(self._name("above"), 0, 1, lp.LpBinary)
            # above = 1 => t >= hi + 1
            self.prob.addConstraint(pc.t - (hi + 1) * above >= 0, self._name("above_t"))
        outside = lp.LpAffineExpression([(v, 1.0) for v in (below, above) if v is not None])
        self.prob.addConstraint(outside - pc.z <= 0, self._name("out_z"))
        self.prob.addConstraint(pc.z - r - outside <= 0, self._name("in_or_out"))
        self._cache[key] = r
        return r

    def member(
        self, issue: str | int, positions: Iterable[int] | np.ndarray
    ) -> pulp.LpAffineExpression:
        """Exact 0/1 expression: the issue's chosen position is one of ``positions``."""
        iv = self._iv(issue)
        pos = np.unique(
            np.asarray(
                list(positions) if not isinstance(positions, np.ndarray) else positions,
                dtype=np.int64,
            )
        )
        if len(pos) and (pos[0] < 0 or pos[-1] >= iv.size):
            raise IndexError(f"position out of range for issue {iv.name!r}")
        terms: list[tuple[Any, float]] = []
        if len(pos) == 0:
            return self._pulp.LpAffineExpression()
        owners = iv.piece_of[pos]
        for s_no in np.unique(owners):
            pc = iv.pieces[int(s_no)]
            inside = pos[owners == s_no] - pc.start
            if len(inside) == pc.length:
                terms.append((pc.z, 1.0))
                continue
            # consecutive runs of offsets inside this piece
            cut = np.flatnonzero(np.diff(inside) > 1) + 1
            for run in np.split(inside, cut):
                terms.append((self._range_indicator(iv, pc, int(run[0]), int(run[-1])), 1.0))
        return self._pulp.LpAffineExpression(terms)

    def is_value(self, issue: str | int, k: int) -> pulp.LpAffineExpression:
        """Exact 0/1 expression: the issue takes grid position ``k``."""
        return self.member(issue, [int(k)])

    # -- rows -------------------------------------------------------------------------------------

    def add_row(self, row: Any, group: str | None = None, name: str | None = None) -> str:
        """Add a constraint row (optionally to a group); returns its name."""
        name = name or self._name("row" if group is None else "g")
        self.prob.addConstraint(row, name)
        if group is not None:
            self.groups.setdefault(group, []).append(name)
        return name

    def remove_row(self, name: str) -> None:
        """Remove a row added earlier (no error if it is already gone)."""
        self.prob._constraints.pop(name, None)

    def use_groups(self, groups: set[str]) -> None:
        """Keep the rows of ``groups`` and park every other group's rows (restored when a later
        call names them again): the diagnosis's deletion filter switches groups through this."""
        for label, names in self.groups.items():
            if label in groups and label in self._parked:
                for name, row in self._parked.pop(label):
                    self.prob._constraints[name] = row
                    self.prob._add_variables(row.keys())
            elif label not in groups and label not in self._parked:
                self._parked[label] = [
                    (n, self.prob._constraints.pop(n)) for n in names if n in self.prob._constraints
                ]

    def fix(self, issue: str | int, k: int) -> str:
        """Fix an issue to grid position ``k`` (replacing an earlier fix)."""
        self.free(issue)
        iv = self._iv(issue)
        name = f"fix_{iv.pos}"
        self.prob.addConstraint(self.is_value(iv.pos, k) == 1, name)
        return name

    def free(self, issue: str | int) -> None:
        """Undo ``fix`` on an issue."""
        self.remove_row(f"fix_{self._iv(issue).pos}")

    def differs(self, index: Sequence[int] | np.ndarray) -> list[pulp.LpAffineExpression]:
        """Per issue, an exact 0/1 expression: the issue's position differs from ``index``."""
        return [1 - self.is_value(j, int(k)) for j, k in enumerate(index)]

    def exclude(self, index: Sequence[int] | np.ndarray, min_diff: int = 1) -> str:
        """No-good cut: later solutions differ from ``index`` in at least ``min_diff`` issues."""
        row = self._pulp.lpSum(self.differs(index)) >= min(int(min_diff), len(self.issues))
        return self.add_row(row, name=self._name("nogood"))

    def set_objective(self, expr: Any, maximize: bool = True) -> None:
        """Set the objective (a PuLP expression) and its sense."""
        self.prob.sense = self._pulp.LpMaximize if maximize else self._pulp.LpMinimize
        if not isinstance(expr, self._pulp.LpAffineExpression):
            expr = self._pulp.LpAffineExpression(expr) if expr is not None else None
        self.prob.setObjective(expr if expr is not None else self._pulp.LpAffineExpression())

    def new_var(
        self, prefix: str, low: float | None = None, up: float | None = None, integer: bool = False
    ) -> Any:
        """A fresh variable in this model (continuous unless ``integer``)."""
        cat = self._pulp.LpInteger if integer else self._pulp.LpContinuous
        return self.prob.add_variable(self._name(prefix), low, up, cat)

    # -- solving and reading -------------------------------------------------------------------

    def solve(
        self,
        solver: str | None = None,
        time_limit: float | None = None,
        *,
        presolve: bool = True,
        confirm_infeasible: bool = False,
    ) -> SolveOutcome:
        """Solve once; counts solves and time (``self.last`` keeps the outcome).

        ``presolve=False`` switches the solver's presolve off; ``confirm_infeasible`` re-checks an
        "infeasible" without presolve (see ``optimizer.engine.solvers.solve``)."""
        from optimizer.engine.solvers import solve

        if self.prob.objective is None:
            self.prob.setObjective(self._pulp.LpAffineExpression())
        self._prune_variables()
        out = solve(
            self.prob,
            solver,
            time_limit,
            presolve=presolve,
            confirm_infeasible=confirm_infeasible,
        )
        self.solves += 1
        self.seconds += out.seconds
        self.last = out
        return out

    def _prune_variables(self) -> None:
        """Unregister variables no row or objective uses (left by removed rows).

        CBC rejects an MPS file whose BOUNDS name a column that has no entries; a variable used
        again later is registered again by ``addConstraint``.
        """
        used: set[int] = set()
        for c in self.prob._constraints.values():
            used.update(v.hash for v in c)
        if self.prob.objective is not None:
            used.update(v.hash for v in self.prob.objective)
        keep = [v for v in self.prob._variables if v.hash in used]
        if len(keep) != len(self.prob._variables):
            self.prob._variables = keep
            self.prob._variable_ids = {v.hash: v for v in keep}

    def decode(self) -> np.ndarray:
        """The grid positions of the current solution (one per issue)."""
        if self.last is None or not self.last.has_solution:
            raise ModelError("there is no solution to decode (the last solve found none)")
        out = np.empty(len(self.issues), dtype=np.int64)
        for j, iv in enumerate(self.issues):
            zs = np.array([0.0 if pc.z.varValue is None else pc.z.varValue for pc in iv.pieces])
            s_no = int(np.argmax(zs))
            # "not <=": a NaN value (a broken solver answer) fails the check
            if not (abs(zs[s_no] - 1.0) <= 1e-4 and abs(zs.sum() - 1.0) <= 1e-4):
                raise ModelError(f"issue {iv.name!r}: no single piece chosen ({zs.tolist()})")
            pc = iv.pieces[s_no]
            off = 0
            if pc.t is not None:
                tv = 0.0 if pc.t.varValue is None else pc.t.varValue
                if not np.isfinite(tv):
                    raise ModelError(f"issue {iv.name!r}: offset {tv} is not a grid position")
                off = int(round(tv))
                if abs(tv - off) > 1e-4 or not 0 <= off < pc.length:
                    raise ModelError(f"issue {iv.name!r}: offset {tv} is not a grid position")
            out[j] = pc.start + off
        return out

    def model_utilities(self) -> np.ndarray:
        """Each party's utility as the model computes it at the current solution's package.

        Integer and binary variables are taken rounded to the nearest whole number: the package
        we report is the rounded one, and a solver's integrality tolerance (a piece offset of
        0.999999 instead of 1) must not show up as a utility difference."""
        out = np.empty(len(self.parties))
        for n, p in enumerate(self.parties):
            expr = self.utility[p]
            total = float(expr.constant)
            for var, coef in expr.items():
                v = var.varValue
                if v is None:
                    v = 0.0
                elif var.cat == self._pulp.LpInteger:
                    v = float(round(v))
                total += coef * v
            out[n] = total
        return out

    def evaluate(self, index: Sequence[int] | np.ndarray) -> np.ndarray:
        """numpy utilities of one package (grid positions)."""
        return self.tables.evaluate(np.asarray(index, dtype=np.int64)[None, :])[0]

    def verify(self, index: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Check the current solution against numpy; returns its numpy utilities.

        Raises ``ModelError`` when the model's utilities differ from the evaluator's by more than
        ``VERIFY_TOL`` or when the package breaks an active group.
        """
        index = self.decode() if index is None else np.asarray(index, dtype=np.int64)
        exact = self.evaluate(index)
        model = self.model_utilities()
        bad = ~(np.abs(exact - model) <= VERIFY_TOL * np.maximum(1.0, np.abs(exact)))  # NaN: bad
        if np.any(bad):
            who = ", ".join(
                f"{self.parties[i]}: model {model[i]!r} vs numpy {exact[i]!r}"
                for i in np.flatnonzero(bad)
            )
            raise ModelError(f"compiled utilities disagree with the evaluator ({who})")
        active = [g for g in self.group_info if g in self.groups]
        broken = self.checker.violated(index, exact, groups=active)
        broken = [g for g in broken if not self._within_solver_tol(g, index, exact)]
        if broken:
            raise ModelError(f"solver returned a package that breaks {', '.join(broken)}")
        return exact

    def _within_solver_tol(self, label: str, index: np.ndarray, utilities: np.ndarray) -> bool:
        """Budgets and walk-away rows hold to the solver's tolerance (1e-6) though not 1e-9."""
        g = self.group_info[label]
        if g.kind == "walk_away":
            p = self.parties.index(g.parties[0])
            return bool(utilities[p] >= self.reservation[g.parties[0]] - 1e-6)  # type: ignore[operator]
        if g.kind == "constraint":
            c = self.scenario.constraints[g.index]  # type: ignore[index]
            low = c.lower(self.scenario)
            if low.limit is not None and not low.clauses:
                names = self.scenario.issue_names
                total = sum(float(table[index[names.index(k)]]) for k, table in low.costs)
                return total <= low.limit + 1e-6 * max(1.0, abs(low.limit))
        return False

    def package(self, index: Sequence[int] | np.ndarray) -> dict[str, str | float]:
        """Grid positions back to a package (issue -> option name / number)."""
        return self.scenario.decode(np.asarray(index))

    @property
    def n_pieces(self) -> int:
        """How many choice binaries the model has (one per piece)."""
        return sum(len(iv.pieces) for iv in self.issues)


def compile_scenario(
    scenario: Scenario,
    *,
    walk_away: bool = True,
    groups: Iterable[str] | None = None,
    grid_limit: int | None = None,
    name: str = "dealopt",
) -> CompiledModel:
    """Compile a scenario into a PuLP model (see the module docstring for what it holds)."""
    return CompiledModel(
        scenario, walk_away=walk_away, groups=groups, grid_limit=grid_limit, name=name
    )
