"""Solution concepts on a set of utility vectors (numpy), so the frontier, the UI and tests share them.

Every function takes ``U``, an ``(n_points, n_parties)`` array of utilities (usually the Pareto
frontier), and ``d``, the disagreement point (each party's reservation value, 0 when it has none),
and returns the row index of the chosen point, or ``None`` when the concept is undefined.

* ``utilitarian``: the largest sum of utilities (max joint gain).
* ``egalitarian``: the largest smallest gain over the disagreement point (max-min).
* ``nash``: the largest product of gains, over points where every gain is positive (Nash
  bargaining); undefined when no point gives every party a gain.
* ``kalai_smorodinsky``: with the ideal point ``I`` (each party's best utility in ``U``), the
  point maximising ``min_p (U_p - d_p) / (I_p - d_p)``: the frontier point on (or nearest, in the
  max-min sense, to) the segment from ``d`` to ``I``. Parties with ``I_p <= d_p`` are left out.

Maximising over the frontier gives the same value as maximising over every feasible package (a
maximiser is weakly dominated by a frontier point, which scores at least as well), so these are the
concept points of the whole negotiation. Ties (within 1e-9; Nash: products within a relative
1e-12) are broken the same way for every concept: by the larger total gain (the sum of utilities),
then by the lower index, so the result is deterministic. The utilitarian point's ties, whose
totals are equal by definition, go to the larger smallest gain.
"""

from __future__ import annotations

import numpy as np

from optimizer.scenario.models import TIE_TOL

CONCEPTS: tuple[str, ...] = ("utilitarian", "egalitarian", "nash", "kalai_smorodinsky")


def _as_arrays(U: np.ndarray, d: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    U = np.asarray(U, dtype=float)
    if U.ndim != 2:
        raise ValueError("utilities must be an (n_points, n_parties) array")
    d = np.zeros(U.shape[1]) if d is None else np.asarray(d, dtype=float).reshape(-1)
    if d.shape[0] != U.shape[1]:
        raise ValueError("the disagreement point needs one value per party")
    return U, d


def _argmax_tiebreak(score: np.ndarray, tiebreak: np.ndarray, tol: float = TIE_TOL) -> int:
    """Index of the largest ``score`` (ties within ``tol``), then the largest ``tiebreak``."""
    best = score.max()
    cand = np.flatnonzero(score >= best - tol)
    return int(cand[np.argmax(tiebreak[cand])])


def utilitarian(U: np.ndarray, d: np.ndarray | None = None) -> int | None:
    """Index of the point with the largest sum of utilities (None when ``U`` is empty)."""
    U, d = _as_arrays(U, d)
    if len(U) == 0:
        return None
    total = U.sum(axis=1)
    return _argmax_tiebreak(total, (U - d).min(axis=1))


def egalitarian(U: np.ndarray, d: np.ndarray | None = None) -> int | None:
    """Index of the point with the largest smallest gain ``min_p (U_p - d_p)``."""
    U, d = _as_arrays(U, d)
    if len(U) == 0:
        return None
    return _argmax_tiebreak((U - d).min(axis=1), U.sum(axis=1))


def nash(U: np.ndarray, d: np.ndarray | None = None) -> int | None:
    """Index of the point with the largest product of gains; None when no point gains for all.

    The product is compared in log space (a sum of logs), which keeps many parties and large
    scales free of overflow; ties are products within a relative 1e-12."""
    U, d = _as_arrays(U, d)
    if len(U) == 0:
        return None
    gains = U - d
    ok = np.all(gains > TIE_TOL, axis=1)
    if not ok.any():
        return None
    logs = np.full(len(U), -np.inf)
    logs[ok] = np.log(gains[ok]).sum(axis=1)
    return _argmax_tiebreak(logs, U.sum(axis=1), tol=1e-12)


def ideal_point(U: np.ndarray) -> np.ndarray:
    """Each party's best utility over the points (the ideal, or utopia, point)."""
    U = np.asarray(U, dtype=float)
    return U.max(axis=0)


def kalai_smorodinsky(U: np.ndarray, d: np.ndarray | None = None) -> int | None:
    """Index of the point maximising the smallest normalised gain ``(U_p - d_p) / (I_p - d_p)``;
    ties go to the larger total gain (the module's rule), not the larger normalised sum."""
    U, d = _as_arrays(U, d)
    if len(U) == 0:
        return None
    span = ideal_point(U) - d
    use = span > TIE_TOL
    if not use.any():
        return _argmax_tiebreak(U.sum(axis=1), U.sum(axis=1))
    norm = (U[:, use] - d[use]) / span[use]
    return _argmax_tiebreak(norm.min(axis=1), U.sum(axis=1))


def solution_concepts(U: np.ndarray, d: np.ndarray | None = None) -> dict[str, int]:
    """Every defined concept -> index into ``U`` (undefined concepts are left out)."""
    out: dict[str, int] = {}
    for name, fn in (
        ("utilitarian", utilitarian),
        ("egalitarian", egalitarian),
        ("nash", nash),
        ("kalai_smorodinsky", kalai_smorodinsky),
    ):
        k = fn(U, d)
        if k is not None:
            out[name] = k
    return out
