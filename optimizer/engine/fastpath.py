"""Numpy frontier machinery: the exact non-dominated filter, constraint masks, the separable fast path.

Dominance follows docs/design.md's tie rule: utilities closer than ``TIE_TOL`` (1e-9) are ties, so ``y``
dominates ``x`` when ``y_p >= x_p - tol`` for every party and ``y_p > x_p + tol`` for at least one,
and two vectors within ``tol`` in every coordinate are the same point (one package is kept).

The fast path (``fast_frontier``) computes the exact frontier without enumerating packages:

* each issue's options are filtered by the single-issue constraints (an acceptable set, a
  forbidden option, a one-issue budget...) and fixed when the issue is ``agreed``;
* issues linked by a cross-issue constraint or a synergy form *blocks* (connected components);
  an unlinked issue is a block of its own. Utilities are sums of independent per-block terms, so
  the achievable utility vectors are the Minkowski sum ``P_1 + ... + P_n`` of the blocks' sets;
* blocks are merged one at a time, ``S <- nondominated(S + P_b)``. Pruning is safe: if ``y``
  dominates (or ties) ``x`` in a partial sum, ``y + z`` dominates (or ties) ``x + z`` for every
  completion ``z`` of the remaining blocks (translation keeps both inequalities), so a pruned
  partial point never yields a frontier point that a kept one does not match. Among tied partial
  points the one that reopens fewer provisional issues (then changes fewer issues) is kept, and
  that cost is additive too, so the final representative is the least disruptive package;
* a block's own set ``P_b`` is built the same way, issue by issue (``_block_options``), except
  that partial packages are compared only within the same *state*: their options on the merged
  issues that still share a constraint or synergy with an unmerged one. Two partial packages in
  one state meet the same remaining rules and bonuses with every completion, so the translation
  argument holds within a state. The merge order is greedy (smallest next state space); a block
  needing more than ``BLOCK_LIMIT`` states (a budget over many issues, dense rules) makes the
  fast path decline, and ``frontier`` falls back to enumeration or the MILP;
* walk-away points cut an upward-closed region ``{u_p >= r_p}``; a package dominated by another
  still clears it when the dominated one does, so ``frontier(S and walk-away) = frontier(S) and
  walk-away``. Parties with a reservation value but outside ``parties`` are merged as extra
  dimensions, filtered, and projected away before the last filter (a point dominated in the extra
  dimension is matched in the frontier parties by its dominator, which clears as well).

Each merge records, per point, its parent point and the option chosen, so every frontier point is
traced back to a package (grid positions per issue) and re-evaluated with ``UtilityTables``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from optimizer.engine.budget import check_time, cleanup_after_budget
from optimizer.errors import FastPathNotApplicable, TimeLimitReached
from optimizer.scenario.models import TIE_TOL
from optimizer.scenario.utility import UtilityTables

if TYPE_CHECKING:
    from optimizer.scenario.models import Scenario

#: The fast path gives up (and the caller falls back) when a partial frontier exceeds this size.
MAX_POINTS = 400_000

#: With 3+ dimensions a merge filters at most this many candidate points (the divide-and-conquer
#: filter takes about a second per 100,000 five-party points; beyond this the caller falls back).
MAX_ND_POINTS = 500_000

#: Points a clean-up after the time budget ran out may still filter pairwise (a fraction of a second).
CLEANUP_POINTS = 2_000

#: Largest number of merge states (joint options of the merged issues still linked to unmerged
#: ones) the fast path accepts in a group of issues linked by constraints or synergies.
BLOCK_LIMIT = 20_000


# --------------------------------------------------------------------------------------------
# Non-dominated filter
# --------------------------------------------------------------------------------------------


def _tie_keys(U: np.ndarray, tol: float) -> np.ndarray:
    """Utilities rounded to the tie grid: only used to order tied points by a preference."""
    return np.round(U / tol)


def nondominated(U: np.ndarray, cost: np.ndarray | None = None, tol: float = TIE_TOL) -> np.ndarray:
    """Indices of the non-dominated, distinct rows of ``U`` (n, m), sorted by the first column
    descending (then the others descending).

    A row dominated under the tie rule is dropped; of rows tied in every coordinate one is kept,
    the one with the lowest ``cost`` (then the lowest index).
    """
    U = np.asarray(U, dtype=float)
    n = len(U)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if U.ndim != 2:
        raise ValueError("utilities must be an (n_points, n_parties) array")
    cost = np.zeros(n) if cost is None else np.asarray(cost, dtype=float)
    if U.shape[1] == 1:
        best = U[:, 0].max()
        cand = np.flatnonzero(U[:, 0] >= best - tol)
        return np.array([cand[np.lexsort((cand, cost[cand]))[0]]], dtype=np.int64)
    keep = _not_dominated_2d(U, tol) if U.shape[1] == 2 else _not_dominated_nd(U, tol)
    idx = np.flatnonzero(keep)
    return _dedupe(U, cost, idx, tol)


def _not_dominated_2d(U: np.ndarray, tol: float) -> np.ndarray:
    """Mask of rows no other row dominates (2 columns, O(n log n), exact under the tie rule).

    For a point x, let A = {y : y_a > x_a + tol} and B = {y : |y_a - x_a| <= tol}. x is dominated
    iff some y in A has y_b >= x_b - tol, or some y in B has y_b > x_b + tol. Both are prefix
    maxima of b over the rows sorted by a (descending), found with binary searches.
    """
    a, b = U[:, 0], U[:, 1]
    order = np.argsort(-a, kind="stable")
    neg_a = -a[order]
    prefmax = np.maximum.accumulate(b[order])
    n_ge = np.searchsorted(neg_a, -a + tol, side="right")  # rows with y_a >= x_a - tol (>= 1)
    n_gt = np.searchsorted(neg_a, -a - tol, side="left")  # rows with y_a > x_a + tol
    dom = prefmax[n_ge - 1] > b + tol
    has_gt = n_gt > 0
    dom[has_gt] |= prefmax[n_gt[has_gt] - 1] >= b[has_gt] - tol
    return ~dom


#: Pairs of rows (query x candidate) compared at once in the brute-force base case.
_BRUTE_CELLS = 1 << 18


def _not_dominated_nd(U: np.ndarray, tol: float, chunk_cells: int = 4_000_000) -> np.ndarray:
    """Mask of rows no other row dominates (any number of columns; exact under the tie rule).

    Divide and conquer (after Kung, Luccio and Preparata): split the rows on one coordinate ``d``
    at a gap wider than ``tol`` (the gap nearest the median), so no row of the low half is within
    ``tol`` of a row of the high half on ``d``. Then a low row cannot dominate a high row
    (``y_d >= x_d - tol`` fails), the high half is filtered on its own, and a low row is
    dominated either inside the low half or by a high row, which already beats it on ``d`` by
    more than ``tol``: that cross test needs only ``y >= x - tol`` on the other coordinates, one
    dimension fewer (``_cross``). Small subproblems, and sets with no gap on any coordinate, are
    compared pairwise. Every row is compared, by this case split, with every row that could
    dominate it, so the mask is the definition (dominated by *any* row), not an approximation.
    """
    del chunk_cells  # kept for the signature; the base case has its own size
    return ~_dominated(U, list(range(U.shape[1])), tol)


def _brute(Y: np.ndarray, X: np.ndarray, dims: list[int], strict: bool, tol: float) -> np.ndarray:
    """Mask over rows of ``X``: some row of ``Y`` is >= it - tol on ``dims`` (and, when
    ``strict``, > it + tol on one of them)."""
    out = np.zeros(len(X), dtype=bool)
    if len(Y) == 0 or len(X) == 0:
        return out
    Yd = Y[:, dims][None, :, :]
    Xd = X[:, dims]
    step = max(1, (4 * _BRUTE_CELLS) // max(1, len(Y) * len(dims)))
    for s in range(0, len(X), step):
        check_time()  # pairwise work grows fast: honour the command's time budget
        x = Xd[s : s + step, None, :]
        hit = np.all(Yd >= x - tol, axis=2)
        if strict:
            hit &= np.any(Yd > x + tol, axis=2)
        out[s : s + step] = hit.any(axis=1)
    return out


def _gap_cut(values: np.ndarray, tol: float) -> float | None:
    """A threshold with a gap wider than ``tol`` around it, nearest the median (None if none)."""
    v = np.sort(values)
    gaps = np.flatnonzero(np.diff(v) > tol)  # a cut between v[g] and v[g + 1]
    if len(gaps) == 0:
        return None
    g = gaps[np.argmin(np.abs(gaps - (len(v) - 1) / 2))]
    return float((v[g] + v[g + 1]) / 2)


def _pick_cut(P: np.ndarray, dims: list[int], tol: float) -> tuple[int, float | None]:
    """The first coordinate of ``dims`` with such a gap, and the cut."""
    for d in dims:
        cut = _gap_cut(P[:, d], tol)
        if cut is not None:
            return d, cut
    return dims[0], None


def _dominated(P: np.ndarray, dims: list[int], tol: float) -> np.ndarray:
    """Mask over rows of ``P``: dominated by another row of ``P`` (the tie rule)."""
    n = len(P)
    if n * n <= _BRUTE_CELLS:
        return _brute(P, P, dims, True, tol)
    d, cut = _pick_cut(P, dims, tol)
    if cut is None:
        return _brute(P, P, dims, True, tol)
    high = P[:, d] > cut
    hi, lo = np.flatnonzero(high), np.flatnonzero(~high)
    out = np.zeros(n, dtype=bool)
    out[hi] = _dominated(P[hi], dims, tol)
    out[lo] = _dominated(P[lo], dims, tol)
    rest = lo[~out[lo]]
    if len(rest):
        out[rest] = _cross(P[hi], P[rest], [k for k in dims if k != d], False, tol)
    return out


def _cross(Y: np.ndarray, X: np.ndarray, dims: list[int], strict: bool, tol: float) -> np.ndarray:
    """Mask over rows of ``X``: dominated by some row of ``Y`` on ``dims`` (``strict`` False
    when a dropped coordinate already made every such domination strict)."""
    if len(Y) == 0 or len(X) == 0:
        return np.zeros(len(X), dtype=bool)
    if not dims:
        return np.ones(len(X), dtype=bool)
    if len(Y) * len(X) <= _BRUTE_CELLS:
        return _brute(Y, X, dims, strict, tol)
    d, cut = _pick_cut(np.concatenate((Y, X)), dims, tol)
    if cut is None:
        return _brute(Y, X, dims, strict, tol)
    y_high, x_high = Y[:, d] > cut, X[:, d] > cut
    out = np.zeros(len(X), dtype=bool)
    out[x_high] = _cross(Y[y_high], X[x_high], dims, strict, tol)
    lo = np.flatnonzero(~x_high)
    out[lo] = _cross(Y[~y_high], X[lo], dims, strict, tol)
    rest = lo[~out[lo]]
    if len(rest):
        out[rest] = _cross(Y[y_high], X[rest], [k for k in dims if k != d], False, tol)
    return out


def _dedupe(U: np.ndarray, cost: np.ndarray, idx: np.ndarray, tol: float) -> np.ndarray:
    """Among non-dominated rows ``idx``, keep one per group of tied rows (lowest cost first)."""
    if len(idx) <= 1:
        return idx
    V = U[idx]
    keys = _tie_keys(V, tol)
    # Sort by the rounded utilities (descending), then cost, then index: tied rows end up adjacent
    # (among non-dominated rows, a tie in one coordinate is a tie in all of them for m = 2).
    sort_keys = [idx, cost[idx]] + [-keys[:, j] for j in range(V.shape[1] - 1, -1, -1)]
    order = np.lexsort(sort_keys)
    V = V[order]
    if V.shape[1] == 2:
        close = np.all(np.abs(np.diff(V, axis=0)) < tol, axis=1)
        first = np.concatenate(([True], ~close))
        group = np.cumsum(first) - 1
        c = cost[idx][order]
        pick = np.lexsort((np.arange(len(V)), c, group))
        starts = np.concatenate(([True], np.diff(group[pick]) != 0))
        chosen = np.sort(pick[starts])
        return idx[order][chosen]
    # m >= 3: a row is a duplicate of any earlier (cheaper) row within tol in every coordinate.
    # Such pairs are within tol on the first coordinate: pair each row only with the rows after
    # it in that coordinate's sorted order closer than tol (usually none).
    first = np.argsort(V[:, 0], kind="stable")
    col = V[first, 0]
    reach = np.searchsorted(col, col + tol, side="left") - np.arange(len(V)) - 1
    dup = np.zeros(len(V), dtype=bool)
    step = max(1, len(V) * 4_000_000 // max(1, int(reach.sum())))  # about 4M pairs at a time
    for s in range(0, len(V), step):
        part = reach[s : s + step]
        a = np.repeat(np.arange(s, s + len(part)), part)
        if len(a) == 0:
            continue
        b = a + 1 + (np.arange(len(a)) - np.repeat(np.cumsum(part) - part, part))
        i, j = first[a], first[b]
        close = np.all(np.abs(V[i] - V[j]) < tol, axis=1)
        dup[np.maximum(i, j)[close]] = True
    return idx[order][~dup]


def spread(U: np.ndarray, k: int) -> np.ndarray:
    """Indices of at most ``k`` rows of a non-dominated set ``U``, spread evenly along it (by the
    first column) and keeping each column's best row: what a capped frontier keeps."""
    n = len(U)
    if n <= k:
        return np.arange(n, dtype=np.int64)
    m = U.shape[1]
    best = {int(np.argmax(U[:, j])) for j in range(m)}
    order = np.lexsort([-U[:, j] for j in range(m - 1, -1, -1)])
    room = max(1, k - len(best))
    picks = order[np.unique(np.linspace(0, n - 1, room).round().astype(np.int64))]
    out = np.unique(np.concatenate([picks, np.fromiter(best, dtype=np.int64)]))
    return out[:k] if len(out) > k else out


