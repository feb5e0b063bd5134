"""Views shared by the result pages: packages as tables a negotiator reads at a glance.

``package_table`` lays packages out with issues as rows and packages as columns (the deal on the
table first), followed by each party's utility and gain; ``table_styles`` colours what changed
(green), what a package reopens (amber) and the gains. Pure pandas, so tests can check the cells.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from optimizer.scenario.models import Scenario, format_number, format_percent
from ui.text import md

ON_TABLE = "On the table"
CHANGED_BG = "background-color: rgba(46, 160, 67, 0.22); font-weight: 600"
REOPENED_BG = "background-color: rgba(230, 150, 20, 0.30); font-weight: 600"
SET_BG = "background-color: rgba(60, 120, 220, 0.18); font-weight: 600"
SECTION_BG = "background-color: rgba(128, 128, 128, 0.10)"

CONCEPT_LABELS = {
    "utilitarian": "max joint gain",
    "egalitarian": "max-min gain",
    "nash": "Nash bargaining",
    "kalai_smorodinsky": "Kalai–Smorodinsky",
}


def fmt_utility(x: float | None) -> str:
    """A utility as people read it (one decimal)."""
    return "-" if x is None else f"{x:.1f}"


def fmt_probability(p: float | None) -> str:
    """A probability as a percentage ("87%", "> 99%"), or "-" when unknown."""
    return "-" if p is None else format_percent(p)


def fmt_gain(x: float | None) -> str:
    """A gain with its sign (+4.2 / -1.0 / ±0.0)."""
    if x is None:
        return "-"
    if abs(x) < 0.05:
        return "±0.0"
    return f"{x:+.1f}"


def issue_label(scenario: Scenario, name: str) -> str:
    """An issue's row label with its status (``term (provisional)``)."""
    issue = scenario.issue(name)
    return name if issue.status == "open" else f"{name} ({issue.status})"


def change_kind(scenario: Scenario, package: Any, issue_name: str) -> str:
    """kept / changed / reopened / set for one issue of a PackageResult (or a plain package)."""
    for ch in getattr(package, "changes", None) or []:
        if ch.issue == issue_name:
            return ch.change
    pkg = package.package if hasattr(package, "package") else package
    issue = scenario.issue(issue_name)
    if issue.value is None:
        return "set"
    if issue.index_of(pkg.get(issue_name)) == issue.index_of(issue.value):
        return "kept"
    return "reopened" if issue.status == "provisional" else "changed"


