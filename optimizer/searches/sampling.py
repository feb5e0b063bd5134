"""Sampling the estimate ranges: per-sample utilities, acceptance and win-win probabilities (numpy).

Every estimated number about a party (an issue weight, a categorical option score, a numeric
reservation value) is an *estimate*: a number or a ``low / likely / high`` range. This module draws
``n`` joint samples of all of them (independently, triangular by default or PERT), rebuilds each
party's per-issue utility tables for every sample with the model's scaling rules (weights divided by
their sum per sample, option scores divided by the issue's largest score per sample) and evaluates
many packages under all samples at once.

For a set of packages (grid positions, as ``Scenario.encode`` gives them) ``package_stats`` returns,
per package:

* ``acceptance[p]``: share of samples in which party p's utility is >= its sampled reservation value
  (1 when the party has none);
* ``p_win_win``: share of samples in which the package is Pareto-improving over the reference,
  every party's utility >= its reference utility (up to ``TIE_TOL``) and at least one party's
  strictly above it, the reference utility being recomputed in the same sample. With no deal on
  the table the reference is each party's sampled reservation value (0 when it has none);
* the expected gain over the reference and its 10th-90th percentile band, per party.

``annotate`` writes these onto the packages of an ``ImproveResult`` or ``FrontierResult``.
Sampling uses one ``numpy.random.default_rng(seed)`` and draws uniforms for the uncertain estimates
in a fixed order, so a run is reproducible from ``(samples, seed, distribution)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from optimizer.errors import TooLargeError
from optimizer.scenario.models import TIE_TOL, PackageRef, Range, ValueShape, is_uncertain, point

if TYPE_CHECKING:
    from optimizer.engine.results import FrontierResult, ImproveResult
    from optimizer.scenario.models import Scenario
    from optimizer.scenario.utility import SynergyTerm

Distribution = Literal["triangular", "pert"]
DISTRIBUTIONS: tuple[str, ...] = ("triangular", "pert")

ParamKind = Literal["weight", "score", "reservation"]


class Param(BaseModel):
    """One estimated number about a party: a weight, an option score or a reservation value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ParamKind
    party: str
    issue: str | None = None
    option: str | None = None
    low: float
    likely: float
    high: float

    @property
    def key(self) -> str:
        """A stable identifier, e.g. ``weight/CloudDesk/price per seat``."""
        parts = [self.kind, self.party] + [x for x in (self.issue, self.option) if x is not None]
        return "/".join(parts)

    @property
    def uncertain(self) -> bool:
        return self.high > self.low

    @property
    def label(self) -> str:
        """The estimate in words: "CloudDesk's weight on price per seat"."""
        if self.kind == "weight":
            return f"{self.party}'s weight on {self.issue}"
        if self.kind == "score":
            return f"{self.party}'s score for {self.option} ({self.issue})"
        return f"{self.party}'s walk-away point"


def estimates(scenario: Scenario) -> list[Param]:
    """Every numeric estimate of the scenario (point or range), in a fixed order.

    Order: per party, its weights (issue order), its categorical option scores (issue then option
    order), its reservation value when it is a number or a range. Package-valued reservation values
    are not estimates themselves (their utility is recomputed per sample).
    """
    out: list[Param] = []
    for party in scenario.parties:
        prefs = party.preferences
        for issue in scenario.issues:
            if issue.name in prefs.weights:
                out.append(_param("weight", party.name, prefs.weights[issue.name], issue.name))
        for issue in scenario.issues:
            spec = prefs.values.get(issue.name)
            if spec is None or isinstance(spec, ValueShape) or issue.options is None:
                continue
            for opt in issue.options:
                if opt in spec:
                    out.append(_param("score", party.name, spec[opt], issue.name, opt))
        rv = party.reservation_value
        if rv is not None and not isinstance(rv, PackageRef):
            out.append(_param("reservation", party.name, rv))
    return out


