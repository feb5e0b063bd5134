"""Why there is no deal, or no better deal: minimal conflicting sets, said in words.

* ``explain_infeasible(scenario, *, solver=None, time_limit=None) -> Diagnosis``: when no package
  satisfies the constraints, walk-away points and agreed issues together, a deletion filter over
  those groups of rows (one per scenario constraint, per party's walk-away point, per agreed issue)
  finds a minimal set that cannot hold together (dropping any one of them makes the rest
  satisfiable), and names it: "Our annual software budget of 180 kUSD and CloudDesk's minimum
  price per seat of 44 USD/month cannot both hold."
* ``explain_no_improvement(scenario, ...) -> Diagnosis``: when the rules can hold but no package is
  Pareto-improving over the reference, either the reference is already on the Pareto frontier
  (nothing blocks it but the parties' own interests) or a minimal set of groups blocks every
  improvement; both are said in words.

``Diagnosis.issues`` lists the issues the conflict names (the "trouble" issues of a progress
summary) and ``Diagnosis.parties`` the parties whose limits are involved.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from optimizer.engine.results import Termination
from optimizer.scenario.models import TIE_TOL, Scenario
from optimizer.scenario.wording import english_list, sentence_case


class Diagnosis(BaseModel):
    """A minimal conflicting set of constraint groups, and the same in words."""

    model_config = ConfigDict(extra="forbid")

    feasible: bool = Field(description="True when the rules can all hold (there is a deal).")
    conflict: list[str] = Field(default=[], description="Group labels of the minimal conflict.")
    descriptions: list[str] = Field(default=[], description="Each conflicting group in words.")
    issues: list[str] = Field(default=[], description="Issues the conflict involves.")
    parties: list[str] = Field(default=[], description="Parties whose limits are involved.")
    text: str = Field(description="The explanation in plain words.")
    exact: bool = Field(default=True, description="False when a solve hit a limit.")


def _diagnosis(model: Any, labels: list[str], text: str, *, exact: bool) -> Diagnosis:
    info = [model.group_info[g] for g in labels]
    issues = list(dict.fromkeys(i for g in info for i in g.issues))
    parties = list(dict.fromkeys(p for g in info for p in g.parties))
    return Diagnosis(
        feasible=False,
        conflict=labels,
        descriptions=[g.text for g in info],
        issues=issues,
        parties=parties,
        text=text,
        exact=exact,
    )


def _deletion_filter(labels: list[str], blocked) -> tuple[list[str], bool]:
    """Smallest-by-deletion subset of ``labels`` that is still blocked (``blocked(set)``)."""
    keep = list(labels)
    exact = True
    for g in list(labels):
        trial = [x for x in keep if x != g]
        res = blocked(set(trial))
        if res is None:  # a solve hit a limit: keep the group, mark the answer inexact
            exact = False
            continue
        if res:
            keep = trial
    return keep, exact


def explain_infeasible(
    scenario: Scenario, *, solver: str | None = None, time_limit: float | None = None
) -> Diagnosis:
    """A minimal set of constraints / walk-away points / agreed issues that cannot all hold."""
    from optimizer.engine.milp import compile_scenario

    m = compile_scenario(scenario)
    m.set_objective(None)

    def blocked(groups: set[str]) -> bool | None:
        m.use_groups(groups)
        out = m.solve(solver, time_limit, confirm_infeasible=True)
        if out.termination == Termination.infeasible:
            return True
        if out.termination == Termination.optimal:
            return False
        return None

    first = blocked(set(m.groups))
    if first is False:
        return Diagnosis(
            feasible=True,
            text="The constraints, walk-away points and agreed issues can all hold together.",
        )
    if first is None:
        return Diagnosis(
            feasible=True,
            text="Could not decide whether the rules can all hold (the solver stopped early).",
            exact=False,
        )
    labels, exact = _deletion_filter(list(m.groups), blocked)
    texts = [m.group_info[g].text for g in labels]
    if not labels:
        text = "No package is possible even without constraints."
    elif len(labels) == 1:
        text = f"{sentence_case(texts[0])} cannot hold: no package satisfies it."
        if m.group_info[labels[0]].kind == "walk_away":
            text = f"{sentence_case(texts[0])} cannot be met by any package."
    elif len(labels) == 2:
        text = f"{sentence_case(texts[0])} and {texts[1]} cannot both hold."
    else:
        text = f"{sentence_case(english_list(texts))} cannot all hold together."
    if len(labels) > 1:
        text += " Relaxing any one of them makes a deal possible."
    return _diagnosis(m, labels, text, exact=exact)


def explain_no_improvement(
    scenario: Scenario,
    *,
    solver: str | None = None,
    time_limit: float | None = None,
    reference_utilities: np.ndarray | None = None,
) -> Diagnosis:
    """Why no package is Pareto-improving: the reference is on the frontier, or what blocks it."""
    from optimizer.engine.milp import compile_scenario
    from optimizer.scenario.utility import reference_utilities as base_of

    ref = base_of(scenario) if reference_utilities is None else np.asarray(reference_utilities)
    m = compile_scenario(scenario)
    import pulp

    gains = [m.utility[p] - float(ref[i]) for i, p in enumerate(m.parties)]
    for i, g in enumerate(gains):
        m.add_row(g >= -TIE_TOL, name=f"pareto_{i}")  # the 1e-9 tie rule, as in improve
    m.set_objective(pulp.lpSum(gains), True)

    def blocked(groups: set[str]) -> bool | None:
        m.use_groups(groups)
        excluded: list[str] = []
        try:
            for _ in range(20):
                out = m.solve(solver, time_limit, confirm_infeasible=True)
                if out.termination == Termination.infeasible:
                    return True
                if out.termination != Termination.optimal:
                    return None
                idx = m.decode()
                g = m.evaluate(idx) - ref
                if np.all(g >= -TIE_TOL):
                    return not bool(np.any(g > TIE_TOL))
                excluded.append(m.exclude(idx))  # below the base by solver tolerance only
            return None
        finally:
            for r in excluded:
                m.remove_row(r)

    all_groups = list(m.groups)
    first = blocked(set(all_groups))
    if first is False:
        return Diagnosis(feasible=True, text="Pareto-improving packages exist.")
    if first is None:
        return Diagnosis(
            feasible=True,
            text="Could not decide whether a Pareto-improving package exists (the solver "
            "stopped early).",
            exact=False,
        )
    base = "the deal on the table" if scenario.reference() is not None else "the walk-away points"
    if blocked(set()):
        return Diagnosis(
            feasible=True,
            text=f"No package is Pareto-improving: {base} is already on the Pareto frontier. "
            "Any package better for one party is worse for another.",
        )
    labels, exact = _deletion_filter(all_groups, blocked)
    texts = [m.group_info[g].text for g in labels]
    verb = "blocks" if len(labels) == 1 else "block"
    text = (
        f"No package is Pareto-improving over {base}: {english_list(texts)} {verb} every package that "
        "would be better for someone without being worse for another."
    )
    if labels:
        text += (
            " Relaxing it would open improvements."
            if len(labels) == 1
            else " Relaxing any one of them would open improvements."
        )
    d = _diagnosis(m, labels, text, exact=exact)
    d.feasible = True
    return d
