"""The negotiation log: offers and counter-offers, the utility path, and who conceded what.

The log lives in ``scenario.history`` (a list of ``Offer``: date, by, package, status_changes,
note), so it is saved inside the scenario file and nothing is lost between meetings.

* ``record_offer(scenario, by=..., package=..., ...)`` returns an updated copy of the scenario with
  the offer appended. Its ``status_changes`` are applied to the issues too (an issue marked
  ``agreed`` takes the offer's value for it, or keeps the value on the table), and the result is
  validated like a file, so a bad offer raises ``ScenarioValidationError`` naming the problem.
* ``utility_path(scenario)`` gives every round with each party's utility. An offer may name only
  some issues; the rest are taken from the previous round, else from the value on the table; a
  round that still misses a value has no utilities.
* ``concession_analysis(scenario)`` / ``log_report(scenario)``: each party's *concession* is how
  much its own utility fell from its first offer to its latest one (its own utility: ours is known,
  theirs is our estimate). A concession of ours is *unreciprocated* when no other party conceded
  anything between our previous offer and this one. "Did we concede more than they did?" compares
  our concession with the largest concession of the other sides.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import MutableMapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from optimizer.reports.explain import EPS, english_list, points
from optimizer.scenario.models import TIE_TOL, Scenario, Status, format_number, value_out


class Round(BaseModel):
    """One offer of the log with each party's utility of it."""

    model_config = ConfigDict(extra="forbid")

    round: int = Field(description="1 for the first offer.")
    date: _dt.date
    by: str
    offered: dict[str, str | int | float] = Field(description="The terms as offered.")
    package: dict[str, str | int | float] | None = Field(
        description="The complete package (missing terms filled in); None when incomplete."
    )
    changed: list[str] = Field(default=[], description="Issues that moved since the last round.")
    status_changes: dict[str, Status] = {}
    note: str = ""
    utilities: dict[str, float] | None = None


class PartyConcession(BaseModel):
    """How far one party moved from its first offer, in its own utility."""

    model_config = ConfigDict(extra="forbid")

    party: str
    offers: int = Field(description="How many offers the party made (with utilities).")
    first: float | None = Field(default=None, description="Its utility of its first offer.")
    latest: float | None = Field(default=None, description="Its utility of its latest offer.")
    conceded: float = Field(default=0.0, description="first - latest (negative: it hardened).")
    unreciprocated: list[int] = Field(
        default=[], description="Rounds where it conceded with no concession from others since."
    )


class LogReport(BaseModel):
    """The rounds, the utility path of every party and the concession analysis."""

    model_config = ConfigDict(extra="forbid")

    us: str
    parties: list[str]
    rounds: list[Round] = []
    concessions: dict[str, PartyConcession] = {}
    we_conceded_more: bool | None = Field(
        default=None, description="None when there is not enough history to tell."
    )
    warnings: list[str] = Field(
        default=[],
        description="Offers of ours below our walk-away point or going back on an earlier "
        "offer of ours, and retractions by the other sides.",
    )
    text: str = ""


# --------------------------------------------------------------------------------------------
# Recording
# --------------------------------------------------------------------------------------------


def record_offer(
    scenario: Scenario,
    *,
    by: str,
    package: dict[str, Any] | None = None,
    date: _dt.date | str | None = None,
    status_changes: dict[str, str] | None = None,
    note: str = "",
) -> Scenario:
    """A copy of the scenario with one more offer in its log (and its status changes applied)."""
    from optimizer.scenario.files import scenario_from_data, scenario_to_data

    data = scenario_to_data(scenario)
    apply_offer(data, offer_entry(by, package, date, status_changes, note))
    return scenario_from_data(data, source="offer")


def offer_entry(
    by: str,
    package: dict[str, Any] | None = None,
    date: _dt.date | str | None = None,
    status_changes: dict[str, str] | None = None,
    note: str = "",
) -> dict[str, Any]:
    """One offer as it is written in a scenario file's ``history`` (date defaults to today)."""
    terms = {
        k: int(v) if isinstance(v, float) and v.is_integer() else v
        for k, v in (package or {}).items()
    }
    offer: dict[str, Any] = {"date": str(date or _dt.date.today()), "by": by, "package": terms}
    if status_changes:
        offer["status_changes"] = dict(status_changes)
    if note:
        offer["note"] = note
    return offer