def _param(
    kind: ParamKind,
    party: str,
    est: float | Range,
    issue: str | None = None,
    option: str | None = None,
) -> Param:
    if isinstance(est, Range):
        lo, mid, hi = est.low, est.likely, est.high
    else:
        lo = mid = hi = float(est)
    return Param(kind=kind, party=party, issue=issue, option=option, low=lo, likely=mid, high=hi)


def uncertain_parameters(scenario: Scenario) -> list[Param]:
    """The estimates given as ranges of positive width (the ones sampling varies)."""
    return [p for p in estimates(scenario) if p.uncertain]


def has_ranges(scenario: Scenario) -> bool:
    """True when any weight, option score or reservation value is a range of positive width."""
    for party in scenario.parties:
        prefs = party.preferences
        if any(is_uncertain(w) for w in prefs.weights.values()):
            return True
        for spec in prefs.values.values():
            if not isinstance(spec, ValueShape) and any(is_uncertain(s) for s in spec.values()):
                return True
        if is_uncertain(party.reservation_value):  # type: ignore[arg-type]
            return True
    return False


def draw(
    params: list[Param],
    n: int,
    *,
    seed: int | None = 0,
    distribution: Distribution = "triangular",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """``n`` joint samples of the estimates: an (n, len(params)) array.

    Point estimates are repeated exactly; each range is drawn independently, triangular on
    (low, likely, high) by inverse transform of one uniform per sample, or PERT (a beta on
    [low, high] with shape parameters 1 + 4 (likely - low) / (high - low) and
    1 + 4 (high - likely) / (high - low)).
    """
    if n < 1:
        raise ValueError("the number of samples must be at least 1")
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"unknown distribution {distribution!r} (use triangular or pert)")
    rng = rng if rng is not None else np.random.default_rng(seed)
    lo = np.array([p.low for p in params], dtype=float)
    mid = np.array([p.likely for p in params], dtype=float)
    hi = np.array([p.high for p in params], dtype=float)
    theta = np.broadcast_to(mid, (n, len(params))).copy()
    cols = np.flatnonzero(hi > lo)
    if cols.size == 0:
        return theta
    a, c, b = lo[cols], mid[cols], hi[cols]
    width = b - a
    if distribution == "triangular":
        u = rng.random((n, cols.size))
        split = (c - a) / width
        left = a + np.sqrt(u * width * (c - a))
        right = b - np.sqrt((1.0 - u) * width * (b - c))
        theta[:, cols] = np.where(u < split, left, right)
    else:
        alpha = 1.0 + 4.0 * (c - a) / width
        beta = 1.0 + 4.0 * (b - c) / width
        theta[:, cols] = a + width * rng.beta(alpha, beta, size=(n, cols.size))
    return theta


# --------------------------------------------------------------------------------------------
# Sampled utility tables
# --------------------------------------------------------------------------------------------


