"""The progress summary, in the words negotiators use.

"We have agreed on A and B. C is still provisional and D is in good shape. Now we're having
trouble with E." -- pause and sum up what is already accomplished (Wheeler, HBR). Every category
is computed from the scenario, never guessed:

* **agreed** / **provisional**: the issues' statuses.
* An open issue is **in trouble** when
  1. there is no Pareto-improving package and the diagnosis (``optimizer.searches.diagnose``) names it:
     it is part of a minimal set of constraints and walk-away points that cannot all hold (no
     deal at all), or that blocks every improvement on the deal on the table; or
  2. the sides *pull hard in opposite directions* on it and rule 3 below does not settle it: for
     some pair of parties, the correlation of their values over the issue's acceptable values is
     at most ``OPPOSED_CORRELATION`` (-0.5: one side's better is the other's worse), and the
     issue is *substantial* for both: its stake (best minus worst value of the issue, in utility
     points) is at least ``SUBSTANTIAL_SHARE`` (half) of that party's average stake per issue.
* An open issue is **in good shape** when
  3. the best win-win packages (the top ``TOP_PACKAGES`` of ``improve``, max-min gain) all give it
     the same value: whatever we settle elsewhere, this one is decided; or
  4. the sides' preferences over it are compatible: some acceptable value is best for every party
     (a party that does not weight the issue is happy with any value).
* Any other open issue is **still open** (to be worked out).

Acceptable values are those allowed by the single-issue ``acceptable`` constraints. Rule 1 comes
first, then 3 and 4, then 2.

Then what is left to gain: how much better the best Pareto-improving package (the first of
``improve``) is for each side than the deal on the table (``gains``; None when there is none).
The paragraph says "we" for our side (``scenario.us_name``); ``status_text`` is the same paragraph
without the gains sentence (no numbers), safe to say across the table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from optimizer.reports.explain import EPS, verb
from optimizer.scenario.models import Scenario, format_number
from optimizer.scenario.wording import english_list, sentence_case

#: How many of the best win-win packages must agree on an issue's value for "good shape".
TOP_PACKAGES = 3
#: Correlation of two parties' values at or below which they pull in opposite directions.
OPPOSED_CORRELATION = -0.5
#: An issue is substantial for a party when its stake is at least this share of its average stake.
SUBSTANTIAL_SHARE = 0.5
#: Share of issues agreed, provisional or in good shape from which we are "most of the way up".
MOUNTAIN_SHARE = 0.5


class ProgressSummary(BaseModel):
    """Where the negotiation stands, per issue category, and what is left to gain."""

    model_config = ConfigDict(extra="forbid")

    us: str
    agreed: list[str] = []
    provisional: list[str] = []
    good_shape: list[str] = []
    trouble: list[str] = []
    still_open: list[str] = Field(default=[], description="Open issues neither good nor trouble.")
    reasons: dict[str, str] = Field(default={}, description="Issue -> why it is in its category.")
    opposed: dict[str, list[str]] = Field(
        default={}, description="Trouble issue -> the two parties pulling in opposite directions."
    )
    gains: dict[str, float | None] = Field(
        default={}, description="Per party: gain of the best Pareto-improving package (or None)."
    )
    best_package: dict[str, str | int | float] | None = None
    reopens: list[str] = Field(default=[], description="Provisional issues the best package moves.")
    explanation: str | None = Field(
        default=None, description="Why there is no Pareto-improving package, when there is none."
    )
    money_issue: str | None = Field(default=None, description="The money issue, if any.")
    gains_money: dict[str, str] | None = Field(
        default=None, description="Per party: the gains' money equivalent as text."
    )
    below_walkaway: str | None = Field(
        default=None,
        description="When the deal on the table is below our walk-away point: the warning.",
    )
    status_text: str = Field(default="", description="The paragraph without numbers.")
    text: str = ""


# --------------------------------------------------------------------------------------------
# Per-issue rules
# --------------------------------------------------------------------------------------------


def acceptable_mask(scenario: Scenario, k: int) -> np.ndarray:
    """Values of issue ``k`` allowed by every constraint on that issue alone (all values when
    those constraints leave none, so the summary still has something to compare)."""
    mask = scenario.reachable_masks(agreed=False)[k]
    return mask if mask.any() else np.ones(scenario.issues[k].size, dtype=bool)


def compatible(tabs: list[np.ndarray], mask: np.ndarray) -> bool:
    """Some allowed value is best for every party (rule 4)."""
    common = mask.copy()
    for tab in tabs:
        t = np.where(mask, tab, -np.inf)
        common &= t >= t.max() - EPS
    return bool(common.any())


def opposed_pair(
    tabs: list[np.ndarray], mask: np.ndarray, stakes: list[float], mean_stakes: list[float]
) -> tuple[int, int] | None:
    """The first pair of parties pulling hard in opposite directions on the issue (rule 2)."""
    n = len(tabs)
    for a in range(n):
        for b in range(a + 1, n):
            if stakes[a] < SUBSTANTIAL_SHARE * mean_stakes[a] - EPS or stakes[b] < (
                SUBSTANTIAL_SHARE * mean_stakes[b] - EPS
            ):
                continue
            x, y = tabs[a][mask], tabs[b][mask]
            if len(x) < 2 or x.std() < EPS or y.std() < EPS:
                continue
            corr = float(np.corrcoef(x, y)[0, 1])
            if corr <= OPPOSED_CORRELATION:
                return a, b
    return None


def _diagnosed_issues(scenario: Scenario, solver: str | None) -> tuple[list[str], str | None]:
    """Issues named by the diagnosis of "no Pareto-improving package" (rule 1), and its words.

    First the infeasibility explanation (no package meets every rule); when the rules can hold,
    the set of constraints that blocks every improvement (none when the deal on the table is
    simply on the frontier)."""
    from optimizer.searches.diagnose import explain_infeasible, explain_no_improvement

    d = explain_infeasible(scenario, solver=solver)
    if d.feasible:
        d = explain_no_improvement(scenario, solver=solver)
    names = scenario.issue_names
    return [i for i in dict.fromkeys(d.issues) if i in names], d.text


# --------------------------------------------------------------------------------------------
# The summary
# --------------------------------------------------------------------------------------------


def progress_summary(
    scenario: Scenario, *, solver: str | None = None, improve_result: Any = None
) -> ProgressSummary:
    """Sum up the negotiation: agreed, provisional, good shape, trouble, and what is left to gain.

    ``improve_result`` reuses an ``improve(scenario, top=TOP_PACKAGES)`` result already at hand."""
    from optimizer.scenario.utility import UtilityTables

    us = scenario.us_name
    by = scenario.issues_by_status()
    out = ProgressSummary(
        us=us,
        agreed=[i.name for i in by["agreed"]],
        provisional=[i.name for i in by["provisional"]],
    )
    for name in out.agreed:
        out.reasons[name] = "agreed"
    for name in out.provisional:
        out.reasons[name] = "provisionally settled"

    res = improve_result
    if res is None:
        from optimizer.searches.improve import improve

        res = improve(scenario, top=TOP_PACKAGES, solver=solver)
    packages = list(res.packages)[:TOP_PACKAGES]
    conflict: list[str] = []
    conflict_text = None
    if not packages and res.exact:
        conflict, conflict_text = _diagnosed_issues(scenario, solver)

    tables = UtilityTables.build(scenario)
    n_parties = len(scenario.parties)
    stakes_all = [[float(t.max() - t.min()) for t in tables.tables[p]] for p in range(n_parties)]
    mean_stakes = [float(np.mean(s)) if s else 0.0 for s in stakes_all]
    names = scenario.party_names

    for k, issue in enumerate(scenario.issues):
        if issue.status != "open":
            continue
        name = issue.name
        if name in conflict:
            out.trouble.append(name)
            out.reasons[name] = "part of the conflict that blocks every better deal"
            continue
        if packages:
            values = {issue.index_of(p.package[name]) for p in packages}
            if len(values) == 1:
                out.good_shape.append(name)
                value = issue.display(packages[0].package[name])
                out.reasons[name] = (
                    f"the best win-win package{'s' if len(packages) > 1 else ''} "
                    f"{verb(len(packages), 'sets', 'all set')} it to {value}"
                )
                continue
        mask = acceptable_mask(scenario, k)
        tabs = [tables.tables[p][k] for p in range(n_parties)]
        if compatible(tabs, mask):
            out.good_shape.append(name)
            out.reasons[name] = "the same value is best for every side"
            continue
        stakes = [float(np.ptp(t[mask])) for t in tabs]
        pair = opposed_pair(tabs, mask, stakes, mean_stakes)
        if pair is not None:
            out.trouble.append(name)
            out.opposed[name] = [names[pair[0]], names[pair[1]]]
            out.reasons[name] = (
                f"{names[pair[0]]} and {names[pair[1]]} pull hard in opposite directions"
            )
            continue
        out.still_open.append(name)
        out.reasons[name] = "no clear direction yet"

    if packages:
        best = packages[0]
        out.gains = {p: (best.gains or {}).get(p) for p in names}
        out.best_package = dict(best.package)
        out.reopens = list(best.reopened)
        from optimizer.engine.money import money_issue, money_texts

        issue = money_issue(scenario)
        if issue is not None:
            out.money_issue = issue.name
            out.gains_money = money_texts(scenario, dict(best.gains or {}))
    else:
        out.gains = {p: None for p in names}
        out.explanation = conflict_text or res.explanation
    from optimizer.reports.guards import table_below_walkaway

    check = table_below_walkaway(scenario, with_packages=False)
    if check.below:
        out.below_walkaway = check.text
    out.status_text = _status_text(scenario, out)
    out.text = " ".join(
        s for s in (out.below_walkaway, out.status_text, _gains_text(scenario, out, res)) if s
    )
    return out


def _status_text(scenario: Scenario, s: ProgressSummary) -> str:
    return status_paragraph(
        s.agreed, s.provisional, s.good_shape, s.trouble, s.still_open, len(scenario.issues)
    )


def status_paragraph(
    agreed: list[str],
    provisional: list[str],
    good_shape: list[str],
    trouble: list[str],
    still_open: list[str] = (),  # type: ignore[assignment]
    n_issues: int | None = None,
) -> str:
    """The article's paragraph for issue lists: "We have agreed on A and B. C is still
    provisional and D is in good shape. Now we're having trouble with E." (no numbers)."""
    still_open = list(still_open)
    if n_issues is None:
        n_issues = len(agreed) + len(provisional) + len(good_shape) + len(trouble) + len(still_open)
    sentences = []
    if agreed:
        sentences.append(f"We have agreed on {english_list(agreed)}.")
    else:
        sentences.append("We have not agreed on anything yet.")
    clauses = []
    if provisional:
        clauses.append(
            f"{english_list(provisional)} {verb(len(provisional), 'is', 'are')} still provisional"
        )
    if good_shape:
        clauses.append(
            f"{english_list(good_shape)} {verb(len(good_shape), 'is', 'are')} in good shape"
        )
    if len(clauses) == 2 and len(provisional) == 1 and len(good_shape) == 1:
        sentences.append(sentence_case(" and ".join(clauses)) + ".")
    else:
        sentences.extend(sentence_case(c) + "." for c in clauses)
    if still_open:
        sentences.append(f"We still have to work out {english_list(still_open)}.")
    if trouble:
        sentences.append(f"Now we're having trouble with {english_list(trouble)}.")
        done = len(agreed) + len(provisional) + len(good_shape)
        if done > 0 and done >= MOUNTAIN_SHARE * n_issues:
            these = "this" if len(trouble) == 1 else "these"
            sentences.append(
                f"We're most of the way up the mountain. It'd be a shame if {these} got us stuck."
            )
    elif still_open or good_shape:
        sentences.append("Nothing is stuck.")
    else:
        sentences.append("Nothing is left open.")
    return " ".join(sentences)


