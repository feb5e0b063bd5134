"""Results as tables: win-win packages, the Pareto frontier and the progress summary as CSV or as a
formatted .xlsx workbook (changed terms highlighted, gains per side, P(win-win)).

One row per package (the deal on the table first, when there is one): the terms, each party's
utility and gain, P(win-win) when the estimate ranges gave one, the objective (win-win packages)
or the solution concepts (frontier), and which issues it changes. The numbers are the JSON
output's numbers (``result.to_json_dict()``), so a sheet and ``--json`` always agree. openpyxl is
imported inside the xlsx writers so the CSV path stays lean.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from optimizer.engine.results import FrontierResult, ImproveResult, value_out
from optimizer.reports.summary import ProgressSummary
from optimizer.scenario.models import Scenario

REFERENCE_LABEL = "on the table"
HIGHLIGHT = "C6EFCE"  # changed terms (green, as in the app)
REOPENED = "F8CBAD"  # provisional issues a package reopens (orange, as in the app)
HEADER_FILL = "DDEBF7"


@dataclass
class Table:
    """A titled table: header, rows, and the (row, column) cells to highlight (0-based)."""

    title: str
    header: list[str]
    rows: list[list[Any]]
    changed: set[tuple[int, int]] = field(default_factory=set)
    reopened: set[tuple[int, int]] = field(default_factory=set)
    formats: dict[str, str] = field(default_factory=dict)  # column name -> Excel number format
    about: list[tuple[str, Any]] = field(default_factory=list)  # key/value lines for a cover sheet


def _num(x: float | None) -> Any:
    """A utility, gain or objective without float noise (39, not 39.00000000000001)."""
    return None if x is None else value_out(round(x, 9))


def package_table(scenario: Scenario, result: ImproveResult | FrontierResult) -> Table:
    """The packages of an improve or frontier result, one row each (the deal on the table first)."""
    frontier = isinstance(result, FrontierResult)
    issues = [i.name for i in scenario.issues]
    parties = list(result.parties)
    has_p = any(p.p_win_win is not None for p in result.packages)
    has_gain = any(p.gains is not None for p in result.packages)
    has_objective = not frontier and any(p.objective is not None for p in result.packages)
    header = ["package", *issues, *[f"utility {p}" for p in parties]]
    if has_gain:
        header += [f"gain {p}" for p in parties]
    if has_p:
        header.append("P(win-win)")
    if has_objective:
        header.append("objective")
    if frontier:
        header.append("concepts")
    header.append("changes")
    rows: list[list[Any]] = []
    if result.reference is not None:
        ref = [REFERENCE_LABEL, *[value_out(result.reference.get(i)) for i in issues]]
        ref += [_num(result.reference_utilities.get(p)) for p in parties]
        ref += [0 if has_gain else None] * (len(parties) if has_gain else 0)
        ref += [None] * (has_p + has_objective + frontier)
        ref.append("")
        rows.append(ref)
    table = Table(
        title="Pareto frontier" if frontier else "Win-win packages",
        header=header,
        rows=rows,
    )
    for n, p in enumerate(result.packages, 1):
        row: list[Any] = [n, *[value_out(p.package.get(i)) for i in issues]]
        row += [_num(p.utilities.get(q)) for q in parties]
        if has_gain:
            row += [_num((p.gains or {}).get(q)) for q in parties]
        if has_p:
            row.append(_num(p.p_win_win))
        if has_objective:
            row.append(_num(p.objective))
        if frontier:
            row.append(", ".join(p.concepts))
        moved = []
        for ch in p.changes:
            if ch.change in ("changed", "reopened", "set") and ch.issue in issues:
                cell = (len(rows), 1 + issues.index(ch.issue))
                if ch.change == "reopened":
                    table.reopened.add(cell)
                    moved.append(f"{ch.issue} (reopened)")
                elif ch.change == "changed":
                    table.changed.add(cell)
                    moved.append(ch.issue)
        row.append(", ".join(moved))
        rows.append(row)
    for q in parties:
        table.formats[f"utility {q}"] = "0.00"
        table.formats[f"gain {q}"] = "+0.00;-0.00;0.00"
    table.formats["P(win-win)"] = "0%"
    table.formats["objective"] = "0.00"
    table.about = [
        ("Scenario", scenario.name),
        ("Table", table.title),
        ("Exact", "yes" if result.exact else "no"),
        ("Status", result.status.termination.value),
        ("Solver", result.status.solver or "-"),
    ]
    if frontier:
        table.about.append(("Method", result.method))
    else:
        table.about.append(("Ranked by", result.objective))
    if result.explanation:
        table.about.append(("Note", result.explanation))
    if result.status.message:
        table.about.append(("Solver note", result.status.message))
    table.about.append(
        (
            "Highlighted",
            "yellow: a term changed from the deal on the table; orange: a provisional "
            "issue reopened for a gain",
        )
    )
    return table


def summary_table(scenario: Scenario, summary: ProgressSummary) -> Table:
    """The progress summary per issue: where it stands, why, and what the best package does."""
    category: dict[str, str] = {}
    for label, names in (
        ("agreed", summary.agreed),
        ("provisional", summary.provisional),
        ("in good shape", summary.good_shape),
        ("trouble", summary.trouble),
        ("still open", summary.still_open),
    ):
        for n in names:
            category.setdefault(n, label)
    rows = []
    table = Table(
        title="Progress summary",
        header=["issue", "status", "where it stands", "on the table", "best package", "why"],
        rows=rows,
    )
    best = summary.best_package or {}
    for j, issue in enumerate(scenario.issues):
        on_table = value_out(issue.value) if issue.value is not None else None
        proposed = value_out(best[issue.name]) if issue.name in best else None
        why = summary.reasons.get(issue.name, "")
        rows.append(
            [issue.name, issue.status, category.get(issue.name, ""), on_table, proposed, why]
        )
        if proposed is not None and proposed != on_table:
            (table.reopened if issue.name in summary.reopens else table.changed).add((j, 4))
    table.about = [("Scenario", scenario.name), ("Us", summary.us), ("Summary", summary.text)]
    for party, gain in summary.gains.items():
        table.about.append((f"Gain for {party}", "-" if gain is None else value_out(gain)))
    if summary.explanation:
        table.about.append(("Note", summary.explanation))
    return table


def to_csv(table: Table) -> str:
    """The table as CSV text (header first; numbers as the JSON output prints them)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(table.header)
    for row in table.rows:
        w.writerow(["" if v is None else v for v in row])
    return buf.getvalue()


