"""Scenario <-> Excel workbook (.xlsx): the layout a buyer reads, loss-free both ways.

Sheets (see README "Spreadsheets"):

* **Scenario** -- name, description, our side, utility scale; a *Notes* table keeps the metadata.
* **Issues** -- one row per issue: status, value on the table, min/max/step/unit for a numeric
  issue, the options (one per cell, ``option 1``, ``option 2``...) for a categorical one.
* **one sheet per party** (cell A1 says ``Party``; B1 holds the name, the sheet title is only a
  label) -- *Walk-away point and aspiration*, *Weights*, *Values* (option scores and value shapes,
  a piecewise shape one row per point), *Synergies*, *Packages that set a level* and *Statements*
  (what the party said, for dealopt estimate). An estimate
  is a number in ``likely`` alone, or a range in ``low``/``likely``/``high``.
* **Constraints** -- one row per term, rows of one constraint share its number.
* **Negotiation log** -- one row per term offered, rows of one offer share its number.

Every mapping keeps its order through the rows, and a cell keeps its type (text or number), so
YAML -> xlsx -> YAML gives the same scenario and the same YAML. Reading reports each problem as
``sheet "Issues" row 4 column "max": ...`` (all of them in one run), never a traceback, then runs
the normal scenario validation. openpyxl is imported inside the functions that need it so
``dealopt validate`` stays lean.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optimizer.errors import DealoptError, ScenarioFileError, ScenarioValidationError
from optimizer.scenario.files import read_bytes, scenario_from_data, scenario_to_data
from optimizer.scenario.models import STATUSES, Problem, Scenario, format_number

SCENARIO_SHEET = "Scenario"
ISSUES_SHEET = "Issues"
CONSTRAINTS_SHEET = "Constraints"
LOG_SHEET = "Negotiation log"
HELP_SHEET = "How to fill in"
PARTY_MARK = "Party"
EXAMPLE_MARK = "Example party (not imported)"

NOTES = "Notes (kept with the scenario)"
LEVELS = "Walk-away point and aspiration"
WEIGHTS = "Weights"
VALUES = "Values"
SYNERGIES = "Synergies"
LEVEL_PACKAGES = "Packages that set a level"

ISSUE_COLS = ["issue", "description", "status", "value on the table", "min", "max", "step", "unit"]
NOTE_COLS = ["key", "value", "format"]
LEVEL_COLS = ["level", "low", "likely", "high"]
WEIGHT_COLS = ["issue", "low", "likely", "high"]
VALUE_COLS = [
    "issue",
    "option",
    "low",
    "likely",
    "high",
    "shape",
    "peak",
    "point value",
    "point score",
]
SYNERGY_COLS = ["issue 1", "option 1", "issue 2", "option 2", "bonus", "description"]
PACKAGE_COLS = ["level", "issue", "option / value"]
STATEMENTS = "Statements"
STATEMENT_COLS = ["statement", "kind", "side", "issue", "option / value", "times", "than", "note"]
STATEMENT_KINDS = ("prefers", "equal", "order", "swing")
CONSTRAINT_COLS = [
    "constraint",
    "type",
    "name",
    "party",
    "description",
    "limit",
    "unit",
    "part",
    "issue",
    "option / value",
    "min",
    "max",
    "cost",
    "per unit",
    "base",
]
LOG_COLS = ["offer", "date", "by", "issue", "offered", "new status", "note"]

LEVEL_NAMES = {"walk-away point": "reservation_value", "aspiration": "aspiration"}
SHAPES = ("increasing", "decreasing", "peak", "piecewise")
CONSTRAINT_TYPES = ("acceptable", "forbidden", "implies", "budget")
PARTS = {"acceptable": ("acceptable",), "forbidden": ("combination",), "implies": ("when", "then")}
PARTS["budget"] = ("cost",)
MIN_OPTION_COLUMNS = 8
MIN_ANY_COLUMNS = 4
SPARE_ROWS = 200  # how far down drop-downs and number checks reach past the data

ESTIMATE_NOTE = "a number: likely only; an uncertain estimate: low, likely and high"
_BOLD_FILL = "DDEBF7"
_TITLE_FILL = "1F4E78"


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _clean_text(value: str, where: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # openpyxl only when a workbook is made

    if ILLEGAL_CHARACTERS_RE.search(value):
        raise DealoptError(f"{where}: {value!r} holds a control character a workbook cannot store")
    return value


class _Writer:
    """Writes rows into one sheet; numbers stay numbers, text stays text (even ``=...``)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.row = 1

    def put(self, row: int, col: int, value: Any) -> Any:
        cell = self.ws.cell(row=row, column=col)
        if value is None:
            return cell
        if isinstance(value, bool):
            value = json.dumps(value)
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            value = int(value)
        if isinstance(value, str):
            cell.value = _clean_text(value, f'sheet "{self.ws.title}" row {row}')
            cell.data_type = "s"  # text that starts with "=" is not a formula
        elif isinstance(value, _dt.date):
            cell.value = value
            cell.number_format = "yyyy-mm-dd"
        else:
            cell.value = value
        return cell

    def line(self, values: Iterable[Any]) -> int:
        for c, v in enumerate(values, 1):
            self.put(self.row, c, v)
        self.row += 1
        return self.row - 1

    def title(self, text: str, note: str = "") -> None:
        from openpyxl.styles import Font

        cell = self.put(self.row, 1, text)
        cell.font = Font(bold=True, size=12, color=_TITLE_FILL)
        if note:
            self.put(self.row, 2, note).font = Font(italic=True, color="808080")
        self.row += 1

    def header(self, names: list[str]) -> int:
        from openpyxl.styles import Font, PatternFill

        r = self.line(names)
        for c in range(1, len(names) + 1):
            cell = self.ws.cell(row=r, column=c)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor=_BOLD_FILL)
        return r

    def label(self, key: str, value: Any, note: str = "") -> int:
        from openpyxl.styles import Font

        r = self.line([key, value])
        self.ws.cell(row=r, column=1).font = Font(bold=True)
        if note:
            self.put(r, 3, note).font = Font(italic=True, color="808080")
        return r


