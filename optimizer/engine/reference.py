"""Is the deal on the table a possible deal? The hard rules it breaks, and rules that contradict.

A reference deal that breaks a hard rule (the other side accepts a price of at most 3; the table
says 5) is not a deal anyone can sign: ``validate`` warns about it, ``improve`` says so instead of
"already on the Pareto frontier", the app shows a banner and the proposal documents never
propose it. The same rule semantics as the searches (``optimizer.engine.milp``'s numpy checker).

* ``reference_breaks(scenario) -> list[RuleBreak]``: each constraint the reference breaks (empty
  when there is no reference or it keeps every rule). Walk-away points are not rules of the
  deal: a reference below one is a separate warning (``reference_below_reservation``).
* ``contradicting_rules(scenario) -> list[str]``: issues whose single-issue rules (acceptable
  sets and ranges, the agreed value) leave no value at all, in words.
* ``package_breaks(scenario, package) -> list[RuleBreak]``: the same check for any package (the
  proposal code calls it before proposing one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from optimizer.engine.milp import group_masks, scenario_groups
from optimizer.scenario.models import AcceptableConstraint
from optimizer.scenario.wording import constraint_text

if TYPE_CHECKING:
    from optimizer.scenario.models import Scenario


@dataclass(frozen=True)
class RuleBreak:
    """One hard rule a package breaks: its label (``constraint 2``), its words, whose it is."""

    label: str
    text: str
    party: str | None

    def __str__(self) -> str:
        return self.text


def package_breaks(scenario: Scenario, package: dict[str, Any] | np.ndarray) -> list[RuleBreak]:
    """The constraints (and agreed values) a package breaks, in the scenario's order."""
    index = scenario.encode(package) if isinstance(package, dict) else np.asarray(package)
    groups = [g for g in scenario_groups(scenario) if g.kind in ("constraint", "agreed")]
    if not groups:
        return []
    masks = group_masks(scenario, index[None, :], groups=[g.label for g in groups])
    return [
        RuleBreak(g.label, g.text, g.parties[0] if g.parties else None)
        for g in groups
        if not bool(masks[g.label][0])
    ]


def reference_breaks(scenario: Scenario) -> list[RuleBreak]:
    """The hard rules the deal on the table breaks (empty without a deal on the table)."""
    ref = scenario.reference()
    if ref is None:
        return []
    return package_breaks(scenario, ref)


def contradicting_rules(scenario: Scenario) -> list[str]:
    """Per issue whose own rules allow no value: which rules, in words."""
    masks = scenario.reachable_masks()
    out = []
    for issue, m in zip(scenario.issues, masks, strict=True):
        if m.any():
            continue
        rules = [
            constraint_text(scenario, c)
            for c in scenario.constraints
            if isinstance(c, AcceptableConstraint) and c.issue == issue.name
        ]
        if issue.status == "agreed":
            rules.append(f"the agreed {issue.name} of {issue.display(issue.value)}")
        together = " and ".join(rules) if len(rules) == 2 else "; ".join(rules)
        out.append(
            f"the rules on {issue.name!r} allow no value at all: {together} cannot hold "
            "together, so no deal is possible"
        )
    return out


def reference_warning(scenario: Scenario) -> str | None:
    """One sentence for people: the deal on the table breaks these rules (None when it does not)."""
    breaks = reference_breaks(scenario)
    if not breaks:
        return None
    rules = "; ".join(b.text for b in breaks)
    return (
        f"the deal on the table breaks {'a hard rule' if len(breaks) == 1 else 'hard rules'} "
        f"({rules}): it is not a possible deal, so packages are compared with it only as a "
        "starting point"
    )
