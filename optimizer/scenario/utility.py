"""Vectorised utility evaluation (numpy): the scenario's own, authoritative utility function.

``UtilityTables`` turns a scenario into per-party, per-issue arrays of utility points (weight share
x normalised value x scale), so the utility of a package is a sum of table look-ups plus synergy
bonuses. Everything else (the MILP's objective rows, the fast frontier path, sampling) is checked
against this evaluator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from optimizer.scenario.models import Party, Scenario


def issue_values(scenario: Scenario, party: Party, issue_pos: int, score=None) -> np.ndarray:
    """Normalised values in [0, 1] of every grid point of one issue for one party.

    ``score`` maps an estimate (number or Range) to a number; the default is the point estimate.
    """
    from optimizer.scenario.models import ValueShape, point

    score = score or point
    issue = scenario.issues[issue_pos]
    spec = party.preferences.values.get(issue.name)
    n = issue.size
    if spec is None:
        return np.zeros(n)
    if isinstance(spec, ValueShape):
        return spec.evaluate(issue.grid(), float(issue.min), float(issue.max))
    raw = np.array(
        [float(score(spec[o])) if o in spec else 0.0 for o in issue.options], dtype=float
    )
    top = raw.max() if n else 0.0
    if top < 1e-5:
        return np.zeros(n)
    return raw / top


def weight_shares(scenario: Scenario, party: Party, score=None) -> np.ndarray:
    """A party's weights divided by their sum, in issue order (0 for unweighted issues)."""
    from optimizer.scenario.models import point

    score = score or point
    w = np.array(
        [
            float(score(party.preferences.weights[i.name]))
            if i.name in party.preferences.weights
            else 0.0
            for i in scenario.issues
        ],
        dtype=float,
    )
    top = w.max() if len(w) else 0.0
    if not top > 0:
        return w
    w = w / top  # first to [0, 1], so that huge weights cannot overflow the sum
    return w / w.sum()


@dataclass
class SynergyTerm:
    """A bonus for one party when issue ``i`` takes position ``a`` and issue ``j`` position ``b``."""

    party: int
    i: int
    a: np.ndarray
    j: int
    b: np.ndarray
    bonus: float


@dataclass
class UtilityTables:
    """Per-party utility tables: ``tables[p][k][x]`` is the points party p gets from issue k at x."""

    parties: list[str]
    issues: list[str]
    tables: list[list[np.ndarray]]
    synergies: list[SynergyTerm] = field(default_factory=list)
    scale: float = 100.0

    @classmethod
    def build(cls, scenario: Scenario, score=None) -> UtilityTables:
        """Tables at the point estimates (or at ``score(estimate)`` for sampling)."""
        tables: list[list[np.ndarray]] = []
        syn: list[SynergyTerm] = []
        names = scenario.issue_names
        for p_idx, party in enumerate(scenario.parties):
            shares = weight_shares(scenario, party, score)
            scale = (
                party.utility_scale if party.utility_scale is not None else scenario.utility_scale
            )
            tables.append(
                [
                    scale * shares[k] * issue_values(scenario, party, k, score)
                    for k in range(len(scenario.issues))
                ]
            )
            for s in party.preferences.synergies:
                (i_name, a_val), (j_name, b_val) = list(s.when.items())
                syn.append(
                    SynergyTerm(
                        party=p_idx,
                        i=names.index(i_name),
                        a=scenario.condition_indices(i_name, a_val),
                        j=names.index(j_name),
                        b=scenario.condition_indices(j_name, b_val),
                        bonus=float(s.bonus),
                    )
                )
        return cls(scenario.party_names, names, tables, syn, scenario.utility_scale)

    def party_index(self, party: str) -> int:
        try:
            return self.parties.index(party)
        except ValueError:
            raise KeyError(f"no party named {party!r}") from None

    def evaluate(self, index: np.ndarray) -> np.ndarray:
        """Utilities of packages given as grid positions: (n, n_issues) -> (n, n_parties)."""
        index = np.asarray(index, dtype=np.int64)
        if index.ndim == 1:
            index = index[None, :]
        n = index.shape[0]
        out = np.zeros((n, len(self.parties)))
        for p, row in enumerate(self.tables):
            acc = out[:, p]
            for k, tab in enumerate(row):
                acc += tab[index[:, k]]
        for s in self.synergies:
            hit = np.isin(index[:, s.i], s.a) & np.isin(index[:, s.j], s.b)
            out[:, s.party] += s.bonus * hit
        return out

    def upper_bound(self, party: int) -> float:
        """Best utility a party could get ignoring constraints (exact without synergies)."""
        best = sum(float(t.max()) for t in self.tables[party])
        best += sum(max(0.0, s.bonus) for s in self.synergies if s.party == party)
        return best

    @property
    def separable(self) -> bool:
        """True when utilities are sums of per-issue terms (no synergies)."""
        return not self.synergies


def reference_utilities(scenario: Scenario, tables: UtilityTables | None = None) -> np.ndarray:
    """The base each party must not fall below: the deal on the table's utility, else its
    reservation value, else 0."""
    ref = scenario.reference()
    if ref is not None:
        tables = tables or UtilityTables.build(scenario)
        return tables.evaluate(scenario.encode(ref)[None, :])[0]
    return np.array([scenario.reservation(p) or 0.0 for p in scenario.party_names], dtype=float)