# --------------------------------------------------------------------------------------------
# Constraints and statuses as numpy masks
# --------------------------------------------------------------------------------------------


def constraint_mask(scenario: Scenario, c, index: np.ndarray) -> np.ndarray:
    """Which packages (grid positions, (n, n_issues)) satisfy one constraint (its lowered form,
    the same one the MILP rows are built from)."""
    return c.lower(scenario).holds(index, scenario.issue_names)


def allowed_options(scenario: Scenario) -> list[np.ndarray]:
    """Per issue, the grid positions left once agreed issues are fixed and single-issue
    constraints applied (cross-issue constraints are left to the caller)."""
    return [np.flatnonzero(m) for m in scenario.reachable_masks()]


def reservation_vector(scenario: Scenario) -> np.ndarray:
    """Each party's walk-away utility, ``-inf`` for a party without one."""
    out = []
    for p in scenario.party_names:
        r = scenario.reservation(p)
        out.append(-np.inf if r is None else float(r))
    return np.array(out)


def change_costs(scenario: Scenario) -> list[np.ndarray]:
    """Per issue and option, how disruptive choosing it is: reopening a provisional issue costs
    more than every possible change to open issues together, changing an open issue costs 1."""
    big = len(scenario.issues) + 1
    out = []
    for issue in scenario.issues:
        cost = np.zeros(issue.size)
        if issue.value is not None and issue.status != "agreed":
            ref = issue.index_of(issue.value)
            cost[:] = big if issue.status == "provisional" else 1
            cost[ref] = 0
        out.append(cost)
    return out


