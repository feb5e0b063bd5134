"""Trade explanations: what each side gives and gets in a package, in plain words.

``explain_trade(scenario, package, reference=None)`` compares a package with the deal on the table
(or any other reference package) issue by issue, using the scenario's own utility tables
(``UtilityTables``), and says the logroll from our side's point of view (``scenario.us_name``):
"You get payment terms at net 60, which matter more to you; we get renewal price cap at 3%, which
matters more to us."

Rules (utility points on the scenario's scale; changes of at most ``EPS`` count as no change):

* A party **gets** an issue when the package's value of that issue is worth more to it than the
  reference value; it **gives** the issue when it is worth less.
* An issue a party gets "matters more" to it when its gain there is larger than the other sides'
  combined loss: that is a logroll, value created by trading on differences in priorities.
* An issue the reference leaves without a value (no deal on the table yet) is compared with the
  party's *average* value over the issue's possible values, so "gets" means "better than a typical
  outcome for it".
* Synergy bonuses are not tied to one issue; they appear in ``totals`` (the whole-package change)
  and not in the per-issue lists.
* **Warnings** (don't try to buy love): the package makes us worse off than the reference (a
  unilateral concession when no other side gains from it either is just value destroyed, and when
  they gain it is buying love), or it falls below our walk-away point.

``text`` has no numbers, so it can be said across the table; ``lines`` and ``warnings`` quote
utility points and are for our own side.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from optimizer.scenario.models import Scenario, format_number, value_out
from optimizer.scenario.wording import english_list, sentence_case

#: Utility changes at most this large (in utility points) count as no change.
EPS = 1e-6

Direction = Literal["gets", "gives", "same"]


# --------------------------------------------------------------------------------------------
# English helpers (shared by the summary, the log and the proposal documents)
# --------------------------------------------------------------------------------------------


def verb(n: int, singular: str, plural: str) -> str:
    """The verb form that agrees with a count ('is'/'are', 'matters'/'matter')."""
    return singular if n == 1 else plural


def term(scenario: Scenario, issue: str, value: Any) -> str:
    """One term in words: 'payment terms at net 60', 'price per seat at 48 USD/month'."""
    return f"{issue} at {scenario.issue(issue).display(value)}"


def points(x: float) -> str:
    """A utility change with its sign: '+4.5', '-2', '0'."""
    r = round(float(x), 1)
    if r == 0:
        return "0"
    return f"{'+' if r > 0 else '-'}{format_number(abs(r))}"


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------


class IssueTrade(BaseModel):
    """One issue of a package compared with the reference."""

    model_config = ConfigDict(extra="forbid")

    issue: str
    status: Literal["open", "provisional", "agreed"]
    reference: str | int | float | None = Field(description="Reference value (None: none).")
    value: str | int | float
    changed: bool
    deltas: dict[str, float] = Field(description="Per party: utility change from this issue.")
    directions: dict[str, Direction] = Field(description="Per party: gets, gives or same.")


class TradeExplanation(BaseModel):
    """What each side gives and gets in a package, and the logroll in plain words."""

    model_config = ConfigDict(extra="forbid")

    us: str
    package: dict[str, str | int | float]
    reference: dict[str, str | int | float | None]
    issues: list[IssueTrade] = []
    gives: dict[str, list[str]] = Field(description="Per party: the issues it gives on.")
    gets: dict[str, list[str]] = Field(description="Per party: the issues it gains on.")
    logrolls: list[str] = Field(
        default=[], description="Issues another side gets that matter more to it than to us."
    )
    totals: dict[str, float] = Field(description="Per party: utility change of the whole package.")
    synergy: dict[str, float] = Field(
        default={}, description="Per party: the part of the total change due to synergies."
    )
    text: str = Field(description="The logroll in plain words, from our side (no numbers).")
    lines: list[str] = Field(default=[], description="Per changed issue, with utility points.")
    warnings: list[str] = []


# --------------------------------------------------------------------------------------------
# The explanation
# --------------------------------------------------------------------------------------------


def _as_package(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    package = getattr(obj, "package", obj)
    if not isinstance(package, dict):
        raise TypeError("a package is a dict issue -> value (or a PackageResult)")
    return dict(package)


def _reference_values(scenario: Scenario, reference: Any) -> dict[str, Any]:
    """Reference value per issue (None where there is none); unknown names are errors."""
    from optimizer.errors import PackageError

    given = _as_package(reference) if reference is not None else {}
    unknown = [k for k in given if k not in scenario.issue_names]
    if unknown:
        raise PackageError(f"reference names unknown issue(s): {', '.join(map(repr, unknown))}")
    out: dict[str, Any] = {}
    for issue in scenario.issues:
        v = given.get(issue.name, issue.value)
        if v is not None and issue.index_of(v) is None:
            raise PackageError(f"{v!r} is not a possible value of issue {issue.name!r}")
        out[issue.name] = v
    return out


def _other_label(scenario: Scenario, party: str) -> tuple[str, str]:
    """How we address another party: ('you', 'you') with two sides, else (name, 'them')."""
    if len(scenario.parties) == 2:
        return "you", "you"
    return party, "them"


def explain_trade(scenario: Scenario, package: Any, reference: Any = None) -> TradeExplanation:
    """Explain a package against a reference (default: the deal on the table), from our side."""
    from optimizer.scenario.utility import UtilityTables

    pkg = _as_package(package)
    index = scenario.encode(pkg)
    ref_values = _reference_values(scenario, reference)
    tables = UtilityTables.build(scenario)
    parties = scenario.party_names
    us = scenario.us_name
    others = [p for p in parties if p != us]

    issues: list[IssueTrade] = []
    per_issue = np.zeros((len(parties), len(scenario.issues)))
    for k, issue in enumerate(scenario.issues):
        ref_v = ref_values[issue.name]
        ref_k = issue.index_of(ref_v) if ref_v is not None else None
        for p in range(len(parties)):
            tab = tables.tables[p][k]
            base = float(tab[ref_k]) if ref_k is not None else float(tab.mean())
            per_issue[p, k] = float(tab[index[k]]) - base
        deltas = {parties[p]: float(per_issue[p, k]) for p in range(len(parties))}
        directions: dict[str, Direction] = {
            n: "gets" if d > EPS else "gives" if d < -EPS else "same" for n, d in deltas.items()
        }
        value = issue.value_at(int(index[k]))
        issues.append(
            IssueTrade(
                issue=issue.name,
                status=issue.status,
                reference=ref_v,
                value=value,
                changed=ref_k is None or int(ref_k) != int(index[k]),
                deltas=deltas,
                directions=directions,
            )
        )

    new_u = tables.evaluate(index[None, :])[0]
    if all(v is not None for v in ref_values.values()):
        ref_index = scenario.encode(ref_values)
        ref_u = tables.evaluate(ref_index[None, :])[0]
        totals = {parties[p]: float(new_u[p] - ref_u[p]) for p in range(len(parties))}
    else:
        # No full reference: per-issue changes against averages, plus the package's own synergies.
        issue_sum = [sum(float(t[index[k]]) for k, t in enumerate(row)) for row in tables.tables]
        totals = {
            parties[p]: float(per_issue[p].sum()) + float(new_u[p] - issue_sum[p])
            for p in range(len(parties))
        }
    synergy = {
        parties[p]: totals[parties[p]] - float(per_issue[p].sum()) for p in range(len(parties))
    }
    synergy = {n: v for n, v in synergy.items() if abs(v) > EPS}

    gives = {
        n: [t.issue for t in issues if t.changed and t.directions[n] == "gives"] for n in parties
    }
    gets = {
        n: [t.issue for t in issues if t.changed and t.directions[n] == "gets"] for n in parties
    }

    logrolls = []
    for t in issues:
        if not t.changed or t.directions[us] == "gets":
            continue
        for o in others:
            if t.directions[o] == "gets" and t.deltas[o] > -t.deltas[us] + EPS:
                logrolls.append(t.issue)
                break

    text = _logroll_text(scenario, issues, us, others)
    lines = _lines(scenario, issues, us, others)
    warnings = _warnings(scenario, totals, us, others, new_u[parties.index(us)], ref_values)
    return TradeExplanation(
        us=us,
        package={k: value_out(v) for k, v in scenario.decode(index).items()},
        reference={k: value_out(v) if v is not None else None for k, v in ref_values.items()},
        issues=issues,
        gives=gives,
        gets=gets,
        logrolls=logrolls,
        totals=totals,
        synergy=synergy,
        text=text,
        lines=lines,
        warnings=warnings,
    )


def _logroll_text(scenario: Scenario, issues: list[IssueTrade], us: str, others: list[str]) -> str:
    """The trade in words, from our side: who gets what and why it is worth it."""
    changed = [t for t in issues if t.changed]
    if not changed:
        return "This package keeps the deal on the table as it is."
    sentences: list[str] = []
    clauses: list[str] = []
    for o in others:
        name, pronoun = _other_label(scenario, o)
        theirs = [t for t in changed if t.directions[o] == "gets" and t.directions[us] != "gets"]
        worth = [t for t in theirs if t.deltas[o] > -t.deltas[us] + EPS]
        plain = [t for t in theirs if t not in worth]
        subject = "you get" if name == "you" else f"{name} gets"
        if worth:
            items = english_list([term(scenario, t.issue, t.value) for t in worth])
            clauses.append(
                f"{subject} {items}, which {verb(len(worth), 'matters', 'matter')} more to "
                f"{pronoun}"
            )
        if plain:
            items = english_list([term(scenario, t.issue, t.value) for t in plain])
            also = "you also get" if name == "you" else f"{name} also gets"
            clauses.append(f"{also} {items}" if worth else f"{subject} {items}")
    ours = [
        t
        for t in changed
        if t.directions[us] == "gets" and all(t.directions[o] != "gets" for o in others)
    ]
    if ours:
        worth = [t for t in ours if t.deltas[us] > -sum(t.deltas[o] for o in others) + EPS]
        plain = [t for t in ours if t not in worth]
        if worth:
            items = english_list([term(scenario, t.issue, t.value) for t in worth])
            clauses.append(
                f"we get {items}, which {verb(len(worth), 'matters', 'matter')} more to us"
            )
        if plain:
            items = english_list([term(scenario, t.issue, t.value) for t in plain])
            clauses.append(f"we also get {items}" if worth else f"we get {items}")
    if clauses:
        sentences.append(sentence_case("; ".join(clauses)) + ".")
    both = [
        t
        for t in changed
        if t.directions[us] == "gets" and any(t.directions[o] == "gets" for o in others)
    ]
    if both:
        items = english_list([term(scenario, t.issue, t.value) for t in both])
        who = "both of us" if len(others) == 1 else "more than one of us"
        sentences.append(f"{sentence_case(items)} {verb(len(both), 'is', 'are')} better for {who}.")
    lost = [
        t
        for t in changed
        if t.directions[us] == "gives" and all(t.directions[o] != "gets" for o in others)
    ]
    if lost:
        items = english_list([term(scenario, t.issue, t.value) for t in lost])
        sentences.append(
            f"{sentence_case(items)} {verb(len(lost), 'costs', 'cost')} us without helping "
            f"{'you' if len(others) == 1 else 'anyone'}; it is there to make the package workable."
        )
    neutral = [t for t in changed if all(d == "same" for d in t.directions.values())]
    if neutral and not sentences:
        items = english_list([term(scenario, t.issue, t.value) for t in neutral])
        sentences.append(f"The package only moves {items}, which changes nothing for either side.")
    return " ".join(sentences)


def _lines(scenario: Scenario, issues: list[IssueTrade], us: str, others: list[str]) -> list[str]:
    """One line per changed issue with each side's utility change (internal detail)."""
    out = []
    for t in issues:
        if not t.changed:
            continue
        issue = scenario.issue(t.issue)
        before = issue.display(t.reference) if t.reference is not None else "no value"
        parts = [f"us {points(t.deltas[us])}"] + [f"{o} {points(t.deltas[o])}" for o in others]
        out.append(f"{t.issue}: {before} -> {issue.display(t.value)} ({', '.join(parts)})")
    return out


def _warnings(
    scenario: Scenario,
    totals: dict[str, float],
    us: str,
    others: list[str],
    our_utility: float,
    ref_values: dict[str, Any],
) -> list[str]:
    """Don't try to buy love: flag packages that leave us worse off."""
    out = []
    has_ref = all(v is not None for v in ref_values.values())
    ours = totals[us]
    if has_ref and ours < -EPS:
        gainers = [o for o in others if totals[o] > EPS]
        if gainers:
            out.append(
                f"Unilateral concession: this package leaves us "
                f"{format_number(round(-ours, 1))} points worse off than the deal on the table while {english_list(gainers)} "
                f"{verb(len(gainers), 'gains', 'gain')}. Don't try to buy love: ask for something "
                "in return that matters more to us."
            )
        else:
            out.append(
                f"This package leaves us {format_number(round(-ours, 1))} points worse off than the "
                "deal on the table and no other side gains from it: it destroys value."
            )
    walk = scenario.reservation(us)
    if walk is not None and our_utility < walk - EPS:
        out.append(
            f"This package is below our walk-away point ({format_number(round(walk, 2))}): "
            f"we would be better off with no deal (our utility {format_number(round(our_utility, 2))})."
        )
    return out