def apply_offer(data: MutableMapping[str, Any], offer: dict[str, Any]) -> None:
    """Add an offer (from ``offer_entry``) to a scenario file's data, in place: appended to its
    history, its status changes applied to the issues (an issue marked ``agreed`` takes the
    offer's value for it). Works on plain dicts and on a round-trip YAML document alike."""
    if data.get("history") is None:
        data["history"] = []
    data["history"].append(offer)
    changes = offer.get("status_changes", {})
    package = offer["package"]
    for issue in data.get("issues") or []:
        name = issue.get("name")
        if name in changes:
            new = changes[name]
            if new == "open":
                issue.pop("status", None)
            else:
                issue["status"] = new
            if name in package:
                issue["value"] = package[name]


# --------------------------------------------------------------------------------------------
# The utility path and the concessions
# --------------------------------------------------------------------------------------------


def utility_path(scenario: Scenario) -> list[Round]:
    """Every round of the log with each party's utility of the (completed) package."""
    from optimizer.scenario.utility import UtilityTables

    tables = UtilityTables.build(scenario)
    current: dict[str, Any] = {i.name: i.value for i in scenario.issues if i.value is not None}
    previous: dict[str, Any] | None = None
    rounds = []
    for n, offer in enumerate(scenario.history, start=1):
        full = dict(current)
        full.update(offer.package)
        complete = all(name in full and full[name] is not None for name in scenario.issue_names)
        utilities = None
        package = None
        if complete:
            index = scenario.encode({k: full[k] for k in scenario.issue_names})
            u = tables.evaluate(index[None, :])[0]
            utilities = {p: float(u[j]) for j, p in enumerate(scenario.party_names)}
            package = {k: value_out(v) for k, v in scenario.decode(index).items()}
        changed = []
        if previous is not None:
            for name in scenario.issue_names:
                a, b = previous.get(name), full.get(name)
                issue = scenario.issue(name)
                if b is not None and (a is None or issue.index_of(a) != issue.index_of(b)):
                    changed.append(name)
        rounds.append(
            Round(
                round=n,
                date=offer.date,
                by=offer.by,
                offered={k: value_out(v) for k, v in offer.package.items()},
                package=package,
                changed=changed,
                status_changes=dict(offer.status_changes),
                note=offer.note,
                utilities=utilities,
            )
        )
        current = full
        previous = full
    return rounds


def concession_analysis(
    scenario: Scenario, rounds: list[Round] | None = None
) -> dict[str, PartyConcession]:
    """Per party: its utility of its first and latest offers, and unreciprocated concessions."""
    rounds = utility_path(scenario) if rounds is None else rounds
    out = {p: PartyConcession(party=p, offers=0) for p in scenario.party_names}
    last_own: dict[str, float] = {}
    conceded_since: dict[str, set[str]] = {p: set() for p in scenario.party_names}
    for r in rounds:
        if r.utilities is None or r.by not in out:
            continue
        mine = r.utilities[r.by]
        pc = out[r.by]
        pc.offers += 1
        if pc.first is None:
            pc.first = mine
        pc.latest = mine
        if r.by in last_own:
            move = last_own[r.by] - mine
            if move > EPS:
                if not conceded_since[r.by]:
                    pc.unreciprocated.append(r.round)
                for p in scenario.party_names:
                    if p != r.by:
                        conceded_since[p].add(r.by)
        conceded_since[r.by] = set()
        last_own[r.by] = mine
    for pc in out.values():
        if pc.first is not None and pc.latest is not None:
            pc.conceded = pc.first - pc.latest
    return out


def log_report(scenario: Scenario) -> LogReport:
    """The rounds, the utility path and the concession analysis, with a plain-words summary."""
    rounds = utility_path(scenario)
    concessions = concession_analysis(scenario, rounds)
    us = scenario.us_name
    others = [p for p in scenario.party_names if p != us]
    ours = concessions[us]
    theirs = [concessions[o] for o in others if concessions[o].offers > 0]
    more: bool | None = None
    if ours.offers > 0 and theirs:
        more = ours.conceded > max(c.conceded for c in theirs) + EPS
    report = LogReport(
        us=us,
        parties=scenario.party_names,
        rounds=rounds,
        concessions=concessions,
        we_conceded_more=more,
    )
    report.warnings = offer_warnings(scenario, rounds)
    report.text = _text(report, others)
    if report.warnings:
        report.text += " Warning: " + " ".join(report.warnings)
    return report