def package_table(
    scenario: Scenario,
    packages: list[Any],
    names: list[str],
    reference_utilities: dict[str, float] | None = None,
    parties: list[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cells, change kinds): issues as rows, ``On the table`` then one column per package.

    Below the issues: one ``Utility: party`` and one ``Gain: party`` row per party, and a
    ``Reopens`` row, and a ``P(win-win)`` row when the packages carry probabilities (estimate
    ranges). The second frame holds, per cell, kept/changed/reopened/set (or "")."""
    parties = parties or scenario.party_names
    cols = [ON_TABLE, *names]
    index = [issue_label(scenario, i.name) for i in scenario.issues]
    cells: dict[str, list[str]] = {ON_TABLE: [i.display(i.value) for i in scenario.issues]}
    kinds: dict[str, list[str]] = {ON_TABLE: ["" for _ in scenario.issues]}
    ref_u = reference_utilities or {}
    for party in parties:
        index.append(f"Utility: {party}")
        cells[ON_TABLE].append(fmt_utility(ref_u.get(party)))
        kinds[ON_TABLE].append("section")
    for party in parties:
        index.append(f"Gain: {party}")
        cells[ON_TABLE].append("")
        kinds[ON_TABLE].append("section")
    money = money_issue_name(scenario)
    if money is not None:
        for party in parties:
            index.append(f"Gain in {money}: {party}")
            cells[ON_TABLE].append("")
            kinds[ON_TABLE].append("section")
    index.append("Reopens")
    cells[ON_TABLE].append("")
    kinds[ON_TABLE].append("section")
    with_p = any(getattr(p, "p_win_win", None) is not None for p in packages)
    if with_p:
        index.append("P(win-win)")
        cells[ON_TABLE].append("")
        kinds[ON_TABLE].append("section")
    for name, pkg in zip(names, packages, strict=True):
        col: list[str] = []
        kind: list[str] = []
        for issue in scenario.issues:
            col.append(issue.display(pkg.package.get(issue.name)))
            k = change_kind(scenario, pkg, issue.name)
            kind.append("" if k == "kept" else k)
        for party in parties:
            col.append(fmt_utility(pkg.utilities.get(party)))
            kind.append("section")
        for party in parties:
            gain = (pkg.gains or {}).get(party)
            if gain is None and party in ref_u and party in pkg.utilities:
                gain = pkg.utilities[party] - ref_u[party]
            col.append(fmt_gain(gain))
            kind.append("gain+" if gain is not None and gain > 0.05 else "section")
        if money is not None:
            texts = money_gains(scenario, pkg, ref_u) or {}
            for party in parties:
                col.append(texts.get(party, "-"))
                kind.append("section")
        reopened = list(pkg.reopened or [])
        col.append(", ".join(reopened) if reopened else "none")
        kind.append("reopened" if reopened else "section")
        if with_p:
            col.append(fmt_probability(pkg.p_win_win))
            kind.append("section")
        cells[name] = col
        kinds[name] = kind
    return (
        pd.DataFrame(cells, index=index, columns=cols),
        pd.DataFrame(kinds, index=index, columns=cols),
    )


def table_styles(kinds: pd.DataFrame) -> pd.DataFrame:
    """CSS per cell for ``package_table``'s change kinds."""
    css = {
        "changed": CHANGED_BG,
        "reopened": REOPENED_BG,
        "set": SET_BG,
        "section": SECTION_BG,
        "gain+": SECTION_BG + "; color: rgb(30, 130, 50); font-weight: 600",
        "": "",
    }
    return kinds.map(lambda k: css.get(k, ""))


def styled(cells: pd.DataFrame, kinds: pd.DataFrame) -> Any:
    """The table as a pandas Styler with the change colours."""
    styles = table_styles(kinds)
    return cells.style.apply(lambda _: styles, axis=None)


def concept_names(concepts: list[str]) -> str:
    """Solution concepts in words ("Nash bargaining, max joint gain")."""
    return ", ".join(CONCEPT_LABELS.get(c, c) for c in concepts)


def differences(scenario: Scenario, package: dict[str, Any]) -> list[str]:
    """What a package changes versus the deal on the table, one phrase per issue."""
    out = []
    for issue in scenario.issues:
        v = package.get(issue.name)
        if issue.value is None:
            out.append(f"{issue.name}: {issue.display(v)} (nothing on the table)")
        elif issue.index_of(v) != issue.index_of(issue.value):
            tag = " — reopens a provisional issue" if issue.status == "provisional" else ""
            out.append(f"{issue.name}: {issue.display(issue.value)} → {issue.display(v)}{tag}")
    return out


def number(x: float) -> str:
    """A plain number for captions."""
    return format_number(round(float(x), 6))


def money_issue_name(scenario: Scenario) -> str | None:
    """The scenario's money issue (``optimizer.engine.money``), or None."""
    from optimizer.engine.money import money_issue

    issue = money_issue(scenario)
    return None if issue is None else issue.name


def money_gains(
    scenario: Scenario, pkg: Any, reference_utilities: dict[str, float] | None = None
) -> dict[str, str] | None:
    """Party -> a package's gain as money ('+4.57 USD/month'), or None without a money issue."""
    from optimizer.engine.money import money_texts

    gains = dict(getattr(pkg, "gains", None) or {})
    ref = reference_utilities or {}
    for party, u in (getattr(pkg, "utilities", None) or {}).items():
        if party not in gains and party in ref:
            gains[party] = u - ref[party]
    if not gains:
        return None
    texts = money_texts(scenario, gains)
    if texts is None:
        return None
    out = {}
    for p, t in texts.items():
        plain = t == "-" or t.startswith(("-", "a loss", "more")) or gains[p] < 0.0
        out[p] = t if plain else f"+{t}"
    return out


def walkaway_warning(scenario: Scenario, container: Any = None) -> Any:
    """When the deal on the table is below our walk-away point: an error box saying so, with
    the packages that reach it and what the other side would have to accept. Returns the check
    (``optimizer.reports.guards.TableCheck``) or None when the table is not below it."""
    import streamlit as st

    from ui import state

    container = container or st
    outcome = state.engine_call("optimizer.reports.guards", "table_below_walkaway", scenario)
    check = outcome.value if outcome.ok else None
    if check is None or not check.below:
        return None
    head, *items = check.text.split("\n")
    lines = [f"- {md(i.strip().removeprefix('- '))}" for i in items]  # names escaped
    container.error(
        md(head) + ("\n\n" + "\n".join(lines) if items else ""),
        icon=":material/block:",
    )
    return check