def _letter(col: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(col)


def _list_rule(ws: Any, cells: str, formula: str, what: str) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    dv = DataValidation(type="list", formula1=formula, allow_blank=True)
    dv.error = f"Choose {what} from the list"
    dv.errorTitle = "Not in the list"
    dv.showErrorMessage = True
    ws.add_data_validation(dv)
    dv.add(cells)


def _choices(ws: Any, cells: str, names: Iterable[str], what: str) -> None:
    """A drop-down of fixed names (skipped when Excel's 255-character inline list cannot hold them)."""
    names = list(names)
    text = ",".join(names)
    if not names or len(text) > 250 or any(("," in n or '"' in n) for n in names):
        return
    _list_rule(ws, cells, f'"{text}"', what)


def _number_rule(ws: Any, cells: str, minimum: float | None = None) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    if minimum is None:
        dv = DataValidation(
            type="decimal", operator="between", formula1="-1E+300", formula2="1E+300"
        )
    else:
        dv = DataValidation(
            type="decimal", operator="greaterThanOrEqual", formula1=format_number(minimum)
        )
    dv.allow_blank = True
    dv.error = "Type a number" + ("" if minimum is None else f" of at least {minimum:g}")
    dv.errorTitle = "A number is needed"
    dv.showErrorMessage = True
    ws.add_data_validation(dv)
    dv.add(cells)


def _date_rule(ws: Any, cells: str) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    dv = DataValidation(type="date", operator="greaterThan", formula1="1")
    dv.allow_blank = True
    dv.error = "Type a date (YYYY-MM-DD)"
    dv.errorTitle = "A date is needed"
    dv.showErrorMessage = True
    ws.add_data_validation(dv)
    dv.add(cells)


def _span(col: int, first: int, last: int) -> str:
    return f"{_letter(col)}{first}:{_letter(col)}{last}"


def _widths(ws: Any, widths: dict[int, float]) -> None:
    for col, w in widths.items():
        ws.column_dimensions[_letter(col)].width = w


def _estimate_cells(v: Any) -> list[Any]:
    """low, likely, high cells of a number or a {low, likely, high} range."""
    if isinstance(v, dict):
        return [v.get("low"), v.get("likely"), v.get("high")]
    return [None, v, None]


def _issue_refs(n_issues: int) -> str:
    return f"{ISSUES_SHEET}!$A$2:$A${n_issues + 1 + SPARE_ROWS}"


@dataclass
class _Layout:
    """Where each issue's options sit on the Issues sheet (for drop-downs elsewhere)."""

    issue_row: dict[str, int] = field(default_factory=dict)
    first_option_col: int = len(ISSUE_COLS) + 1
    option_cols: int = MIN_OPTION_COLUMNS
    n_issues: int = 0

    def options_ref(self, issue: str, absolute_sheet: bool = True) -> str | None:
        r = self.issue_row.get(issue)
        if r is None:
            return None
        a = _letter(self.first_option_col)
        b = _letter(self.first_option_col + self.option_cols - 1)
        ref = f"${a}${r}:${b}${r}"
        return f"{ISSUES_SHEET}!{ref}" if absolute_sheet else ref


def _write_scenario_sheet(ws: Any, data: dict[str, Any]) -> None:
    w = _Writer(ws)
    w.label("Name", data.get("name", ""))
    w.label("Description", data.get("description"))
    w.label("Us", data.get("us"), "which party is us (blank: the first party sheet)")
    w.label(
        "Utility scale", data.get("utility_scale"), "utility of a party's best package (blank: 100)"
    )
    w.label(
        "Money issue",
        data.get("money_issue"),
        "the numeric issue whose unit is money (blank: the most weighted one with a currency)",
    )
    w.row += 1
    w.title(NOTES, "free-form notes; format JSON for lists and mappings")
    w.header(NOTE_COLS)
    for key, value in (data.get("metadata") or {}).items():
        if isinstance(value, str) or (
            isinstance(value, int | float) and not isinstance(value, bool)
        ):
            w.line([key, value])
        else:
            w.line([key, json.dumps(value, ensure_ascii=False), "JSON"])
    _widths(ws, {1: 18, 2: 80, 3: 40})
    ws.freeze_panes = "A2"


def _write_issues_sheet(ws: Any, data: dict[str, Any]) -> _Layout:
    issues = data.get("issues", [])
    layout = _Layout(n_issues=len(issues))
    layout.option_cols = max([MIN_OPTION_COLUMNS] + [len(i.get("options") or []) for i in issues])
    w = _Writer(ws)
    w.header(ISSUE_COLS + [f"option {k + 1}" for k in range(layout.option_cols)])
    for issue in issues:
        r = w.line(
            [
                issue["name"],
                issue.get("description"),
                issue.get("status", "open"),
                issue.get("value"),
                issue.get("min"),
                issue.get("max"),
                issue.get("step"),
                issue.get("unit"),
                *(issue.get("options") or []),
            ]
        )
        layout.issue_row[issue["name"]] = r
        if issue.get("options") is not None:
            _list_rule(ws, f"D{r}", layout.options_ref(issue["name"], False) or "", "an option")
        else:
            _number_rule(ws, f"D{r}")
    last = len(issues) + 1 + SPARE_ROWS
    _choices(ws, _span(3, 2, last), STATUSES, "a status")
    for col in (5, 6, 7):
        _number_rule(ws, _span(col, 2, last), 0 if col == 7 else None)
    _widths(ws, {1: 24, 2: 40, 3: 12, 4: 20, 5: 9, 6: 9, 7: 7, 8: 10})
    for k in range(layout.option_cols):
        _widths(ws, {layout.first_option_col + k: 18})
    ws.freeze_panes = "B2"
    return layout


def _write_party_sheet(
    ws: Any, party: dict[str, Any], layout: _Layout, mark: str = PARTY_MARK
) -> None:
    w = _Writer(ws)
    w.label(mark, party.get("name", ""))
    w.label("Description", party.get("description"))
    w.label(
        "Utility scale",
        party.get("utility_scale"),
        "blank: the scenario's; a number: this party's own multiplier",
    )
    w.row += 1
    prefs = party.get("preferences") or {}
    issue_list = _issue_refs(layout.n_issues)

    w.title(LEVELS, ESTIMATE_NOTE)
    w.header(LEVEL_COLS)
    first = w.row
    package_rows: list[list[Any]] = []
    for label, key in LEVEL_NAMES.items():
        v = party.get(key)
        if isinstance(v, dict) and "package" in v:
            w.line([label])
            package_rows += [[label, k, x] for k, x in v["package"].items()]
        else:
            w.line([label, *_estimate_cells(v)])
    _choices(ws, _span(1, first, w.row - 1), LEVEL_NAMES, "a level")
    _number_rule(ws, f"B{first}:D{w.row - 1}")
    w.row += 1

    w.title(WEIGHTS, "how much each issue matters to this party; " + ESTIMATE_NOTE)
    w.header(WEIGHT_COLS)
    first = w.row
    for issue, v in (prefs.get("weights") or {}).items():
        w.line([issue, *_estimate_cells(v)])
    last = max(w.row - 1, first) + max(layout.n_issues, 6)
    _list_rule(ws, _span(1, first, last), issue_list, "an issue")
    _number_rule(ws, f"B{first}:D{last}", 0)
    w.row = last + 2

    w.title(
        VALUES,
        "a score per option, or a shape (increasing, decreasing, peak, piecewise: one row "
        "per point)",
    )
    w.header(VALUE_COLS)
    first = w.row
    for issue, spec in (prefs.get("values") or {}).items():
        if isinstance(spec, dict) and "shape" in spec:
            points = spec.get("points") or []
            head = [issue, None, None, None, None, spec["shape"], spec.get("peak")]
            if not points:
                w.line(head)
            for k, (x, y) in enumerate(points):
                w.line((head if k == 0 else [issue, None, None, None, None, None, None]) + [x, y])
            continue
        if not spec:
            w.line([issue])
        for option, est in spec.items():
            r = w.line([issue, option, *_estimate_cells(est)])
            ref = layout.options_ref(issue)
            if ref:
                _list_rule(ws, f"B{r}", ref, "an option")
    last = max(w.row - 1, first) + max(2 * layout.n_issues, 12)
    _list_rule(ws, _span(1, first, last), issue_list, "an issue")
    _choices(ws, _span(6, first, last), SHAPES, "a shape")
    _number_rule(ws, f"C{first}:E{last}")
    _number_rule(ws, f"G{first}:I{last}")
    w.row = last + 2

    w.title(SYNERGIES, "utility points added when both options are chosen (negative: a penalty)")
    w.header(SYNERGY_COLS)
    first = w.row
    for syn in prefs.get("synergies") or []:
        pairs = list((syn.get("when") or {}).items())
        cells: list[Any] = []
        for issue, opt in pairs[:2]:
            cells += [issue, opt]
        cells += [None] * (4 - len(cells))
        w.line([*cells, syn.get("bonus"), syn.get("description")])
    last = w.row + 4
    _list_rule(ws, _span(1, first, last), issue_list, "an issue")
    _list_rule(ws, _span(3, first, last), issue_list, "an issue")
    _number_rule(ws, _span(5, first, last))
    w.row = last + 2

    w.title(
        LEVEL_PACKAGES,
        "instead of a number: the walk-away point or aspiration is this package's utility",
    )
    w.header(PACKAGE_COLS)
    first = w.row
    for cells in package_rows:
        w.line(cells)
    last = w.row + max(layout.n_issues, 6)
    _choices(ws, _span(1, first, last), LEVEL_NAMES, "a level")
    _list_rule(ws, _span(2, first, last), issue_list, "an issue")
    w.row = last + 2

    w.title(
        STATEMENTS,
        "what the party said (dealopt estimate fits weights to it): prefers/over, equal (sides "
        "A and B), order (best first), swing (issue matters times as much as than)",
    )
    w.header(STATEMENT_COLS)
    first = w.row
    for k, st in enumerate(party.get("statements") or [], 1):
        for j, cells in enumerate(_statement_rows(st)):
            w.line([k, *cells, st.get("note") if j == 0 else None])
    last = w.row + 6
    _choices(ws, _span(2, first, last), STATEMENT_KINDS, "a kind of statement")
    _choices(ws, _span(3, first, last), ["prefers", "over", "A", "B"], "a side")
    _list_rule(ws, _span(4, first, last), issue_list, "an issue")
    _number_rule(ws, _span(6, first, last), 0)
    _widths(ws, {1: 30, 2: 24, 3: 12, 4: 12, 5: 12, 6: 12, 7: 10, 8: 12, 9: 12})
    ws.freeze_panes = "A2"


def _statement_rows(st: dict[str, Any]) -> list[list[Any]]:
    """kind, side, issue, option/value, times, than of each row of one statement."""
    if "prefers" in st:
        return [
            ["prefers", side, i, v, None, None]
            for side in ("prefers", "over")
            for i, v in (st.get(side) or {}).items()
        ]
    if "equal" in st:
        return [
            ["equal", side, i, v, None, None]
            for side, pkg in zip("AB", st["equal"], strict=False)
            for i, v in pkg.items()
        ]
    if "order" in st:
        return [["order", None, st.get("issue"), v, None, None] for v in st["order"]]
    return [["swing", None, st.get("swing"), None, st.get("times"), st.get("than")]]


def _write_constraints_sheet(ws: Any, data: dict[str, Any], parties: list[str], n: int) -> None:
    constraints = data.get("constraints") or []
    widest = MIN_ANY_COLUMNS
    rows: list[list[Any]] = []
    for k, c in enumerate(constraints, 1):
        terms = _constraint_terms(c)
        widest = max([widest] + [len(t.get("any of") or []) for t in terms])
        for j, t in enumerate(terms):
            meta = (
                [c.get("name"), c.get("party"), c.get("description"), c.get("limit"), c.get("unit")]
                if j == 0
                else [None] * 5
            )
            rows.append(
                [k, c["type"], *meta, *[t.get(col) for col in CONSTRAINT_COLS[7:]]]
                + list(t.get("any of") or [])
            )
    w = _Writer(ws)
    w.header(CONSTRAINT_COLS + [f"any of {k + 1}" for k in range(widest)])
    for r in rows:
        w.line(r)
    last = len(rows) + 1 + SPARE_ROWS
    _choices(ws, _span(2, 2, last), CONSTRAINT_TYPES, "a constraint type")
    _choices(ws, _span(4, 2, last), parties, "a party")
    _choices(ws, _span(8, 2, last), ["acceptable", "combination", "when", "then", "cost"], "a part")
    _list_rule(ws, _span(9, 2, last), _issue_refs(n), "an issue")
    _number_rule(ws, _span(6, 2, last))
    _number_rule(ws, f"K2:O{last}")
    _number_rule(ws, _span(1, 2, last), 1)
    _widths(ws, {1: 11, 2: 12, 3: 18, 4: 16, 5: 30, 6: 9, 7: 8, 8: 12, 9: 20, 10: 18})
    ws.freeze_panes = "C2"


def _constraint_terms(c: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of one constraint: one per condition, cost or acceptable set."""
    kind = c["type"]
    if kind == "acceptable":
        return [
            {
                "part": "acceptable",
                "issue": c.get("issue"),
                "min": c.get("min"),
                "max": c.get("max"),
                "any of": c.get("options"),
            }
        ]
    if kind == "budget":
        out = []
        for issue, spec in (c.get("costs") or {}).items():
            if isinstance(spec, dict) and "per_unit" in spec:
                out.append(
                    {
                        "part": "cost",
                        "issue": issue,
                        "per unit": spec["per_unit"],
                        "base": spec.get("base"),
                    }
                )
                continue
            if not spec:
                out.append({"part": "cost", "issue": issue})
            for option, cost in spec.items():
                out.append({"part": "cost", "issue": issue, "option / value": option, "cost": cost})
        return out
    out = []
    for part in PARTS[kind]:
        key = "combination" if kind == "forbidden" else part
        for issue, cond in (c.get(key) or {}).items():
            t: dict[str, Any] = {"part": part, "issue": issue}
            if isinstance(cond, list):
                t["any of"] = cond
            elif isinstance(cond, dict):
                t["min"], t["max"] = cond.get("min"), cond.get("max")
            else:
                t["option / value"] = cond
            out.append(t)
    return out


def _write_log_sheet(ws: Any, data: dict[str, Any], parties: list[str], n: int) -> None:
    w = _Writer(ws)
    w.header(LOG_COLS)
    for k, offer in enumerate(data.get("history") or [], 1):
        date = offer.get("date")
        if isinstance(date, str):
            try:
                date = _dt.date.fromisoformat(date)
            except ValueError:
                pass
        package = offer.get("package") or {}
        # status changes ride on their issue's row while that keeps their order; the rest follow
        changes = list((offer.get("status_changes") or {}).items())
        terms, done = [], 0
        for i, v in package.items():
            attach = done < len(changes) and changes[done][0] == i
            terms.append([i, v, changes[done][1] if attach else None])
            done += attach
        terms += [[i, None, s] for i, s in changes[done:]]
        for j, t in enumerate(terms or [[None, None, None]]):
            head = [date, offer.get("by"), *t, offer.get("note")] if j == 0 else [None, None, *t]
            w.line([k, *head])
    last = w.row + SPARE_ROWS
    _number_rule(ws, _span(1, 2, last), 1)
    _date_rule(ws, _span(2, 2, last))
    _choices(ws, _span(3, 2, last), parties, "a party")
    _list_rule(ws, _span(4, 2, last), _issue_refs(n), "an issue")
    _choices(ws, _span(6, 2, last), STATUSES, "a status")
    _widths(ws, {1: 7, 2: 12, 3: 22, 4: 24, 5: 22, 6: 12, 7: 60})
    ws.freeze_panes = "A2"


def _sheet_title(name: str, taken: set[str]) -> str:
    """A legal, unique sheet title for a party (Excel: 31 characters, no []:*?/\\)."""
    base = re.sub(r"[\[\]:*?/\\]", "_", name).strip("'") or "Party"
    base = base[:31]
    title, k = base, 2
    while title.lower() in taken:
        suffix = f" ({k})"
        title = base[: 31 - len(suffix)] + suffix
        k += 1
    taken.add(title.lower())
    return title


def _workbook(data: dict[str, Any]) -> Any:
    from openpyxl import Workbook  # openpyxl only when a workbook is made

    wb = Workbook()
    ws = wb.active
    ws.title = SCENARIO_SHEET
    _write_scenario_sheet(ws, data)
    layout = _write_issues_sheet(wb.create_sheet(ISSUES_SHEET), data)
    taken = {s.lower() for s in (SCENARIO_SHEET, ISSUES_SHEET, CONSTRAINTS_SHEET, LOG_SHEET)}
    taken.add(HELP_SHEET.lower())
    parties = [p.get("name", "") for p in data.get("parties") or []]
    for party in data.get("parties") or []:
        sheet = wb.create_sheet(_sheet_title(str(party.get("name") or "Party"), taken))
        _write_party_sheet(sheet, party, layout)
    _write_constraints_sheet(wb.create_sheet(CONSTRAINTS_SHEET), data, parties, layout.n_issues)
    _write_log_sheet(wb.create_sheet(LOG_SHEET), data, parties, layout.n_issues)
    return wb


def _bytes(wb: Any) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def scenario_to_xlsx(scenario: Scenario) -> bytes:
    """The scenario as an .xlsx workbook (bytes)."""
    return _bytes(_workbook(scenario_to_data(scenario)))


# --------------------------------------------------------------------------------------------
# The blank template
# --------------------------------------------------------------------------------------------

_EXAMPLE_PARTY = {
    "name": "Acme Supplies (their side, estimated)",
    "description": "An example: how a filled-in party sheet looks.",
    "reservation_value": 40,
    "aspiration": {"low": 60, "likely": 70, "high": 80},
    "preferences": {
        "weights": {"price": 60, "payment terms": {"low": 20, "likely": 30, "high": 40}},
        "values": {
            "price": {"shape": "increasing"},
            "payment terms": {"30 days": 100, "60 days": 50, "90 days": 0},
        },
        "synergies": [
            {
                "when": {"price": 120, "payment terms": "30 days"},
                "bonus": 5,
                "description": "cash early at a good price",
            }
        ],
    },
}

_HELP = [
    ("Scenario", "the negotiation's name (required), a description, which party is us."),
    (
        "Issues",
        "one row per thing to agree on. A categorical issue lists its options in the option "
        "columns; a numeric issue gives min and max (and step, default 1, and a unit). Status is "
        "open, provisional or agreed; agreed and provisional issues need a value on the table.",
    ),
    (
        "Party sheets",
        "one sheet per side (copy one to add a party; cell B1 holds the party's name). Weights: "
        "how much each issue matters. Values: a score per option (categorical) or a shape "
        "(increasing, decreasing, peak with a peak value, piecewise with one row per point). A "
        "plain number goes in 'likely'; an uncertain estimate fills low, likely and high.",
    ),
    (
        "Constraints",
        "one row per term; rows with the same number form one constraint. Types: acceptable "
        "(an issue's acceptable options in 'any of' or a min/max), forbidden (parts 'combination'), "
        "implies (parts 'when' and 'then'), budget (parts 'cost': an option and its cost, or a "
        "cost per unit and a base, with the limit on the first row).",
    ),
    (
        "Negotiation log",
        "one row per term offered; rows with the same offer number form one offer (date, by and "
        "note on its first row). 'new status' records an issue agreed or made provisional.",
    ),
    (
        "Import",
        "dealopt import FILE.xlsx -o scenario.yaml (or upload it on the app's Scenario page).",
    ),
]


def template_xlsx() -> bytes:
    """A blank workbook to fill in (two party sheets), with a worked example party sheet."""
    data: dict[str, Any] = {
        "name": "",
        "parties": [
            {"name": "Us", "preferences": {"weights": {}}},
            {"name": "Them", "preferences": {"weights": {}}},
        ],
        "issues": [],
        "us": "Us",
    }
    wb = _workbook(data)
    from openpyxl.styles import Alignment, Font  # openpyxl only when a workbook is made

    help_ws = wb.create_sheet(HELP_SHEET, 0)
    w = _Writer(help_ws)
    w.title("How to fill in this workbook")
    for head, text in _HELP:
        r = w.line([head, text])
        help_ws.cell(row=r, column=1).font = Font(bold=True)
        help_ws.cell(row=r, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    w.line([])
    w.line(
        [
            "Example",
            'the sheet "Example party" shows a filled-in party sheet; it is not imported.',
        ]
    )
    _widths(help_ws, {1: 18, 2: 110})
    example = wb.create_sheet("Example party")
    layout = _Layout(issue_row={}, n_issues=2)
    _write_party_sheet(example, _EXAMPLE_PARTY, layout, mark=EXAMPLE_MARK)
    example.sheet_properties.tabColor = "A6A6A6"
    wb.active = 0  # open on the instructions
    return _bytes(wb)


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


@dataclass
class _Reader:
    """Reads cells with located problems; collects every problem (and notes) in one run."""

    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    values: Any = None  # the data_only workbook (cached formula results)

    def where(self, ws: Any, row: int | None = None, col: str | None = None) -> str:
        out = f'sheet "{ws.title}"'
        if row is not None:
            out += f" row {row}"
        if col is not None:
            out += f' column "{col}"'
        return out

    def fail(self, ws: Any, row: int | None, col: str | None, message: str) -> None:
        self.problems.append(Problem(self.where(ws, row, col), message))

    def note(self, ws: Any, row: int | None, col: str | None, message: str) -> None:
        self.notes.append(Problem(self.where(ws, row, col), message, severity="warning"))

    def raw(self, ws: Any, row: int, col: int, name: str) -> Any:
        cell = ws.cell(row=row, column=col)
        value = cell.value
        if cell.data_type == "f" or (
            isinstance(value, str) and value.startswith("=") and cell.data_type != "s"
        ):
            text = value if isinstance(value, str) else getattr(value, "text", "") or "a formula"
            cached = None
            if self.values is not None:
                cached = self.values[ws.title].cell(row=row, column=col).value
            if cached is None:
                self.fail(
                    ws,
                    row,
                    name,
                    f"a formula ({text}) whose result is not saved in the file; type the value "
                    "instead (or open and save the workbook in Excel first)",
                )
                return None
            self.note(ws, row, name, f"formula {text} read as its saved result {cached!r}")
            return cached
        if isinstance(value, str) and not value.strip():
            return None
        return value

    def number(self, ws: Any, row: int, col: int | None, name: str) -> float | None:
        if col is None:
            return None
        v = self.raw(ws, row, col, name)
        if v is None:
            return None
        if isinstance(v, bool):
            self.fail(ws, row, name, f"must be a number, not {v}")
            return None
        if isinstance(v, int | float):
            return v
        if isinstance(v, str):
            try:
                x = float(v.strip().replace("\u2212", "-"))
            except ValueError:
                self.fail(ws, row, name, f"must be a number, not text {v!r}")
                return None
            if x != x or x in (float("inf"), float("-inf")):
                self.fail(ws, row, name, f"must be a finite number, not {v!r}")
                return None
            return int(x) if x.is_integer() and "." not in v and "e" not in v.lower() else x
        self.fail(ws, row, name, f"must be a number, not {_kind(v)}")
        return None

    def text(self, ws: Any, row: int, col: int | None, name: str) -> str | None:
        if col is None:
            return None
        v = self.raw(ws, row, col, name)
        if v is None:
            return None
        if isinstance(v, str):
            return v
        if isinstance(v, bool):
            return str(v).upper()
        if isinstance(v, int | float):
            return format_number(v)
        if isinstance(v, _dt.datetime | _dt.date):
            return _as_date(v).isoformat()
        return str(v)

    def scalar(self, ws: Any, row: int, col: int | None, name: str) -> str | float | None:
        """An option name or a number: the cell's own type decides (text stays text)."""
        if col is None:
            return None
        v = self.raw(ws, row, col, name)
        if v is None or isinstance(v, str):
            return v
        if isinstance(v, bool):
            return str(v).upper()
        if isinstance(v, int | float):
            return v
        if isinstance(v, _dt.datetime | _dt.date):
            return _as_date(v).isoformat()
        return str(v)


def _as_date(v: _dt.date) -> _dt.date:
    return v.date() if isinstance(v, _dt.datetime) else v


def _kind(v: Any) -> str:
    if isinstance(v, _dt.datetime | _dt.date):
        return f"a date ({_as_date(v).isoformat()})"
    return f"a {type(v).__name__}"


@dataclass
class _Table:
    """One table of a sheet: its header columns and its data rows."""

    ws: Any
    title: str
    header_row: int
    cols: dict[str, int]
    rows: list[int]
    extra: list[int] = field(default_factory=list)  # columns after a "option 1" / "any of 1"

    def col(self, name: str) -> int | None:
        return self.cols.get(name)


def _header_name(v: Any) -> str:
    return re.sub(r"\s+", " ", str(v)).strip().lower() if v is not None else ""


def _is_blank_row(ws: Any, row: int, width: int) -> bool:
    for c in range(1, width + 1):
        v = ws.cell(row=row, column=c).value
        if v is not None and not (isinstance(v, str) and not v.strip()):
            return False
    return True


def _check_merged(rd: _Reader, ws: Any, first: int, last: int) -> None:
    for rng in ws.merged_cells.ranges:
        if rng.max_row < first or rng.min_row > last:
            continue
        rows = (
            f"row {rng.min_row}"
            if rng.min_row == rng.max_row
            else f"rows {rng.min_row}-{rng.max_row}"
        )
        cols = (
            _letter(rng.min_col)
            if rng.min_col == rng.max_col
            else f"{_letter(rng.min_col)}-{_letter(rng.max_col)}"
        )
        rd.problems.append(
            Problem(
                f'sheet "{ws.title}" {rows} columns {cols}',
                f"merged cells ({rng.coord}); unmerge them: every cell needs its own value",
            )
        )


def _is_title(ws: Any, row: int, title: str, columns: list[str]) -> bool:
    """A table's title row: the title in column A and the table's column names on the row below
    (so an issue called "Weights" in a table is data, not a title)."""
    v = ws.cell(row=row, column=1).value
    if not (isinstance(v, str) and v.strip().lower() == title.lower()):
        return False
    below = {_header_name(c.value) for c in ws[row + 1]} if row < ws.max_row else set()
    # all the column names, or all but one (then the table says which one is missing)
    return _header_name(ws.cell(row=row + 1, column=1).value) == columns[0] and (
        len(set(columns) - below) <= 1
    )


def _table(
    rd: _Reader,
    ws: Any,
    title: str | None,
    columns: list[str],
    *,
    spill: str | None = None,
    required: bool = True,
    stops: dict[str, list[str]] | None = None,
) -> _Table | None:
    """Find a table (a title row in column A, or the first row) and its header; data rows run to
    the next title in ``stops`` (or the end). Blank rows are skipped, with a note when data
    follows them."""
    width = max(ws.max_column, len(columns))
    last = ws.max_row
    stops = stops or {}
    if title is None:
        header_row = 1
    else:
        header_row = 0
        for r in range(1, last + 1):
            if _is_title(ws, r, title, columns):
                header_row = r + 1
                break
        if not header_row:
            if required:
                rd.fail(
                    ws,
                    None,
                    None,
                    f'the table "{title}" is missing (a row with "{title}" '
                    "in column A, its column names on the next row)",
                )
            return None
    cols: dict[str, int] = {}
    extra: list[int] = []
    spilling = False
    for c in range(1, width + 1):
        name = _header_name(ws.cell(row=header_row, column=c).value)
        if spill and (name.startswith(spill) or (spilling and not name)):
            spilling = True
            extra.append(c)
            continue
        if not name:
            continue
        if name in columns and name not in cols:
            cols[name] = c
    missing = [c for c in columns if c not in cols]
    if missing:
        where = f'the table "{title}"' if title else "the header row"
        rd.fail(
            ws,
            header_row,
            None,
            f"{where} needs the column(s) "
            + ", ".join(f'"{m}"' for m in missing)
            + " (column names: "
            + ", ".join(columns)
            + ")",
        )
        return None
    for c in range(1, width + 1):
        name = _header_name(ws.cell(row=header_row, column=c).value)
        if name and name not in cols and c not in extra:
            # a column we do not read: say so rather than drop what it holds silently
            has_data = any(
                ws.cell(row=r, column=c).value not in (None, "")
                for r in range(header_row + 1, last + 1)
            )
            if has_data and title is None:
                rd.note(ws, header_row, name, "not a column of this sheet; ignored")
    rows: list[int] = []
    pending_blank: int | None = None
    end = last
    for r in range(header_row + 1, last + 1):
        if any(_is_title(ws, r, t, names) for t, names in stops.items()):
            end = r - 1
            break
        if _is_blank_row(ws, r, width):
            pending_blank = pending_blank or r
            continue
        if pending_blank is not None and rows:
            rd.note(ws, pending_blank, None, "empty row skipped")
        pending_blank = None
        rows.append(r)
    _check_merged(rd, ws, header_row, end)
    return _Table(ws, title or ws.title, header_row, cols, rows, extra)


def _label_rows(
    rd: _Reader, ws: Any, labels: dict[str, str], stops: Iterable[str]
) -> dict[str, int]:
    """Rows of ``label | value`` pairs at the top of a sheet (until the first table title)."""
    out: dict[str, int] = {}
    stop_names = {t.lower() for t in stops}
    for r in range(1, ws.max_row + 1):
        v = ws.cell(row=r, column=1).value
        if not isinstance(v, str):
            continue
        key = v.strip().lower()
        if key in stop_names:
            break
        if key in labels:
            out.setdefault(labels[key], r)
    _check_merged(rd, ws, 1, max(out.values(), default=1))
    return out


def _estimate(rd: _Reader, t: _Table, r: int) -> Any:
    low = rd.number(t.ws, r, t.col("low"), "low")
    likely = rd.number(t.ws, r, t.col("likely"), "likely")
    high = rd.number(t.ws, r, t.col("high"), "high")
    if low is None and high is None:
        return likely
    if None in (low, likely, high):
        rd.fail(
            t.ws,
            r,
            None,
            "give a range as low, likely and high (all three), or one number in likely",
        )
        return None
    return {"low": low, "likely": likely, "high": high}


def _read_scenario_sheet(rd: _Reader, ws: Any, data: dict[str, Any]) -> None:
    labels = {"name": "name", "description": "description", "us": "us"}
    labels["utility scale"] = "utility_scale"
    labels["money issue"] = "money_issue"
    rows = _label_rows(rd, ws, labels, [NOTES])
    for key in ("name", "description", "us", "money_issue"):
        if key in rows:
            v = rd.text(ws, rows[key], 2, key)
            if v is not None:
                data[key] = v
    if "utility_scale" in rows:
        v = rd.number(ws, rows["utility_scale"], 2, "utility scale")
        if v is not None:
            data["utility_scale"] = v
    t = _table(rd, ws, NOTES, NOTE_COLS, required=False)
    if t is None:
        return
    meta: dict[str, Any] = {}
    for r in t.rows:
        key = rd.text(ws, r, t.col("key"), "key")
        value = rd.scalar(ws, r, t.col("value"), "value")
        fmt = (rd.text(ws, r, t.col("format"), "format") or "").strip().lower()
        if key is None:
            rd.fail(ws, r, "key", "a note needs a key")
            continue
        if key in meta:
            rd.fail(ws, r, "key", f"the key {key!r} is used twice")
            continue
        if fmt == "json":
            try:
                value = json.loads(value if isinstance(value, str) else json.dumps(value))
            except json.JSONDecodeError as e:
                rd.fail(ws, r, "value", f"not valid JSON: {e.msg}")
                continue
        elif fmt:
            rd.fail(ws, r, "format", f"is JSON or blank, not {fmt!r}")
        meta[key] = value
    if meta:
        data["metadata"] = meta


def _read_issues_sheet(rd: _Reader, ws: Any, data: dict[str, Any]) -> None:
    t = _table(rd, ws, None, ISSUE_COLS, spill="option")
    if t is None:
        return
    issues = []
    for r in t.rows:
        name = rd.text(ws, r, t.col("issue"), "issue")
        if name is None:
            rd.fail(ws, r, "issue", "an issue needs a name")
            continue
        issue: dict[str, Any] = {"name": name}
        desc = rd.text(ws, r, t.col("description"), "description")
        if desc is not None:
            issue["description"] = desc
        options = [
            o
            for o in (
                rd.text(ws, r, c, _header_name(ws.cell(row=1, column=c).value) or "options")
                for c in t.extra
            )
            if o is not None
        ]
        numbers = {k: rd.number(ws, r, t.col(k), k) for k in ("min", "max", "step")}
        unit = rd.text(ws, r, t.col("unit"), "unit")
        if options:
            issue["options"] = options
        for k, v in numbers.items():
            if v is not None:
                issue[k] = v
        if unit is not None:
            issue["unit"] = unit
        status = rd.text(ws, r, t.col("status"), "status")
        if status is not None:
            s = status.strip().lower()
            if s not in STATUSES:
                rd.fail(ws, r, "status", f"is open, provisional or agreed, not {status!r}")
            else:
                issue["status"] = s
        if options:
            value = rd.text(ws, r, t.col("value on the table"), "value on the table")
        else:
            value = rd.number(ws, r, t.col("value on the table"), "value on the table")
        if value is not None:
            issue["value"] = value
        if options and value is not None and value not in options:
            rd.fail(
                ws,
                r,
                "value on the table",
                f"{value!r} is not one of the options of issue {name!r} ("
                + ", ".join(options)
                + ")",
            )
        issues.append(issue)
    data["issues"] = issues


#: Each table of a party sheet and its column names.
_PARTY_TABLES = {
    LEVELS: LEVEL_COLS,
    WEIGHTS: WEIGHT_COLS,
    VALUES: VALUE_COLS,
    SYNERGIES: SYNERGY_COLS,
    LEVEL_PACKAGES: PACKAGE_COLS,
    STATEMENTS: STATEMENT_COLS,
}


def _read_party_sheet(rd: _Reader, ws: Any) -> dict[str, Any]:
    labels = {PARTY_MARK.lower(): "name", "description": "description"}
    labels["utility scale"] = "utility_scale"
    rows = _label_rows(rd, ws, labels, _PARTY_TABLES)
    party: dict[str, Any] = {}
    name = rd.text(ws, rows.get("name", 1), 2, "B")
    if name is None:
        rd.fail(ws, rows.get("name", 1), "B", "the party needs a name (cell B1)")
    party["name"] = name or ws.title
    if "description" in rows:
        v = rd.text(ws, rows["description"], 2, "B")
        if v is not None:
            party["description"] = v
    if "utility_scale" in rows:
        v = rd.number(ws, rows["utility_scale"], 2, "B")
        if v is not None:
            party["utility_scale"] = v

    def table(title: str, cols: list[str], required: bool = True) -> _Table | None:
        stops = {t: names for t, names in _PARTY_TABLES.items() if t != title}
        return _table(rd, ws, title, cols, stops=stops, required=required)

    prefs: dict[str, Any] = {"weights": {}}
    t = table(WEIGHTS, WEIGHT_COLS)
    if t is not None:
        for r in t.rows:
            issue = rd.text(ws, r, t.col("issue"), "issue")
            est = _estimate(rd, t, r)
            if issue is None:
                rd.fail(ws, r, "issue", "a weight needs the issue it weighs")
            elif issue in prefs["weights"]:
                rd.fail(ws, r, "issue", f"issue {issue!r} has a weight on an earlier row")
            elif est is None and not any(
                p.location.startswith(rd.where(ws, r)) for p in rd.problems
            ):
                rd.fail(ws, r, "likely", "a weight needs a number")
            elif est is not None:
                prefs["weights"][issue] = est
    t = table(VALUES, VALUE_COLS, required=False)
    if t is not None:
        prefs["values"] = _read_values(rd, t)
        if not prefs["values"]:
            del prefs["values"]
    t = table(SYNERGIES, SYNERGY_COLS, required=False)
    if t is not None:
        syns = []
        for r in t.rows:
            when: dict[str, Any] = {}
            for k in ("1", "2"):
                issue = rd.text(ws, r, t.col(f"issue {k}"), f"issue {k}")
                opt = rd.scalar(ws, r, t.col(f"option {k}"), f"option {k}")
                if issue is None or opt is None:
                    rd.fail(ws, r, f"issue {k}", "a synergy names two issues and an option of each")
                    break
                when[issue] = opt
            bonus = rd.number(ws, r, t.col("bonus"), "bonus")
            if bonus is None:
                rd.fail(ws, r, "bonus", "a synergy needs a bonus (negative: a penalty)")
            syn: dict[str, Any] = {"when": when, "bonus": bonus}
            desc = rd.text(ws, r, t.col("description"), "description")
            if desc is not None:
                syn["description"] = desc
            syns.append(syn)
        if syns:
            prefs["synergies"] = syns
    party["preferences"] = prefs
    packages: dict[str, dict[str, Any]] = {}
    t = table(LEVEL_PACKAGES, PACKAGE_COLS, required=False)
    if t is not None:
        for r in t.rows:
            level = (rd.text(ws, r, t.col("level"), "level") or "").strip().lower()
            issue = rd.text(ws, r, t.col("issue"), "issue")
            value = rd.scalar(ws, r, t.col("option / value"), "option / value")
            if level not in LEVEL_NAMES:
                rd.fail(ws, r, "level", "is walk-away point or aspiration")
            elif issue is None or value is None:
                rd.fail(ws, r, "issue", "a package term needs an issue and an option or value")
            else:
                packages.setdefault(LEVEL_NAMES[level], {})[issue] = value
    t = table(LEVELS, LEVEL_COLS, required=False)
    if t is not None:
        for r in t.rows:
            level = (rd.text(ws, r, t.col("level"), "level") or "").strip().lower()
            if level not in LEVEL_NAMES:
                rd.fail(ws, r, "level", "is walk-away point or aspiration")
                continue
            est = _estimate(rd, t, r)
            key = LEVEL_NAMES[level]
            if est is not None and key in packages:
                rd.fail(
                    ws, r, "likely", f"the {level} is either a number or a package below, not both"
                )
            elif est is not None:
                party[key] = est
    for key, pkg in packages.items():
        party.setdefault(key, {"package": pkg})
    t = table(STATEMENTS, STATEMENT_COLS, required=False)
    if t is not None:
        statements = [
            s for s in (_read_statement(rd, t, g) for g in _groups(rd, t, "statement")) if s
        ]
        if statements:
            party["statements"] = statements
    return party


def _read_statement(rd: _Reader, t: _Table, rows: list[int]) -> dict[str, Any] | None:
    """One statement from its rows (see _statement_rows)."""
    ws = t.ws
    first = rows[0]
    kinds = {
        k.strip().lower()
        for k in (rd.text(ws, r, t.col("kind"), "kind") for r in rows)
        if k is not None
    }
    if len(kinds) != 1 or next(iter(kinds)) not in STATEMENT_KINDS:
        rd.fail(ws, first, "kind", "a statement needs one kind: " + ", ".join(STATEMENT_KINDS))
        return None
    kind = kinds.pop()
    out: dict[str, Any] = {}
    note = rd.text(ws, first, t.col("note"), "note")
    for r in rows[1:]:
        if rd.text(ws, r, t.col("note"), "note") is not None:
            rd.fail(ws, r, "note", f"goes on the statement's first row (row {first})")
    if kind == "swing":
        if len(rows) > 1:
            rd.fail(ws, rows[1], "statement", "a swing statement has one row")
        out = {
            "swing": rd.text(ws, first, t.col("issue"), "issue"),
            "times": rd.number(ws, first, t.col("times"), "times"),
            "than": rd.text(ws, first, t.col("than"), "than"),
        }
        for key, col in (("swing", "issue"), ("times", "times"), ("than", "than")):
            if out[key] is None:
                rd.fail(ws, first, col, "a swing statement needs an issue, times and than")
                return None
    elif kind == "order":
        issue = rd.text(ws, first, t.col("issue"), "issue")
        order = [rd.scalar(ws, r, t.col("option / value"), "option / value") for r in rows]
        if issue is None or any(v is None for v in order):
            rd.fail(
                ws, first, "issue", "an order names its issue and one option per row, best first"
            )
            return None
        out = {"issue": issue, "order": order}
    else:
        sides = ("prefers", "over") if kind == "prefers" else ("a", "b")
        pkgs: dict[str, dict[str, Any]] = {s: {} for s in sides}
        for r in rows:
            side = (rd.text(ws, r, t.col("side"), "side") or "").strip().lower()
            issue = rd.text(ws, r, t.col("issue"), "issue")
            value = rd.scalar(ws, r, t.col("option / value"), "option / value")
            if side not in pkgs:
                rd.fail(
                    ws,
                    r,
                    "side",
                    f"is {' or '.join(x if kind == 'prefers' else x.upper() for x in sides)}",
                )
            elif issue is None or value is None:
                rd.fail(ws, r, "issue", "a term names its issue and an option or value")
            else:
                pkgs[side][issue] = value
        out = (
            {"prefers": pkgs["prefers"], "over": pkgs["over"]}
            if kind == "prefers"
            else {"equal": [pkgs["a"], pkgs["b"]]}
        )
    if note is not None:
        out["note"] = note
    return out


def _read_values(rd: _Reader, t: _Table) -> dict[str, Any]:
    ws = t.ws
    values: dict[str, Any] = {}
    for r in t.rows:
        issue = rd.text(ws, r, t.col("issue"), "issue")
        if issue is None:
            rd.fail(ws, r, "issue", "a value row needs the issue it scores")
            continue
        option = rd.text(ws, r, t.col("option"), "option")
        shape = rd.text(ws, r, t.col("shape"), "shape")
        peak = rd.number(ws, r, t.col("peak"), "peak")
        px = rd.number(ws, r, t.col("point value"), "point value")
        py = rd.number(ws, r, t.col("point score"), "point score")
        est = _estimate(rd, t, r)
        current = values.get(issue)
        if shape is not None or (
            isinstance(current, dict) and "shape" in current and option is None
        ):
            if option is not None or est is not None:
                rd.fail(ws, r, "option", "a row gives an option score or a shape, not both")
                continue
            if shape is not None:
                s = shape.strip().lower()
                if s not in SHAPES:
                    rd.fail(ws, r, "shape", f"is {', '.join(SHAPES)}, not {shape!r}")
                    continue
                if issue in values:
                    rd.fail(ws, r, "issue", f"issue {issue!r} already has values on an earlier row")
                    continue
                current = values[issue] = {"shape": s}
                if peak is not None:
                    current["peak"] = peak
            elif peak is not None:
                rd.fail(ws, r, "peak", "the peak goes on the shape's first row")
            if px is not None or py is not None:
                if px is None or py is None:
                    rd.fail(ws, r, "point value", "a point needs a value and a score")
                    continue
                current.setdefault("points", []).append([px, py])
            continue
        if px is not None or py is not None or peak is not None:
            rd.fail(ws, r, "shape", "peak and points belong to a shape; name the shape")
            continue
        if current is None:
            current = values[issue] = {}
        elif "shape" in current:
            rd.fail(ws, r, "option", f"issue {issue!r} has a shape on an earlier row")
            continue
        if option is None:
            if est is not None:
                rd.fail(ws, r, "option", "a score needs the option it scores")
            continue
        if option in current:
            rd.fail(ws, r, "option", f"option {option!r} of {issue!r} is scored on an earlier row")
            continue
        if est is None:
            rd.fail(ws, r, "likely", f"option {option!r} needs a score")
            continue
        current[option] = est
    return values


def _cond(rd: _Reader, t: _Table, r: int, allow_list: bool = True) -> Any:
    """A condition: one option/value, a list (any of), or a {min, max} range."""
    ws = t.ws
    one = rd.scalar(ws, r, t.col("option / value"), "option / value")
    many = [v for v in (rd.scalar(ws, r, c, "any of") for c in t.extra) if v is not None]
    lo = rd.number(ws, r, t.col("min"), "min")
    hi = rd.number(ws, r, t.col("max"), "max")
    given = [x for x in (one is not None, bool(many), lo is not None or hi is not None) if x]
    if len(given) != 1:
        rd.fail(
            ws,
            r,
            "option / value",
            "a condition gives one option or value, a list in 'any of', or a min and/or max"
            + (" (only one of these)" if given else ""),
        )
        return None
    if one is not None:
        return one
    if many:
        return many
    out: dict[str, float] = {}
    if lo is not None:
        out["min"] = lo
    if hi is not None:
        out["max"] = hi
    return out


def _groups(rd: _Reader, t: _Table, key: str) -> list[list[int]]:
    """Rows that belong together: the same number in column ``key`` (blank: the row above's)."""
    groups: list[tuple[Any, list[int]]] = []
    for r in t.rows:
        number = rd.number(t.ws, r, t.col(key), key)
        if groups and (number is None or number == groups[-1][0]):
            groups[-1][1].append(r)
        else:
            groups.append((number, [r]))
    return [rows for _, rows in groups]


def _read_constraints_sheet(rd: _Reader, ws: Any, data: dict[str, Any]) -> None:
    t = _table(rd, ws, None, CONSTRAINT_COLS, spill="any of")
    if t is None:
        return
    groups = _groups(rd, t, "constraint")
    out = []
    for rows in groups:
        c = _read_constraint(rd, t, rows)
        if c is not None:
            out.append(c)
    if out:
        data["constraints"] = out


def _read_constraint(rd: _Reader, t: _Table, rows: list[int]) -> dict[str, Any] | None:
    ws = t.ws
    first = rows[0]
    kinds = {
        k.strip().lower()
        for k in (rd.text(ws, r, t.col("type"), "type") for r in rows)
        if k is not None
    }
    if len(kinds) != 1:
        rd.fail(
            ws,
            first,
            "type",
            "a constraint needs one type: "
            + ", ".join(CONSTRAINT_TYPES)
            + (f" (its rows say {', '.join(sorted(kinds))})" if kinds else ""),
        )
        return None
    kind = kinds.pop()
    if kind not in CONSTRAINT_TYPES:
        rd.fail(ws, first, "type", f"is {', '.join(CONSTRAINT_TYPES)}, not {kind!r}")
        return None
    c: dict[str, Any] = {"type": kind}
    for key in ("name", "party", "description", "unit"):
        for r in rows:
            v = rd.text(ws, r, t.col(key), key)
            if v is not None and r != first:
                rd.fail(ws, r, key, f"goes on the constraint's first row (row {first})")
            elif v is not None:
                c[key] = v
    limit = rd.number(ws, first, t.col("limit"), "limit")
    for r in rows[1:]:
        if rd.number(ws, r, t.col("limit"), "limit") is not None:
            rd.fail(ws, r, "limit", f"goes on the constraint's first row (row {first})")
    if kind == "acceptable":
        if len(rows) > 1:
            rd.fail(ws, rows[1], "constraint", "an acceptable constraint has one row")
        r = first
        issue = rd.text(ws, r, t.col("issue"), "issue")
        if issue is None:
            rd.fail(ws, r, "issue", "an acceptable constraint names its issue")
        c["issue"] = issue
        opts = [v for v in (rd.text(ws, r, col, "any of") for col in t.extra) if v is not None]
        if opts:
            c["options"] = opts
        for k in ("min", "max"):
            v = rd.number(ws, r, t.col(k), k)
            if v is not None:
                c[k] = v
        if rd.scalar(ws, r, t.col("option / value"), "option / value") is not None:
            rd.fail(ws, r, "option / value", "list the acceptable options under 'any of'")
        return c
    if kind == "budget":
        if limit is None:
            rd.fail(ws, first, "limit", "a budget needs a limit")
        costs: dict[str, Any] = {}
        for r in rows:
            issue = rd.text(ws, r, t.col("issue"), "issue")
            if issue is None:
                rd.fail(ws, r, "issue", "a cost row names its issue")
                continue
            option = rd.text(ws, r, t.col("option / value"), "option / value")
            cost = rd.number(ws, r, t.col("cost"), "cost")
            per = rd.number(ws, r, t.col("per unit"), "per unit")
            base = rd.number(ws, r, t.col("base"), "base")
            current = costs.get(issue)
            if per is not None or base is not None:
                if per is None:
                    rd.fail(ws, r, "per unit", "a cost per unit is needed with a base")
                elif option is not None or cost is not None or current is not None:
                    rd.fail(
                        ws, r, "per unit", "an issue has option costs or a cost per unit, not both"
                    )
                else:
                    costs[issue] = {"per_unit": per} | ({"base": base} if base is not None else {})
                continue
            if current is None:
                current = costs[issue] = {}
            elif "per_unit" in current:
                rd.fail(ws, r, "cost", "an issue has option costs or a cost per unit, not both")
                continue
            if option is None and cost is None:
                continue
            if option is None or cost is None:
                rd.fail(ws, r, "cost", "an option cost needs the option and its cost")
                continue
            current[option] = cost
        c["costs"] = costs
        c["limit"] = limit
        return c
    if limit is not None:
        rd.fail(ws, first, "limit", "only a budget has a limit")
    parts: dict[str, dict[str, Any]] = {p: {} for p in PARTS[kind]}
    for r in rows:
        part = (rd.text(ws, r, t.col("part"), "part") or "").strip().lower()
        if not part and kind == "forbidden":
            part = "combination"
        if part not in parts:
            rd.fail(ws, r, "part", f"is {' or '.join(parts)} for a {kind} constraint")
            continue
        issue = rd.text(ws, r, t.col("issue"), "issue")
        cond = _cond(rd, t, r)
        if issue is None:
            rd.fail(ws, r, "issue", "a condition names its issue")
        elif issue in parts[part]:
            rd.fail(ws, r, "issue", f"issue {issue!r} is already in this {part}")
        elif cond is not None:
            parts[part][issue] = cond
    if kind == "forbidden":
        c["combination"] = parts["combination"]
    else:
        c["when"], c["then"] = parts["when"], parts["then"]
    return c


def _read_log_sheet(rd: _Reader, ws: Any, data: dict[str, Any]) -> None:
    t = _table(rd, ws, None, LOG_COLS)
    if t is None:
        return
    groups = _groups(rd, t, "offer")
    history = []
    for rows in groups:
        first = rows[0]
        offer: dict[str, Any] = {}
        raw = rd.raw(ws, first, t.col("date") or 0, "date") if t.col("date") else None
        if raw is None:
            rd.fail(ws, first, "date", "an offer needs a date (YYYY-MM-DD) on its first row")
        elif isinstance(raw, _dt.date):
            offer["date"] = _as_date(raw).isoformat()
        elif isinstance(raw, str):
            try:
                offer["date"] = _dt.date.fromisoformat(raw.strip()).isoformat()
            except ValueError:
                rd.fail(ws, first, "date", f"must be a date (YYYY-MM-DD), not {raw!r}")
        else:
            rd.fail(ws, first, "date", f"must be a date (YYYY-MM-DD), not {_kind(raw)}")
        by = rd.text(ws, first, t.col("by"), "by")
        if by is None:
            rd.fail(ws, first, "by", "an offer needs the party who made it")
        offer["by"] = by
        package: dict[str, Any] = {}
        changes: dict[str, Any] = {}
        note = None
        for r in rows:
            for key in ("date", "by", "note"):
                if r != first and rd.raw(ws, r, t.col(key) or 0, key) is not None:
                    rd.fail(ws, r, key, f"goes on the offer's first row (row {first})")
            if r == first:
                note = rd.text(ws, r, t.col("note"), "note")
            issue = rd.text(ws, r, t.col("issue"), "issue")
            value = rd.scalar(ws, r, t.col("offered"), "offered")
            status = rd.text(ws, r, t.col("new status"), "new status")
            if issue is None:
                if value is not None or status is not None:
                    rd.fail(ws, r, "issue", "a term names its issue")
                continue
            if value is not None:
                if issue in package:
                    rd.fail(ws, r, "issue", f"issue {issue!r} is offered twice in this offer")
                package[issue] = value
            if status is not None:
                s = status.strip().lower()
                if s not in STATUSES:
                    rd.fail(ws, r, "new status", f"is open, provisional or agreed, not {status!r}")
                else:
                    changes[issue] = s
        if package:
            offer["package"] = package
        if changes:
            offer["status_changes"] = changes
        if note is not None:
            offer["note"] = note
        history.append(offer)
    if history:
        data["history"] = history


def _open(raw: bytes, source: str, data_only: bool) -> Any:
    from openpyxl import load_workbook  # openpyxl only when a workbook is read

    try:
        return load_workbook(io.BytesIO(raw), data_only=data_only)
    except Exception as e:  # zipfile/XML/KeyError: every way a file can fail to be a workbook
        kind = type(e).__name__
        raise ScenarioFileError(
            f"{source}: not a readable Excel workbook (.xlsx): {kind}"
            + (f": {e}" if str(e) else "")
        ) from None


def xlsx_to_data(raw: bytes, source: str = "<workbook>") -> tuple[dict[str, Any], list[Problem]]:
    """Plain scenario data from workbook bytes, with notes (warnings); ScenarioValidationError with
    every located problem when cells are wrong. No scenario validation yet."""
    if raw[:2] != b"PK":
        raise ScenarioFileError(
            f"{source}: not an Excel workbook (.xlsx); an old .xls or a CSV must be saved as .xlsx"
        )
    wb = _open(raw, source, data_only=False)
    rd = _Reader()
    if any(
        ws.cell(row=r, column=c).data_type == "f"
        for ws in wb.worksheets
        for r in range(1, ws.max_row + 1)
        for c in range(1, ws.max_column + 1)
    ):
        rd.values = _open(raw, source, data_only=True)
    names = {ws.title.lower(): ws for ws in wb.worksheets}
    data: dict[str, Any] = {}
    for sheet in (SCENARIO_SHEET, ISSUES_SHEET):
        if sheet.lower() not in names:
            rd.problems.append(
                Problem(f'sheet "{sheet}"', "missing; the workbook needs it (see dealopt template)")
            )
    if SCENARIO_SHEET.lower() in names:
        _read_scenario_sheet(rd, names[SCENARIO_SHEET.lower()], data)
    if ISSUES_SHEET.lower() in names:
        _read_issues_sheet(rd, names[ISSUES_SHEET.lower()], data)
    parties = []
    for ws in wb.worksheets:
        mark = ws.cell(row=1, column=1).value
        if isinstance(mark, str) and mark.strip().lower() == PARTY_MARK.lower():
            parties.append(_read_party_sheet(rd, ws))
    if not parties:
        rd.problems.append(
            Problem(
                "workbook", 'no party sheet (a sheet with "Party" in cell A1 and the name in B1)'
            )
        )
    data["parties"] = parties
    if CONSTRAINTS_SHEET.lower() in names:
        _read_constraints_sheet(rd, names[CONSTRAINTS_SHEET.lower()], data)
    if LOG_SHEET.lower() in names:
        _read_log_sheet(rd, names[LOG_SHEET.lower()], data)
    if rd.problems:
        raise ScenarioValidationError(rd.problems, source)
    return _ordered(data), rd.notes


def _ordered(data: dict[str, Any]) -> dict[str, Any]:
    """Keys in the order a scenario file has them (name, description, us, ... metadata)."""
    order = ["name", "description", "us", "utility_scale", "metadata", "parties", "issues"]
    order += ["constraints", "history"]
    return {k: data[k] for k in order if k in data} | {
        k: v for k, v in data.items() if k not in order
    }


def xlsx_to_scenario(raw: bytes, source: str = "<workbook>") -> tuple[Scenario, list[Problem]]:
    """A validated scenario from workbook bytes, and the reader's notes (empty rows skipped...)."""
    data, notes = xlsx_to_data(raw, source)
    return scenario_from_data(data, source), notes


def load_xlsx(path: str | Path) -> tuple[Scenario, list[Problem]]:
    """Read and validate a scenario workbook file."""
    p = Path(path)
    return xlsx_to_scenario(read_bytes(p, "an Excel workbook"), str(path))


def is_workbook_name(path: str | Path) -> bool:
    """True when a file name says Excel workbook (.xlsx / .xlsm)."""
    return Path(path).suffix.lower() in (".xlsx", ".xlsm")