def offer_warnings(scenario: Scenario, rounds: list[Round] | None = None) -> list[str]:
    """Warnings on the log, round by round:

    * an offer of ours below our walk-away point (worse for us than no deal);
    * an offer of ours that goes backwards from our previous offer: worse for another side
      (our estimate) than what we already offered them -- a retraction costs trust;
    * an offer of theirs that goes backwards from their previous one: worse for us (a
      retraction): ask why before moving."""
    rounds = utility_path(scenario) if rounds is None else rounds
    us = scenario.us_name
    walk = scenario.reservation(us)
    last: dict[str, Round] = {}
    out: list[str] = []
    for r in rounds:
        if r.utilities is None or r.by not in scenario.party_names:
            continue
        prev = last.get(r.by)
        if r.by == us:
            if walk is not None and r.utilities[us] < walk - TIE_TOL:
                out.append(
                    f"Round {r.round}: our offer gives us {_one(r.utilities[us])}, below our "
                    f"walk-away point ({_one(walk)})."
                )
            if prev is not None and prev.utilities is not None:
                worse = [
                    p
                    for p in scenario.party_names
                    if p != us and r.utilities[p] < prev.utilities[p] - TIE_TOL
                ]
                if worse:
                    lost = english_list(
                        [f"{p} by {_one(prev.utilities[p] - r.utilities[p])}" for p in worse]
                    )
                    out.append(
                        f"Round {r.round}: our offer goes backwards from our offer of round "
                        f"{prev.round}: it is worse for {lost} points (our estimate). Going back "
                        "on an offer costs trust; say why, or restore it."
                    )
        elif prev is not None and prev.utilities is not None:
            drop = prev.utilities[us] - r.utilities[us]
            if drop > TIE_TOL:
                out.append(
                    f"Round {r.round}: {r.by} went backwards from its offer of round "
                    f"{prev.round}: a retraction, worse for us by {_one(drop)} points. Ask why "
                    "before moving."
                )
        last[r.by] = r
    return out


def _one(x: float) -> str:
    return format_number(round(float(x), 1))


def _conceded_words(c: PartyConcession, own: str) -> str:
    if c.conceded > EPS:
        return f"conceded {format_number(round(c.conceded, 1))} points of {own} utility"
    if c.conceded < -EPS:
        return f"hardened by {format_number(round(-c.conceded, 1))} points of {own} utility"
    return "not moved"


def _text(report: LogReport, others: list[str]) -> str:
    if not report.rounds:
        return "No offers are recorded yet."
    n = len(report.rounds)
    parts = [f"{n} offer{'s' if n != 1 else ''} recorded."]
    ours = report.concessions[report.us]
    if ours.offers == 0:
        parts.append("We have made no offer yet.")
    elif ours.offers == 1:
        parts.append("We have made one offer.")
    else:
        parts.append(f"Since our first offer we have {_conceded_words(ours, 'our')}.")
    for o in others:
        c = report.concessions[o]
        if c.offers >= 2:
            parts.append(f"{o} has {_conceded_words(c, 'its')} (our estimate).")
        elif c.offers == 1:
            parts.append(f"{o} has made one offer.")
    if report.we_conceded_more is True:
        parts.append("We have conceded more than they have: ask for a move before moving again.")
    elif report.we_conceded_more is False and ours.offers >= 2:
        parts.append("We have not conceded more than they have.")
    if ours.unreciprocated:
        rounds = english_list([str(r) for r in ours.unreciprocated])
        parts.append(
            f"Unreciprocated concession{'s' if len(ours.unreciprocated) != 1 else ''} of ours in "
            f"round{'s' if len(ours.unreciprocated) != 1 else ''} {rounds}: don't try to buy love."
        )
    return " ".join(parts)


def format_log(scenario: Scenario, report: LogReport | None = None) -> str:
    """The rounds and the utility path as a plain-text table, then the analysis."""
    report = log_report(scenario) if report is None else report
    if not report.rounds:
        return report.text
    parties = report.parties
    head = ["round", "date", "by"] + [f"{p} utility" for p in parties] + ["what moved"]
    rows = []
    prev: dict[str, float] | None = None
    for r in report.rounds:
        cells = [str(r.round), r.date.isoformat(), r.by]
        for p in parties:
            if r.utilities is None:
                cells.append("-")
            else:
                u = r.utilities[p]
                delta = "" if prev is None else f" ({points(u - prev[p])})"
                cells.append(f"{u:.1f}{delta}")
        moved = []
        for name in r.changed if r.round > 1 else list(r.offered):
            issue = scenario.issue(name)
            value = (r.package or r.offered).get(name)
            moved.append(f"{name}={issue.display(value)}")
        moved += [f"{k} {v}" for k, v in r.status_changes.items()]
        cells.append("; ".join(moved) or "-")
        rows.append(cells)
        if r.utilities is not None:
            prev = r.utilities
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    notes = [f"round {r.round}: {r.note}" for r in report.rounds if r.note]
    out = "\n".join(lines)
    if notes:
        out += "\n\nNotes:\n" + "\n".join(f"  {n}" for n in notes)
    return out + "\n\n" + report.text