def to_xlsx(table: Table) -> bytes:
    """The table as a workbook: the table sheet (frozen header, highlighted changes, number
    formats, filters) and an "About" sheet saying what it is and how exact."""
    from openpyxl import Workbook  # openpyxl only when a workbook is made
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = table.title
    ws.append(table.header)
    for c in range(1, len(table.header) + 1):
        cell = ws.cell(row=1, column=c)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
    for r, row in enumerate(table.rows):
        for c, v in enumerate(row):
            cell = ws.cell(row=r + 2, column=c + 1)
            cell.value = v
            if isinstance(v, str):
                cell.data_type = "s"  # a name starting with "=" is text, not a formula
            fmt = table.formats.get(table.header[c])
            if fmt and isinstance(v, int | float):
                cell.number_format = fmt
            if (r, c) in table.changed:
                cell.fill = PatternFill("solid", fgColor=HIGHLIGHT)
                cell.font = Font(bold=True)
            elif (r, c) in table.reopened:
                cell.fill = PatternFill("solid", fgColor=REOPENED)
                cell.font = Font(bold=True)
        if row and row[0] == REFERENCE_LABEL:
            for c in range(1, len(row) + 1):
                ws.cell(row=r + 2, column=c).font = Font(italic=True)
    for c, name in enumerate(table.header, 1):
        width = max([len(str(name))] + [len(str(row[c - 1])) for row in table.rows if row[c - 1]])
        ws.column_dimensions[get_column_letter(c)].width = min(max(width + 2, 9), 60)
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = ws.dimensions
    about = wb.create_sheet("About")
    for key, value in table.about:
        about.append([key, value])
        about.cell(row=about.max_row, column=1).font = Font(bold=True)
        if isinstance(value, str):
            about.cell(row=about.max_row, column=2).data_type = "s"
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 100
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