@dataclass
class SampleSet:
    """Per-party, per-issue utility tables for ``n`` samples (rows of 1 are shared by all).

    ``coef[p]`` is (n|1, n_issues): utility scale x weight share; ``values[p][k]`` is
    (n|1, issue size): normalised values in [0, 1]; ``reservation`` is (n, n_parties) with NaN
    where a party has no walk-away point.
    """

    parties: list[str]
    n: int
    coef: list[np.ndarray]
    values: list[list[np.ndarray]]
    synergies: list[SynergyTerm]
    reservation: np.ndarray
    theta: np.ndarray
    params: list[Param]

    @classmethod
    def build(cls, scenario: Scenario, theta: np.ndarray, params: list[Param]) -> SampleSet:
        """Tables for the estimate values ``theta`` (n, len(params)), as ``estimates`` orders them."""
        from optimizer.scenario.utility import UtilityTables

        theta = np.asarray(theta, dtype=float)
        if theta.ndim != 2 or theta.shape[1] != len(params):
            raise ValueError("theta must be an (n, len(params)) array")
        n = theta.shape[0]
        col = {p.key: j for j, p in enumerate(params)}
        names = scenario.issue_names
        scale = float(scenario.utility_scale)
        coef: list[np.ndarray] = []
        values: list[list[np.ndarray]] = []
        res = np.full((n, len(scenario.parties)), np.nan)
        for p_idx, party in enumerate(scenario.parties):
            w_cols = [(k, col.get(f"weight/{party.name}/{name}")) for k, name in enumerate(names)]
            varying = any(j is not None and _varies(theta[:, j]) for _, j in w_cols)
            rows = n if varying else 1
            w = np.zeros((rows, len(names)))
            for k, j in w_cols:
                if j is not None:
                    w[:, k] = theta[:rows, j]
            # as utility.weight_shares: divided by the largest first (no overflow), then by the sum
            top = w.max(axis=1, keepdims=True)
            w = np.divide(w, top, out=np.zeros_like(w), where=top > 0)
            total = w.sum(axis=1, keepdims=True)
            shares = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
            p_scale = float(party.utility_scale) if party.utility_scale is not None else scale
            coef.append(p_scale * shares)
            row_vals: list[np.ndarray] = []
            for issue in scenario.issues:
                spec = party.preferences.values.get(issue.name)
                if spec is None:
                    row_vals.append(np.zeros((1, issue.size)))
                elif isinstance(spec, ValueShape):
                    row_vals.append(
                        spec.evaluate(issue.grid(), float(issue.min), float(issue.max))[None, :]
                    )
                else:
                    o_cols = [
                        col.get(f"score/{party.name}/{issue.name}/{o}")
                        for o in issue.options  # type: ignore[union-attr]
                    ]
                    v_rows = n if any(j is not None and _varies(theta[:, j]) for j in o_cols) else 1
                    raw = np.zeros((v_rows, issue.size))
                    for o, j in enumerate(o_cols):
                        if j is not None:
                            raw[:, o] = theta[:v_rows, j]
                    top = raw.max(axis=1, keepdims=True)
                    row_vals.append(np.divide(raw, top, out=np.zeros_like(raw), where=top >= 1e-5))
            values.append(row_vals)
            j = col.get(f"reservation/{party.name}")
            if j is not None:
                res[:, p_idx] = theta[:, j]
        syn = UtilityTables.build(scenario).synergies
        out = cls(scenario.party_names, n, coef, values, syn, res, theta, params)
        for p_idx, party in enumerate(scenario.parties):
            if isinstance(party.reservation_value, PackageRef):
                x = scenario.encode(party.reservation_value.package)[None, :]
                out.reservation[:, p_idx] = out.utilities(x)[:, 0, p_idx]
        return out

    def utilities(self, index: np.ndarray) -> np.ndarray:
        """Utilities of packages (m, n_issues grid positions) in every sample: (n, m, n_parties)."""
        index = np.asarray(index, dtype=np.int64)
        if index.ndim == 1:
            index = index[None, :]
        m = index.shape[0]
        out = np.zeros((self.n, m, len(self.parties)))
        for p in range(len(self.parties)):
            acc = np.zeros((self.n, m))
            c = self.coef[p]
            for k, vals in enumerate(self.values[p]):
                acc += c[:, k : k + 1] * vals[:, index[:, k]]
            out[:, :, p] = acc
        for s in self.synergies:
            hit = np.isin(index[:, s.i], s.a) & np.isin(index[:, s.j], s.b)
            out[:, :, s.party] += s.bonus * hit[None, :]
        return out

    def issue_tables(self, party: int) -> list[np.ndarray]:
        """Per issue, the (n, size) utility points party ``party`` gets in each sample."""
        c = self.coef[party]
        return [
            np.broadcast_to(c[:, k : k + 1] * vals, (self.n, vals.shape[1]))
            for k, vals in enumerate(self.values[party])
        ]