# --------------------------------------------------------------------------------------------
# The fast path
# --------------------------------------------------------------------------------------------


@dataclass
class FastFrontier:
    """The exact frontier from the fast path: packages (grid positions) and their utilities."""

    index: np.ndarray  # (n_points, n_issues) grid positions
    utilities: np.ndarray  # (n_points, n_parties): every party of the scenario
    parties: list[int]  # the frontier parties (columns of ``utilities`` that define it)
    blocks: list[list[int]]  # groups of linked issues merged as one
    merged_points: int  # largest candidate set one merge filtered (a size indicator)
    capped: bool = False  # a partial frontier was thinned to ``cap`` points (not exact)
    stopped: bool = False  # the time budget ran out; remaining blocks kept one option each


def issue_blocks(scenario: Scenario) -> list[list[int]]:
    """Groups of issues linked by a cross-issue constraint or a synergy (connected components);
    an issue linked to nothing is a block of its own."""
    names = scenario.issue_names
    parent = list(range(len(names)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    links: list[list[str]] = [c.issue_names for c in scenario.constraints]
    links += [list(s.when) for p in scenario.parties for s in p.preferences.synergies]
    for group in links:
        ks = [names.index(g) for g in group]
        for k in ks[1:]:
            parent[find(k)] = find(ks[0])
    blocks: dict[int, list[int]] = {}
    for k in range(len(names)):
        blocks.setdefault(find(k), []).append(k)
    return list(blocks.values())


def _links(scenario: Scenario, block: list[int]) -> list[tuple[set[int], Any]]:
    """The cross-issue constraints and synergies inside a block, each with its issue positions."""
    names = scenario.issue_names
    inside = set(block)
    out: list[tuple[set[int], Any]] = []
    for c in scenario.constraints:
        ks = {names.index(i) for i in c.issue_names}
        if len(ks) > 1 and ks <= inside:
            out.append((ks, c))
    return out


def _synergy_links(tables: UtilityTables, block: list[int]) -> list[tuple[set[int], Any]]:
    inside = set(block)
    return [({s.i, s.j}, s) for s in tables.synergies if s.i != s.j and {s.i, s.j} <= inside]


def _elimination_order(
    block: list[int], sizes: dict[int, int], links: list[set[int]]
) -> tuple[list[int], int]:
    """A merge order for a block (greedy: smallest next state space) and its largest state count.

    After merging some issues, the *state* of a partial package is its options on the merged
    issues still linked to an unmerged one; partial packages are only compared within a state."""
    merged: list[int] = []
    left = set(block)
    worst = 1
    while left:
        best = None
        for k in sorted(left):
            rest = left - {k}
            active = [i for i in [*merged, k] if any(i in g and g & rest for g in links)]
            states = math.prod(sizes[i] for i in active)
            key = (states, sizes[k], k)
            if best is None or key < best[0]:
                best = (key, k)
        (states, _, _), k = best  # type: ignore[misc]
        worst = max(worst, states)
        merged.append(k)
        left.discard(k)
    return merged, worst


def fast_path_reason(
    scenario: Scenario, block_limit: int = BLOCK_LIMIT, tables: UtilityTables | None = None
) -> str | None:
    """Why the fast path does not apply (None when it does): merging a group of issues linked by
    constraints or synergies would need more than ``block_limit`` states."""
    tables = tables or UtilityTables.build(scenario)
    allowed = allowed_options(scenario)
    sizes = {k: max(1, len(a)) for k, a in enumerate(allowed)}
    names = scenario.issue_names
    for block in issue_blocks(scenario):
        if len(block) == 1:
            continue
        links = [g for g, _ in _links(scenario, block) + _synergy_links(tables, block)]
        _, states = _elimination_order(block, sizes, links)
        if states > block_limit:
            shown = ", ".join(repr(names[k]) for k in block[:4])
            more = f" and {len(block) - 4} more" if len(block) > 4 else ""
            return (
                f"the linked issues {shown}{more} (joined by constraints or synergies) need "
                f"{states:,} merge states, more than {block_limit:,}"
            )
    return None


def _block_options(
    scenario: Scenario,
    tables: UtilityTables,
    block: list[int],
    allowed: list[np.ndarray],
    costs: list[np.ndarray],
    dims: list[int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A block's non-dominated feasible joint options: (combos (n, len(block)) grid positions,
    utility vectors (n, len(dims)), change costs (n,)).

    The issues are merged one at a time (``_elimination_order``); a constraint is checked, and a
    synergy bonus added, as soon as all its issues are merged. Partial packages are pruned only
    against partial packages in the same state (the same options on the merged issues that are
    still linked to unmerged ones): two such partial packages meet exactly the same remaining
    constraints and bonuses with every completion, so the translation argument of the module
    docstring applies within a state.
    """
    n_issues = len(scenario.issues)
    constraint_links = _links(scenario, block)
    synergy_links = [(g, syn) for g, syn in _synergy_links(tables, block) if syn.party in dims]
    all_links = [g for g, _ in constraint_links] + [g for g, _ in _synergy_links(tables, block)]
    sizes = {k: max(1, len(allowed[k])) for k in block}
    order, _ = _elimination_order(block, sizes, all_links)
    merged: list[int] = []
    full = np.zeros((1, n_issues), dtype=np.int64)  # partial packages (unmerged columns: 0)
    P = np.zeros((1, len(dims)))
    cost = np.zeros(1)
    for step, k in enumerate(order):
        opts = allowed[k]
        m = len(opts)
        full = np.repeat(full, m, axis=0)
        full[:, k] = np.tile(opts, len(full) // m)
        P = np.repeat(P, m, axis=0)
        cost = np.repeat(cost, m) + np.tile(costs[k][opts], len(cost))
        for col, p in enumerate(dims):
            P[:, col] += tables.tables[p][k][full[:, k]]
        done = set(merged) | {k}
        ok = np.ones(len(full), dtype=bool)
        for g, c in constraint_links:
            if k in g and g <= done:
                ok &= constraint_mask(scenario, c, full)
        for g, syn in synergy_links:
            if k in g and g <= done:
                hit = np.isin(full[:, syn.i], syn.a) & np.isin(full[:, syn.j], syn.b)
                P[:, dims.index(syn.party)] += syn.bonus * hit
        full, P, cost = full[ok], P[ok], cost[ok]
        merged.append(k)
        rest = set(order[step + 1 :])
        active = [i for i in merged if any(i in g and g & rest for g in all_links)]
        if len(full) == 0:
            break
        if active:
            _, group = np.unique(full[:, active], axis=0, return_inverse=True)
            group = group.reshape(-1)
            keep_parts = []
            by_group = np.argsort(group, kind="stable")
            bounds = np.flatnonzero(np.diff(group[by_group])) + 1
            for rows in np.split(by_group, bounds):
                keep_parts.append(rows[nondominated(P[rows], cost[rows])])
            keep = np.concatenate(keep_parts)
        else:
            keep = nondominated(P, cost)
        full, P, cost = full[keep], P[keep], cost[keep]
    return full[:, block], P, cost


def fast_frontier(
    scenario: Scenario,
    parties: list[int],
    *,
    tables: UtilityTables | None = None,
    max_points: int = MAX_POINTS,
    block_limit: int = BLOCK_LIMIT,
    cap: int | None = None,
) -> FastFrontier:
    """The exact frontier over ``parties`` (party positions) by merging per-issue Pareto sets.

    Issues linked by a cross-issue constraint or a synergy form a block whose own frontier is
    computed first (``_block_options``). Raises FastPathNotApplicable when a block needs more than
    ``block_limit`` merge states or a partial frontier grows past ``max_points``.

    Bounded work (issue 15): with ``cap``, a partial frontier larger than ``cap`` is thinned to
    ``cap`` points spread along it (``spread``; ``capped`` is set) instead of growing; when the
    time budget runs out (``optimizer.engine.budget``) the merges stop, each remaining block
    keeps its least disruptive option and ``stopped`` is set. Either way every returned package
    is feasible and the set is non-dominated among itself, but it is not the exact frontier.
    """
    tables = tables or UtilityTables.build(scenario)
    reason = fast_path_reason(scenario, block_limit, tables)
    if reason is not None:
        raise FastPathNotApplicable(reason)
    n_parties = len(scenario.parties)
    reservation = reservation_vector(scenario)
    extra = [p for p in range(n_parties) if p not in parties and reservation[p] > -np.inf]
    dims = list(parties) + extra
    allowed = allowed_options(scenario)
    costs = change_costs(scenario)
    blocks = issue_blocks(scenario)
    n_issues = len(scenario.issues)
    empty = FastFrontier(
        np.zeros((0, n_issues), dtype=np.int64), np.zeros((0, n_parties)), list(parties), blocks, 0
    )
    if any(len(a) == 0 for a in allowed):  # an issue has no acceptable option left
        return empty

    # Per block: its feasible (joint) options' utility vectors, pruned to their own frontier.
    per_block: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for block in blocks:
        combos, P, c = _block_options(scenario, tables, block, allowed, costs, dims)
        if len(combos) == 0:
            return empty
        keep = nondominated(P, c)
        per_block.append((combos[keep], P[keep], c[keep]))

    # Merge the smallest sets first so partial frontiers stay small for longer.
    S = np.zeros((1, len(dims)))
    S_cost = np.zeros(1)
    parents: list[np.ndarray] = []
    choices: list[np.ndarray] = []
    order = sorted(range(len(blocks)), key=lambda b: len(per_block[b][0]))
    largest = 1
    capped = stopped = False

    def translate(choice: int, P: np.ndarray, c: np.ndarray) -> None:
        nonlocal S, S_cost
        S = S + P[choice]
        S_cost = S_cost + c[choice]
        parents.append(np.arange(len(S)))
        choices.append(np.full(len(S), choice, dtype=np.int64))

    for b in order:
        combos, P, c = per_block[b]
        m = len(combos)
        if stopped or m == 1:  # a single option is a translation: no new points
            # Out of time: the block keeps its least disruptive option (then the best total).
            translate(0 if m == 1 else int(np.lexsort((-P.sum(axis=1), c))[0]), P, c)
            continue
        if len(dims) > 2 and len(S) * m > MAX_ND_POINTS:
            raise FastPathNotApplicable(
                f"a {len(dims)}-party merge would filter {len(S) * m:,} points "
                f"(more than {MAX_ND_POINTS:,})"
            )
        cand = (S[:, None, :] + P[None, :, :]).reshape(-1, len(dims))
        cand_cost = (S_cost[:, None] + c[None, :]).reshape(-1)
        largest = max(largest, len(cand))
        try:
            check_time()
            keep = nondominated(cand, cand_cost)
        except TimeLimitReached:
            stopped = True
            translate(int(np.lexsort((-P.sum(axis=1), c))[0]), P, c)
            continue
        if cap is not None and len(keep) > cap:
            keep = keep[spread(cand[keep], cap)]
            capped = True
        parents.append(keep // m)
        choices.append(keep % m)
        S, S_cost = cand[keep], cand_cost[keep]
        if len(S) > max_points:
            raise FastPathNotApplicable(
                f"a partial frontier has {len(S):,} points (more than {max_points:,})"
            )

    # Trace every final point back to its package.
    index = np.empty((len(S), n_issues), dtype=np.int64)
    rows = np.arange(len(S))
    for step in range(len(order) - 1, -1, -1):
        block = blocks[order[step]]
        index[:, block] = per_block[order[step]][0][choices[step][rows]]
        rows = parents[step][rows]

    U = tables.evaluate(index)
    ok = np.all(U - reservation >= -TIE_TOL, axis=1)
    index, U, S_cost = index[ok], U[ok], S_cost[ok]
    try:
        keep = nondominated(U[:, parties], S_cost)  # also projects the extra dimensions away
    except TimeLimitReached:  # out of time in the last filter: filter a bounded sample
        stopped = True
        sample = spread(U[:, parties], CLEANUP_POINTS)
        with cleanup_after_budget():
            keep = sample[nondominated(U[sample][:, parties], S_cost[sample])]
    return FastFrontier(
        index[keep], U[keep], list(parties), blocks, largest, capped=capped, stopped=stopped
    )
