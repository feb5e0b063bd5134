"""Scenario things said in words: lists, numbers with units, constraints.

One place for the English the engine, the reports and the app share, so that a constraint or a
list reads the same in a diagnosis, a summary and a proposal.
"""

from __future__ import annotations

from typing import Any

from optimizer.scenario.models import (
    AcceptableConstraint,
    BudgetConstraint,
    ForbiddenConstraint,
    ImpliesConstraint,
    Interval,
    Issue,
    Scenario,
    format_number,
)


def english_list(items: list[str], conjunction: str = "and") -> str:
    """'A', 'A and B', 'A, B and C' (no Oxford comma, as in the article)."""
    items = [str(i) for i in items]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def sentence_case(text: str) -> str:
    """Capitalise the first letter of a sentence, leaving names such as 'eBay' alone."""
    if not text:
        return text
    first = text[0]
    if first.islower() and not (len(text) > 1 and text[1].isupper()):
        return first.upper() + text[1:]
    return text


def _possessive(scenario: Scenario, party: str | None) -> str:
    if party is None:
        return "the"
    if party == scenario.us_name:
        return "our"
    return f"{party}'s"


def _with_owner(scenario: Scenario, party: str | None, name: str) -> str:
    low = name.lower()
    if party is None or low.startswith(("our ", "my ", "the ", f"{party.lower()}")):
        return name
    return f"{_possessive(scenario, party)} {name}"


def _num(issue, x: float) -> str:
    text = format_number(float(x))
    return f"{text} {issue.unit}".strip()


def _cond_text(scenario: Scenario, issue_name: str, cond: Any) -> str:
    issue = scenario.issue(issue_name)
    if isinstance(cond, Interval):
        if cond.min is not None and cond.max is not None:
            return f"{issue_name} between {_num(issue, cond.min)} and {_num(issue, cond.max)}"
        if cond.min is not None:
            return f"{issue_name} of at least {_num(issue, cond.min)}"
        return f"{issue_name} of at most {_num(issue, cond.max)}"  # type: ignore[arg-type]
    items = cond if isinstance(cond, list) else [cond]
    shown = [issue.display(v) for v in items]
    if len(shown) == 1:
        return f"{issue_name} {shown[0]}"
    return f"{issue_name} {english_list(shown, 'or')}"


def constraint_text(scenario: Scenario, c: Any) -> str:
    """A constraint in words, naming its party, issues, numbers and units."""
    if isinstance(c, AcceptableConstraint):
        issue = scenario.issue(c.issue)
        if c.options is not None:
            base = f"acceptable {c.issue} options ({', '.join(c.options)})"
            if c.name:
                base = f"{c.name} ({', '.join(c.options)} only)"
            return _with_owner(scenario, c.party, base)
        if c.min is not None and c.max is not None:
            what = f"acceptable {c.issue} range of {_num(issue, c.min)} to {_num(issue, c.max)}"
        elif c.min is not None:
            what = f"minimum {c.issue} of {_num(issue, c.min)}"
        else:
            what = f"maximum {c.issue} of {_num(issue, c.max)}"  # type: ignore[arg-type]
        return _with_owner(scenario, c.party, what)
    if isinstance(c, BudgetConstraint):
        name = c.name or "budget"
        return _with_owner(
            scenario, c.party, f"{name} of {format_number(c.limit)} {c.unit}".strip()
        )
    if isinstance(c, ForbiddenConstraint):
        combo = " with ".join(_cond_text(scenario, k, v) for k, v in c.combination.items())
        owner = _possessive(scenario, c.party)
        if c.name:
            return f'{owner} rule "{c.name}" (no {combo})'
        return f"{owner} rule against {combo}"
    if isinstance(c, ImpliesConstraint):
        when = english_list([_cond_text(scenario, k, v) for k, v in c.when.items()])
        then = english_list([_cond_text(scenario, k, v) for k, v in c.then.items()])
        owner = _possessive(scenario, c.party)
        if c.name:
            return f'{owner} rule "{c.name}" ({when} requires {then})'
        return f"{owner} rule that {when} requires {then}"
    return str(c)  # pragma: no cover - every constraint type is handled above


def walk_away_text(scenario: Scenario, party: str, reservation: float) -> str:
    """A party's walk-away point in words ("our walk-away point (utility 40)")."""
    owner = "our" if party == scenario.us_name else f"{party}'s"
    return f"{owner} walk-away point (utility {format_number(round(reservation, 6))})"


def agreed_text(issue: Issue) -> str:
    """An agreed issue in words ("the agreed term of 24 months")."""
    return f"the agreed {issue.name} of {issue.display(issue.value)}"