def _varies(col: np.ndarray) -> bool:
    return bool(col.size) and bool(np.any(col != col[0]))


def sample(
    scenario: Scenario,
    n: int = 10000,
    *,
    seed: int | None = 0,
    distribution: Distribution = "triangular",
) -> SampleSet:
    """Draw ``n`` joint samples of the scenario's estimates and build their utility tables.

    Refuses (``TooLargeError``, before allocating) when the tables would need more than
    ``MAX_SAMPLE_BYTES``."""
    params = estimates(scenario)
    need = sample_bytes(scenario, params, n)
    if need > MAX_SAMPLE_BYTES:
        per = max(1, need // max(1, n))
        raise TooLargeError(
            f"{n:,} samples of this scenario's estimate ranges need about {_size(need)} of memory "
            f"(more than {_size(MAX_SAMPLE_BYTES)}); at most {MAX_SAMPLE_BYTES // per:,} samples fit"
        )
    return SampleSet.build(scenario, draw(params, n, seed=seed, distribution=distribution), params)


#: The most memory the sample tables of one run may take (``sample`` refuses beyond it).
MAX_SAMPLE_BYTES = 1 << 30

#: Package statistics are computed this many (sample, package, party) cells at a time.
STATS_CELLS = 4_000_000


def sample_bytes(scenario: Scenario, params: list[Param], n: int) -> int:
    """Bytes the sample tables of ``n`` samples take: the draws, plus per party a weight row per
    sample when a weight varies and a value row per sample for each issue whose scores vary."""
    varying = [p for p in params if p.uncertain]
    cells = len(params)
    for party in scenario.party_names:
        mine = [p for p in varying if p.party == party]
        if any(p.kind == "weight" for p in mine):
            cells += len(scenario.issues)
        for issue in {p.issue for p in mine if p.kind == "score"}:
            cells += scenario.issue(issue).size  # type: ignore[arg-type]
        cells += 1  # the reservation column
    return 8 * n * cells


def _size(nbytes: int) -> str:
    return f"{nbytes / 2**30:.1f} GiB" if nbytes >= 2**30 else f"{nbytes / 2**20:.0f} MiB"


def reference_utilities(scenario: Scenario, samples: SampleSet) -> np.ndarray:
    """Each party's reference utility in every sample: (n, n_parties).

    The deal on the table when there is one; with no deal, each party's reservation value
    (0 for a party without one)."""
    ref = scenario.reference()
    if ref is not None:
        return samples.utilities(scenario.encode(ref)[None, :])[:, 0, :]
    return np.nan_to_num(samples.reservation, nan=0.0)


# --------------------------------------------------------------------------------------------
# Package statistics
# --------------------------------------------------------------------------------------------


def win_win_mask(utilities: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(n, m) booleans: Pareto-improving in each sample (all >= reference, one strictly above).

    ``utilities`` is (n, m, n_parties), ``reference`` (n, n_parties)."""
    gains = utilities - reference[:, None, :]
    return np.all(gains >= -TIE_TOL, axis=2) & np.any(gains > TIE_TOL, axis=2)


def accept_mask(utilities: np.ndarray, reservation: np.ndarray) -> np.ndarray:
    """(n, m, n_parties) booleans: utility >= reservation value (True where there is none)."""
    res = reservation[:, None, :]
    return np.isnan(res) | (utilities >= res - TIE_TOL)


class PackageStats(BaseModel):
    """Sampled statistics of packages (lists indexed like the packages given)."""

    model_config = ConfigDict(extra="forbid")

    parties: list[str]
    samples: int
    seed: int | None
    distribution: str
    p_win_win: list[float]
    acceptance: list[dict[str, float]]
    expected_gain: list[dict[str, float]]
    gain_p10: list[dict[str, float]]
    gain_p90: list[dict[str, float]]
    win_win_count: list[int]


def package_stats(
    scenario: Scenario,
    index: np.ndarray,
    samples: SampleSet,
    *,
    seed: int | None = None,
    distribution: str = "triangular",
) -> PackageStats:
    """Acceptance, win-win probability and gain band of packages (m, n_issues) over ``samples``."""
    index = np.asarray(index, dtype=np.int64).reshape(-1, len(scenario.issues))
    ref = reference_utilities(scenario, samples)
    # In chunks of packages: (samples x packages x parties) arrays stay bounded (issue 15).
    step = max(1, STATS_CELLS // max(1, samples.n * len(samples.parties)))
    parts: list[tuple[np.ndarray, ...]] = []
    for a in range(0, len(index), step):
        u = samples.utilities(index[a : a + step])
        gains = u - ref[:, None, :]
        mean_c = gains.mean(axis=0)
        p10_c, p90_c = np.percentile(gains, [10, 90], axis=0) if samples.n else (mean_c, mean_c)
        parts.append(
            (
                win_win_mask(u, ref).sum(axis=0),
                accept_mask(u, samples.reservation).mean(axis=0),
                mean_c,
                p10_c,
                p90_c,
            )
        )
    m, k = len(index), len(samples.parties)
    if parts:
        count, acc, mean, p10, p90 = (np.concatenate(c) for c in zip(*parts, strict=True))
    else:
        count, acc, mean, p10, p90 = np.zeros(0), *(np.zeros((m, k)) for _ in range(4))
    names = samples.parties

    def per_party(a: np.ndarray) -> list[dict[str, float]]:
        return [{nm: float(a[i, j]) for j, nm in enumerate(names)} for i in range(a.shape[0])]

    return PackageStats(
        parties=names,
        samples=samples.n,
        seed=seed,
        distribution=distribution,
        p_win_win=[float(c) / samples.n for c in count],
        acceptance=per_party(acc),
        expected_gain=per_party(mean),
        gain_p10=per_party(p10),
        gain_p90=per_party(p90),
        win_win_count=[int(c) for c in count],
    )


def annotate(
    scenario: Scenario,
    result: ImproveResult | FrontierResult,
    *,
    samples: int = 10000,
    seed: int = 0,
    distribution: Distribution = "triangular",
) -> None:
    """Fill ``p_win_win``, ``acceptance`` and the gain band of every package, in place.

    Does nothing when the scenario has no ranges or the result has no packages. The band goes in
    ``PackageResult.extra`` as ``expected_gain`` {party: gain} and ``gain_band``
    {party: [10th, 90th percentile]}, with ``uncertainty`` {samples, seed, distribution}.
    """
    if not result.packages or not has_ranges(scenario):
        return
    index = np.array([scenario.encode(p.package) for p in result.packages], dtype=np.int64)
    stats = package_stats(
        scenario,
        index,
        sample(scenario, samples, seed=seed, distribution=distribution),
        seed=seed,
        distribution=distribution,
    )
    for i, pkg in enumerate(result.packages):
        pkg.p_win_win = stats.p_win_win[i]
        pkg.acceptance = stats.acceptance[i]
        pkg.extra = {
            **pkg.extra,
            "expected_gain": stats.expected_gain[i],
            "gain_band": {
                nm: [stats.gain_p10[i][nm], stats.gain_p90[i][nm]] for nm in stats.parties
            },
            "uncertainty": {"samples": samples, "seed": seed, "distribution": distribution},
        }


def point_utilities(scenario: Scenario, index: np.ndarray) -> np.ndarray:
    """Utilities at the point estimates (likely values): (m, n_parties)."""
    return scenario.utilities(np.asarray(index, dtype=np.int64))


def describe_range(est: Any) -> str:
    """An estimate as text: ``30 / 40 / 50`` for a range, the number otherwise."""
    from optimizer.scenario.models import format_number

    if isinstance(est, Range):
        return " / ".join(format_number(x) for x in (est.low, est.likely, est.high))
    return format_number(float(point(est)))  # type: ignore[arg-type]
