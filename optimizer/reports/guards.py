"""Guards on what we propose: never below our walk-away point, never behind our own offer.

The counterpart proposal is the last step before the other side sees anything, so two rules hold
(``proposal_document`` refuses otherwise, unless the user explicitly overrides; the internal brief
then records the override):

* **below our walk-away**: a package whose utility for us is below our reservation value is worse
  for us than no deal (``TIE_TOL`` ties count as reaching it);
* **behind our offer**: a package worse for us than our latest offer in the negotiation log would
  give away, unasked, ground we already claimed ("don't try to buy love").

When the deal on the table itself is below our walk-away (``table_below_walkaway``), improving on
it for everyone cannot help: every package that reaches our walk-away asks the other side to move.
``walkaway_packages`` lists the packages that reach every walk-away point and are non-dominated
(from the Pareto frontier), the ones that cost the other side least first, so the user sees what
the other side would have to accept instead of a dead end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from optimizer.engine.money import annotate_packages, money_issue, money_texts
from optimizer.engine.reference import package_breaks
from optimizer.engine.results import package_result
from optimizer.errors import ProposalGuardError
from optimizer.reports.explain import english_list
from optimizer.reports.negotiation_log import utility_path
from optimizer.scenario.models import TIE_TOL, Scenario, format_number
from optimizer.searches.frontier import frontier
from optimizer.searches.improve import reference_utilities

#: How many packages that reach our walk-away are shown by default.
WALKAWAY_TOP = 3


@dataclass(frozen=True)
class GuardProblem:
    """One guard a package breaks: ``breaks_rule``, ``below_walkaway`` or ``behind_our_offer``."""

    kind: str
    text: str
    ours: float
    limit: float
    round: int | None = None


@dataclass
class TableCheck:
    """Our utility of the deal on the table against our walk-away point."""

    ours: float | None
    walkaway: float | None
    below: bool
    text: str = ""
    packages: list[Any] = field(default_factory=list)
    searched: bool = False


def _u(x: float) -> str:
    return format_number(round(float(x), 1))


def our_utility(scenario: Scenario, package: dict[str, Any]) -> float:
    """Our utility of a complete package."""
    return float(scenario.utility(scenario.us_name, package))


def our_latest_offer(scenario: Scenario) -> tuple[int, float] | None:
    """(round, our utility) of our latest complete offer in the negotiation log, or None."""
    us = scenario.us_name
    latest = None
    for r in utility_path(scenario):
        if r.by == us and r.utilities is not None:
            latest = (r.round, r.utilities[us])
    return latest


def check_package(scenario: Scenario, package: dict[str, Any]) -> list[GuardProblem]:
    """The guards a package breaks (empty when it is safe to propose)."""
    ours = our_utility(scenario, package)
    out: list[GuardProblem] = [
        GuardProblem("breaks_rule", f"it breaks {b.text}, so it is not a possible deal", ours, ours)
        for b in package_breaks(scenario, package)
    ]
    walk = scenario.reservation(scenario.us_name)
    if walk is not None and ours < walk - TIE_TOL:
        out.append(
            GuardProblem(
                "below_walkaway",
                f"it gives us a utility of {_u(ours)}, below our walk-away point ({_u(walk)}): "
                "worse for us than no deal",
                ours,
                walk,
            )
        )
    latest = our_latest_offer(scenario)
    if latest is not None and ours < latest[1] - TIE_TOL:
        out.append(
            GuardProblem(
                "behind_our_offer",
                f"it gives us {_u(ours)}, less than our own offer of round {latest[0]} "
                f"({_u(latest[1])}): it would give away ground we already claimed without "
                "anything in return",
                ours,
                latest[1],
                latest[0],
            )
        )
    return out


def guard_error(problems: list[GuardProblem], label: str = "This package") -> ProposalGuardError:
    """The error refusing a proposal, naming every guard it breaks and how to override."""
    reasons = "; and ".join(p.text for p in problems)
    return ProposalGuardError(
        f"{label} is not proposed: {reasons}. Choose another package, or override explicitly "
        "(--override on the command line; the internal brief records it).",
        problems,
    )


def table_below_walkaway(
    scenario: Scenario,
    *,
    with_packages: bool = True,
    top: int = WALKAWAY_TOP,
    solver: str | None = None,
    time_limit: float | None = None,
) -> TableCheck:
    """Whether the deal on the table is below our walk-away point, with (when it is) the
    packages that reach it and what the other side would have to accept."""
    ref = scenario.reference()
    walk = scenario.reservation(scenario.us_name)
    if ref is None or walk is None:
        return TableCheck(None if ref is None else our_utility(scenario, ref), walk, False)
    ours = our_utility(scenario, ref)
    if ours >= walk - TIE_TOL:
        return TableCheck(ours, walk, False)
    check = TableCheck(ours, walk, True)
    if with_packages:
        check.packages = walkaway_packages(scenario, top=top, solver=solver, time_limit=time_limit)
        check.searched = True
    check.text = walkaway_text(scenario, check)
    return check


def walkaway_packages(
    scenario: Scenario,
    *,
    top: int = WALKAWAY_TOP,
    solver: str | None = None,
    time_limit: float | None = None,
) -> list[Any]:
    """Non-dominated packages that reach every walk-away point, least costly for the other side
    first (the largest smallest change of the others' utility against the table), as
    ``PackageResult`` with gains against the deal on the table (negative: what they give up)."""
    res = frontier(scenario, solver=solver, time_limit=time_limit)
    names = scenario.party_names
    us = scenario.us_name
    ref_u = reference_utilities(scenario)
    walk = scenario.reservation(us)
    others = [j for j, p in enumerate(names) if p != us]
    rows = []
    for pkg in res.packages:
        u = [pkg.utilities[p] for p in names]
        if walk is not None and u[names.index(us)] < walk - TIE_TOL:
            continue
        cost = min(u[j] - ref_u[j] for j in others) if others else 0.0
        rows.append((-cost, -u[names.index(us)], pkg))
    rows.sort(key=lambda r: (round(r[0], 9), round(r[1], 9)))
    out = []
    for _, _, pkg in rows[:top]:
        index = scenario.encode(pkg.package)
        out.append(package_result(scenario, index, [pkg.utilities[p] for p in names], ref_u))
    return annotate_packages(scenario, out)


def accept_text(scenario: Scenario, pkg: Any) -> str:
    """What the other side would have to accept in a package: the changed terms and their
    utility change (our estimate) with its money equivalent."""
    us = scenario.us_name
    moved = [
        f"{c.issue} {scenario.issue(c.issue).display(c.reference)} -> "
        f"{scenario.issue(c.issue).display(c.value)}"
        for c in pkg.changes
        if c.change in ("changed", "reopened") and c.reference is not None
    ]
    gains = pkg.gains or {}
    money = money_texts(scenario, gains)
    issue = money_issue(scenario)
    parts = []
    for p, g in gains.items():
        who = "us" if p == us else p
        text = f"{who} {'+' if g >= 0 else ''}{_u(g)} points"
        if money and money.get(p) not in (None, "-") and issue is not None:
            text += f" (worth {money[p]} in {issue.name})"
        parts.append(text)
    terms = "; ".join(moved) or "no change"
    return f"{terms}. Utility change against the table: {english_list(parts)}."


def walkaway_text(scenario: Scenario, check: TableCheck) -> str:
    """The warning in plain words (for us: it names utilities and the walk-away point)."""
    if not check.below or check.ours is None or check.walkaway is None:
        return ""
    others = [p for p in scenario.party_names if p != scenario.us_name]
    text = (
        f"The deal on the table is below our walk-away point: it gives us {_u(check.ours)} "
        f"against a walk-away point of {_u(check.walkaway)}, so it is worse for us than no deal. "
        "No counterpart proposal settles on it."
    )
    if check.packages:
        text += (
            " Packages that reach our walk-away point, and what "
            f"{english_list(others)} would have to accept (the least costly for "
            f"{'them' if len(others) > 1 else others[0]} first):"
        )
        for n, pkg in enumerate(check.packages, start=1):
            text += f"\n  {n}. {accept_text(scenario, pkg)}"
    elif check.searched:
        text += (
            " No package reaches our walk-away point within the rules and the other side's "
            "walk-away point: prepare to walk away, or revisit the rules."
        )
    return text