def _gains_text(scenario: Scenario, s: ProgressSummary, res: Any) -> str:
    names = scenario.party_names
    if s.best_package is None:
        why = s.explanation or "No package is better for everyone than the deal on the table."
        return f"Nothing is left to gain for everyone. {_full_stop(why)}"
    base = "the deal on the table" if res.reference is not None else "walking away"
    shown = dict(s.gains)
    if res.packages:  # the difference of the utilities as printed (one decimal), so that
        best, ref = res.packages[0], res.reference_utilities  # a table beside it agrees
        shown = {
            p: round(best.utilities[p], 1) - round(ref[p], 1)
            if p in best.utilities and p in ref
            else s.gains.get(p)
            for p in names
        }
    ours = shown.get(s.us)
    parts = [f"us {_amount(ours)} more point{'' if _is_one(ours) else 's'}"]
    others = [p for p in names if p != s.us]
    parts += [f"{p} {_amount(shown.get(p))} more" for p in others]
    estimate = "our estimate of their utility" if len(others) == 1 else "our estimates of theirs"
    text = (
        f"What is left to gain: the best package that is better for everyone than {base} gives "
        f"{english_list(parts)} ({estimate})."
    )
    if s.reopens:
        text += f" It reopens {english_list(s.reopens)}."
    money = s.gains_money
    if money:
        text += (
            f" In {s.money_issue} terms, that is worth "
            + english_list(
                [f"{money[p]} to {'us' if p == s.us else p}" for p in names if p in money]
            )
            + "."
        )
    return text


def _amount(g: float | None) -> str:
    return "?" if g is None else format_number(round(g, 1))


def _is_one(g: float | None) -> bool:
    return g is not None and round(g, 1) == 1


def _full_stop(text: str) -> str:
    text = sentence_case(text.strip())
    return text if text.endswith((".", "!", "?")) else text + "."
