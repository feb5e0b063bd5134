"""Proposal documents: a counterpart proposal to send, or an internal brief to take into the room.

``proposal_document(scenario, *, package=None, meso=None, audience="counterpart")`` builds one
``ProposalDocument`` (a title, then sections of paragraphs, bullet lists and tables), which
renders to Markdown (``to_markdown``), Word (``to_docx``, python-docx) and PDF (``to_pdf``,
fpdf2). ``write_proposal`` writes one of them to a file and never replaces a file unless told.

Which package: ``package`` is a 1-based rank in ``improve``'s best Pareto-improving packages
(default 1), a package dict or a ``PackageResult``; ``meso=K`` proposes ``K`` equivalent offers
(``optimizer.searches.meso``) to choose from instead. When no package improves on the deal on the table,
the proposal is to settle on the deal on the table.

* **counterpart**: where we stand (in the article's words), what we have agreed, the proposed
  terms (or the options to choose from), a short rationale per term in joint problem-solving
  language ("we"), what stays provisional and the next steps (ask *why*). It never shows a
  preference number: no weight, utility, walk-away point, aspiration or estimate of the other
  side's. The only numbers in it are the terms themselves and the date.
* **internal**: for our team only. Where we stand with what is left to gain, the proposed package
  with every side's utility change per issue, the walk-away points and aspirations (ranges as
  low / likely / high), per-issue preparation (weights, best options, limits), the trade logic,
  risks and the questions to ask (``optimizer.searches.questions`` / ``optimizer.searches.uncertainty`` when
  present, plus the issues where we are stuck and the other side's pressures).

PDF text uses a Unicode TrueType font when one is installed (DejaVu Sans, from Debian's
``fonts-dejavu-core``, or one bundled with matplotlib); without one it falls back to the core
Helvetica font and transliterates characters outside Latin-1, so unicode names never crash it.
"""

from __future__ import annotations

import datetime as _dt
import io
import unicodedata
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from optimizer.errors import DealoptError
from optimizer.reports.explain import (
    EPS,
    TradeExplanation,
    english_list,
    explain_trade,
    points,
    sentence_case,
    verb,
)
from optimizer.scenario.models import (
    AcceptableConstraint,
    BudgetConstraint,
    Range,
    Scenario,
    format_number,
    point,
    value_out,
)

Audience = Literal["counterpart", "internal"]
Format = Literal["md", "docx", "pdf"]
FORMATS: tuple[str, ...] = ("md", "docx", "pdf")
AUDIENCES: tuple[str, ...] = ("counterpart", "internal")

#: A margin (utility points) over a walk-away point below which the internal brief flags a risk.
THIN_MARGIN = 5.0
#: Share of a budget from which the internal brief calls it nearly used up.
BUDGET_ALERT = 0.95


# --------------------------------------------------------------------------------------------
# The document model
# --------------------------------------------------------------------------------------------


class Table(BaseModel):
    """A table: a header row and body rows of text cells."""

    model_config = ConfigDict(extra="forbid")

    header: list[str]
    rows: list[list[str]] = []


class Block(BaseModel):
    """A paragraph, a bullet list or a table."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["paragraph", "bullets", "table"]
    text: str = ""
    items: list[str] = []
    table: Table | None = None


class Section(BaseModel):
    """A heading and its blocks."""

    model_config = ConfigDict(extra="forbid")

    heading: str
    blocks: list[Block] = []

    def paragraph(self, text: str) -> Section:
        self.blocks.append(Block(kind="paragraph", text=text))
        return self

    def bullets(self, items: list[str]) -> Section:
        if items:
            self.blocks.append(Block(kind="bullets", items=list(items)))
        return self

    def table(self, header: list[str], rows: list[list[str]]) -> Section:
        self.blocks.append(Block(kind="table", table=Table(header=header, rows=rows)))
        return self


class ProposalDocument(BaseModel):
    """A proposal or brief, independent of its file format."""

    model_config = ConfigDict(extra="forbid")

    title: str
    subtitle: str = ""
    audience: Audience = "counterpart"
    sections: list[Section] = []
    packages: list[dict[str, str | int | float]] = Field(
        default=[], description="The package(s) proposed, in order."
    )

    def section(self, heading: str) -> Section:
        s = Section(heading=heading)
        self.sections.append(s)
        return s

    # -- renderers ----------------------------------------------------------------------------

    def plain_text(self) -> str:
        """Every word of the document as plain text (headings, paragraphs, bullets, cells)."""
        out = [self.title, self.subtitle]
        for s in self.sections:
            out.append(s.heading)
            for b in s.blocks:
                if b.kind == "paragraph":
                    out.append(b.text)
                elif b.kind == "bullets":
                    out.extend(b.items)
                elif b.table is not None:
                    out.append(" | ".join(b.table.header))
                    out.extend(" | ".join(r) for r in b.table.rows)
        return "\n".join(x for x in out if x)

    def to_markdown(self) -> str:
        """GitHub-flavoured Markdown."""
        lines = [f"# {_md(self.title)}", ""]
        if self.subtitle:
            lines += [f"*{_md(self.subtitle)}*", ""]
        for s in self.sections:
            lines += [f"## {_md(s.heading)}", ""]
            for b in s.blocks:
                if b.kind == "paragraph":
                    lines += [_md(b.text), ""]
                elif b.kind == "bullets":
                    lines += [f"- {_md(i)}" for i in b.items] + [""]
                elif b.table is not None:
                    t = b.table
                    lines.append("| " + " | ".join(_md_cell(h) for h in t.header) + " |")
                    lines.append("|" + "|".join("---" for _ in t.header) + "|")
                    for r in t.rows:
                        lines.append("| " + " | ".join(_md_cell(c) for c in r) + " |")
                    lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    def to_docx(self) -> bytes:
        """A Word document (python-docx): title, headings, bullet lists, grid tables."""
        import docx
        from docx.shared import Pt

        d = docx.Document()
        d.core_properties.title = self.title
        d.core_properties.subject = self.subtitle
        d.styles["Normal"].font.size = Pt(10.5)
        d.add_heading(self.title, level=0)
        if self.subtitle:
            p = d.add_paragraph()
            p.add_run(self.subtitle).italic = True
        for s in self.sections:
            d.add_heading(s.heading, level=1)
            for b in s.blocks:
                if b.kind == "paragraph":
                    d.add_paragraph(b.text)
                elif b.kind == "bullets":
                    for i in b.items:
                        d.add_paragraph(i, style="List Bullet")
                elif b.table is not None:
                    t = b.table
                    table = d.add_table(rows=1, cols=len(t.header))
                    table.style = "Light Grid Accent 1"
                    for cell, h in zip(table.rows[0].cells, t.header, strict=True):
                        cell.text = ""
                        cell.paragraphs[0].add_run(h).bold = True
                    for r in t.rows:
                        cells = table.add_row().cells
                        for cell, c in zip(cells, r, strict=True):
                            cell.text = c
                    d.add_paragraph()
        buf = io.BytesIO()
        d.save(buf)
        return buf.getvalue()

    def to_pdf(self) -> bytes:
        """A PDF (fpdf2) with a Unicode font when one is installed (see the module docstring)."""
        from fpdf import FPDF
        from fpdf.fonts import FontFace

        pdf = FPDF(format="A4")
        pdf.set_margins(18, 18, 18)
        pdf.set_auto_page_break(True, margin=18)
        fonts = find_unicode_font()
        if fonts is not None:
            regular, bold = fonts
            pdf.add_font("Body", "", regular)
            pdf.add_font("Body", "B", bold or regular)
            family, fix = "Body", _covered_by(regular)
        else:
            family, fix = "helvetica", latin1
        pdf.set_title(fix(self.title))
        pdf.set_creator("dealopt")
        pdf.add_page()
        width = pdf.w - pdf.l_margin - pdf.r_margin

        def write(text: str, size: float, style: str = "", gap: float = 1.5) -> None:
            pdf.set_font(family, style, size)
            pdf.multi_cell(width, size * 0.5, fix(text), new_x="LMARGIN", new_y="NEXT", align="L")
            pdf.ln(gap)

        write(self.title, 18, "B", 1)
        if self.subtitle:
            write(self.subtitle, 10, "", 3)
        for s in self.sections:
            pdf.ln(2)
            write(s.heading, 13, "B", 1)
            for b in s.blocks:
                if b.kind == "paragraph":
                    write(b.text, 10)
                elif b.kind == "bullets":
                    pdf.set_font(family, "", 10)
                    mark = "\u2022" if fonts is not None else "-"
                    for i in b.items:
                        pdf.set_x(pdf.l_margin)
                        pdf.cell(5, 5, mark)
                        pdf.multi_cell(
                            width - 5, 5, fix(i), new_x="LMARGIN", new_y="NEXT", align="L"
                        )
                    pdf.ln(1.5)
                elif b.table is not None:
                    t = b.table
                    pdf.set_font(family, "", 9 if len(t.header) <= 5 else 8)
                    widths = _col_widths(t)
                    with pdf.table(
                        col_widths=widths,
                        width=width,
                        line_height=4.6,
                        text_align="LEFT",
                        first_row_as_headings=True,
                        headings_style=FontFace(emphasis="BOLD", fill_color=(222, 231, 245)),
                    ) as table:
                        row = table.row()
                        for h in t.header:
                            row.cell(fix(h))
                        for r in t.rows:
                            row = table.row()
                            for c in r:
                                row.cell(fix(c))
                    pdf.ln(3)
        return bytes(pdf.output())

    def render(self, fmt: str) -> bytes:
        """The document in a format (``md`` as UTF-8 bytes, ``docx``, ``pdf``)."""
        if fmt == "md":
            return self.to_markdown().encode("utf-8")
        if fmt == "docx":
            return self.to_docx()
        if fmt == "pdf":
            return self.to_pdf()
        raise DealoptError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def _covered_by(font_path: str) -> Any:
    """A text fixer for a TrueType font: characters it has no glyph for are transliterated."""
    from fontTools.ttLib import TTFont

    with TTFont(font_path, lazy=True) as f:
        cmap = set(f.getBestCmap() or {})

    def fix(text: str) -> str:
        return "".join(ch if ord(ch) in cmap or ch in "\n\t" else latin1(ch) for ch in text)

    return fix


def _col_widths(t: Table) -> tuple[float, ...]:
    """Relative column widths: room for the longest word, and for short cells on one line."""
    out = []
    for j, h in enumerate(t.header):
        cells = [h] + [r[j] for r in t.rows if j < len(r)]
        word = max((len(w) for c in cells for w in c.split()), default=4)
        out.append(float(max(word + 2, min(max(len(c) for c in cells), 26))))
    return tuple(out)


_MD_SPECIAL = set("\\`*_[]<|$#")


def _md(text: str) -> str:
    """Escape Markdown (and Streamlit's $ math) in plain text."""
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in text)


def _md_cell(text: str) -> str:
    return _md(text).replace("\n", " ") or " "


_ASCII = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": ",",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u2022": "-",
    "\u2192": "->",
    "\u2190": "<-",
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2212": "-",
    "\u20ac": "EUR",
    "\u2122": "(TM)",
    "\u0141": "L",
    "\u0142": "l",
    "\u0152": "OE",
    "\u0153": "oe",
    "\u0110": "D",
    "\u0111": "d",
    "\u0131": "i",
}


def latin1(text: str) -> str:
    """Text the core PDF fonts can show: Latin-1 kept, the rest transliterated or '?'."""
    out = []
    for ch in text:
        if ord(ch) < 256:
            out.append(ch)
        elif ch in _ASCII:
            out.append(_ASCII[ch])
        else:
            base = "".join(
                c
                for c in unicodedata.normalize("NFKD", ch)
                if ord(c) < 256 and not unicodedata.combining(c)
            )
            out.append(base or "?")
    return "".join(out)


_FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "/Library/Fonts",
    "C:/Windows/Fonts",
)


def find_unicode_font() -> tuple[str, str | None] | None:
    """(regular, bold) paths of DejaVu Sans if installed or bundled with matplotlib, else None."""
    dirs = [Path(d) for d in _FONT_DIRS]
    try:
        import importlib.util

        spec = importlib.util.find_spec("matplotlib")
        if spec is not None and spec.origin:
            dirs.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf")
    except (ImportError, ValueError):
        pass
    for d in dirs:
        regular = d / "DejaVuSans.ttf"
        if regular.is_file():
            bold = d / "DejaVuSans-Bold.ttf"
            return str(regular), str(bold) if bold.is_file() else None
    return None


# --------------------------------------------------------------------------------------------
# Choosing the package(s)
# --------------------------------------------------------------------------------------------


class _Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    packages: list[dict[str, Any]]
    utilities: list[dict[str, float]]
    improve: Any = None
    meso: Any = None
    note: str | None = None


def _choose(
    scenario: Scenario,
    package: Any,
    meso: int | None,
    solver: str | None,
    time_limit: float | None,
    tolerance: float,
) -> _Choice:
    from optimizer.searches.improve import improve

    if meso is not None:
        from optimizer.searches.meso import equivalent_offers

        res = equivalent_offers(
            scenario, meso, tolerance=tolerance, solver=solver, time_limit=time_limit
        )
        if not res.packages:
            raise DealoptError(
                f"no equivalent offers to propose: {res.explanation or 'none found'}"
            )
        base = improve(scenario, top=3, solver=solver, time_limit=time_limit)
        return _Choice(
            packages=[dict(p.package) for p in res.packages],
            utilities=[dict(p.utilities) for p in res.packages],
            improve=base,
            meso=res,
            note=res.explanation,
        )
    if package is not None and not isinstance(package, int | np.integer):
        pkg = dict(getattr(package, "package", package))
        index = scenario.encode(pkg)
        u = scenario.utilities(index[None, :])[0]
        base = improve(scenario, top=3, solver=solver, time_limit=time_limit)
        return _Choice(
            packages=[scenario.decode(index)],
            utilities=[{p: float(u[j]) for j, p in enumerate(scenario.party_names)}],
            improve=base,
        )
    rank = 1 if package is None else int(package)
    if rank < 1:
        raise DealoptError(f"the package number starts at 1 (got {rank})")
    res = improve(scenario, top=max(rank, 3), solver=solver, time_limit=time_limit)
    if len(res.packages) >= rank:
        p = res.packages[rank - 1]
        return _Choice(packages=[dict(p.package)], utilities=[dict(p.utilities)], improve=res)
    if rank > 1 and res.packages:
        raise DealoptError(
            f"there {verb(len(res.packages), 'is', 'are')} only {len(res.packages)} win-win "
            f"package{'s' if len(res.packages) != 1 else ''}; choose a number up to "
            f"{len(res.packages)}"
        )
    ref = scenario.reference()
    if ref is None:
        raise DealoptError(
            "there is no package to propose: "
            f"{res.explanation or 'no package meets every constraint and walk-away point'}"
        )
    u = scenario.utilities([ref])[0]
    return _Choice(
        packages=[ref],
        utilities=[{p: float(u[j]) for j, p in enumerate(scenario.party_names)}],
        improve=res,
        note=res.explanation or "no package is better for everyone than the deal on the table",
    )


# --------------------------------------------------------------------------------------------
# Building the document
# --------------------------------------------------------------------------------------------


def proposal_document(
    scenario: Scenario,
    *,
    package: Any = None,
    meso: int | None = None,
    audience: str = "counterpart",
    solver: str | None = None,
    time_limit: float | None = None,
    tolerance: float = 1.0,
    date: _dt.date | str | None = None,
) -> ProposalDocument:
    """The proposal (counterpart) or brief (internal) for a package or for equivalent offers."""
    from optimizer.reports.summary import progress_summary

    if audience not in AUDIENCES:
        raise DealoptError(f"unknown audience {audience!r}; use counterpart or internal")
    choice = _choose(scenario, package, meso, solver, time_limit, tolerance)
    summary = progress_summary(scenario, solver=solver, improve_result=choice.improve)
    if isinstance(date, str):
        try:
            date = _dt.date.fromisoformat(date)
        except ValueError:
            raise DealoptError(f"the date must be YYYY-MM-DD (got {date!r})") from None
    date = date or _dt.date.today()
    explanations = [explain_trade(scenario, p) for p in choice.packages]
    if audience == "counterpart":
        doc = _counterpart(scenario, choice, summary, explanations, date)
    else:
        doc = _internal(scenario, choice, summary, explanations, date, solver, time_limit)
    doc.packages = [{k: value_out(v) for k, v in p.items()} for p in choice.packages]
    return doc


def _others(scenario: Scenario) -> list[str]:
    return [p for p in scenario.party_names if p != scenario.us_name]


def _shown(scenario: Scenario, issue: str, value: Any) -> str:
    return "-" if value is None else scenario.issue(issue).display(value)


def _option_names(n: int) -> list[str]:
    from optimizer.searches.meso import LETTERS

    return [f"Option {LETTERS[i]}" for i in range(n)]


def _rationale(scenario: Scenario, e: TradeExplanation) -> list[str]:
    """One joint-problem-solving sentence per changed term (no preference numbers)."""
    us = e.us
    others = [p for p in scenario.party_names if p != us]
    theirs = [
        t.issue
        for t in e.issues
        if t.changed
        and any(t.directions[o] == "gets" for o in others)
        and t.directions[us] != "gets"
    ]
    out = []
    for t in e.issues:
        if not t.changed:
            continue
        head = f"{sentence_case(t.issue)}: {_shown(scenario, t.issue, t.value)}."
        mine = t.directions[us]
        gets = [o for o in others if t.directions[o] == "gets"]
        gives = [o for o in others if t.directions[o] == "gives"]
        if mine == "gets" and gets:
            why = "This works better for both of us."
        elif mine == "gets" and gives:
            if theirs:
                why = (
                    "This matters a great deal to us, and it is what lets us move on "
                    f"{english_list(theirs)}."
                )
            else:
                why = "This matters a great deal to us."
        elif mine == "gets":
            why = "This helps us and, as we understand it, costs you little."
        elif gets and mine == "gives":
            why = "We know this matters to you, so we have moved here as part of the package."
        elif gets:
            why = "This helps you and fits the rest of the package."
        else:
            why = "This keeps the package within the limits we both have to work with."
        out.append(f"{head} {why}")
    return out


def _counterpart(
    scenario: Scenario,
    choice: _Choice,
    summary: Any,
    explanations: list[TradeExplanation],
    date: _dt.date,
) -> ProposalDocument:
    us = scenario.us_name
    others = _others(scenario)
    many = len(choice.packages) > 1
    doc = ProposalDocument(
        title=f"Proposal: {scenario.name}",
        subtitle=f"From {us} to {english_list(others)}, {date.isoformat()}",
        audience="counterpart",
    )
    doc.section("Where we stand").paragraph(summary.status_text).paragraph(
        "We see this as a problem we are solving together: finding terms that work for "
        f"{english_list(others)} and for us, rather than splitting the difference issue by issue."
    )

    agreed = [i for i in scenario.issues if i.status == "agreed"]
    s = doc.section("What we have agreed so far")
    if agreed:
        s.table(["Issue", "Agreed term"], [[i.name, i.display(i.value)] for i in agreed])
        s.paragraph("These stay as agreed; nothing in this proposal reopens them.")
    else:
        s.paragraph("We have not agreed on any term yet; this proposal covers every issue.")

    status_word = {"agreed": "agreed", "provisional": "provisional", "open": "open"}
    if many:
        names = _option_names(len(choice.packages))
        s = doc.section(f"{len(choice.packages)} packages to choose from")
        s.paragraph(
            f"We would be equally comfortable with any of these {len(choice.packages)} packages. "
            "Tell us which one works best for you, and why: that helps us understand what "
            "matters most on your side, so we can shape the final terms together."
        )
        rows = []
        for i in scenario.issues:
            rows.append(
                [i.name, status_word[i.status], _shown(scenario, i.name, i.value)]
                + [_shown(scenario, i.name, p[i.name]) for p in choice.packages]
            )
        s.table(["Issue", "Status", "Currently"] + names, rows)
        s = doc.section("Why these options")
        items = []
        for name, e in zip(names, explanations, strict=True):
            items.append(f"{name}: {e.text}")
        s.bullets(items)
    else:
        p = choice.packages[0]
        e = explanations[0]
        s = doc.section("Our proposal")
        if any(t.changed for t in e.issues):
            s.paragraph(
                "We propose the package below. It keeps everything we have agreed, and we "
                "believe it works better for both of us than the terms currently on the table."
                if scenario.reference() is not None
                else "We propose the package below, which we believe works for both of us."
            )
        else:
            s.paragraph(
                "We propose to settle on the terms currently on the table: we have not found a "
                "change that would make the deal better for both of us."
            )
        rows = [
            [
                i.name,
                status_word[i.status],
                _shown(scenario, i.name, i.value),
                _shown(scenario, i.name, p[i.name]),
            ]
            for i in scenario.issues
        ]
        s.table(["Issue", "Status", "Currently", "Proposed"], rows)
        s = doc.section("Why these terms")
        reasons = _rationale(scenario, e)
        if reasons:
            s.paragraph(f"In short: {e.text[:1].lower() + e.text[1:]}" if e.text else "")
            s.bullets(reasons)
        kept = [
            t.issue for t in e.issues if not t.changed and scenario.issue(t.issue).status == "open"
        ]
        if kept:
            s.paragraph(
                f"{sentence_case(english_list(kept))} {verb(len(kept), 'stays', 'stay')} as "
                "currently on the table."
            )
        if not reasons and not kept:
            s.paragraph("Every term is already agreed or provisionally settled.")

    provisional = [i for i in scenario.issues if i.status == "provisional"]
    s = doc.section("What stays provisional")
    if provisional:
        items = []
        for i in provisional:
            moved = [p for p in choice.packages if i.index_of(p[i.name]) != i.index_of(i.value)]
            if moved:
                items.append(
                    f"{sentence_case(i.name)}: we suggest revisiting it (currently "
                    f"{i.display(i.value)}), because it opens room for a better package for both "
                    "of us."
                )
            else:
                items.append(
                    f"{sentence_case(i.name)} stays provisionally at {i.display(i.value)}; we can "
                    "confirm it together with the rest of the package."
                )
        s.bullets(items)
    else:
        s.paragraph("Nothing is provisional at the moment.")

    steps = []
    if many:
        steps.append(
            "Tell us which option you prefer and what makes it work for you; we can then settle "
            "the details together."
        )
    else:
        steps.append(
            "Tell us which of these terms work for you and, where one does not, why: the reasons "
            "help us look for something that works better for both of us."
        )
    if summary.trouble:
        steps.append(
            f"Set up a working session on {english_list(summary.trouble)}, where we are furthest "
            "apart, to look at options together."
        )
    settled = [i.name for i in scenario.issues if i.status != "open"]
    if settled:
        steps.append(
            f"Once we agree on the package, we confirm it in writing together with "
            f"{english_list(settled)}."
        )
    else:
        steps.append("Once we agree on the package, we confirm it in writing.")
    steps.append("We are open to other ideas that make the deal better for both sides.")
    doc.section("Next steps").bullets(steps)
    return doc


def _estimate(value: Any) -> str:
    """A number or a range as text: '45' or '30 / 40 / 50 (low / likely / high)'."""
    if value is None:
        return "-"
    if isinstance(value, Range):
        if value.high > value.low:
            return (
                f"{format_number(round(value.low, 2))} / {format_number(round(value.likely, 2))}"
                f" / {format_number(round(value.high, 2))}"
            )
        return format_number(round(value.likely, 2))
    if hasattr(value, "package"):
        return "the utility of a reference package"
    return format_number(round(float(value), 2))


def _limit_text(scenario: Scenario, issue: str, party: str) -> str:
    parts = []
    it = scenario.issue(issue)
    for c in scenario.constraints:
        if isinstance(c, AcceptableConstraint) and c.issue == issue and c.party == party:
            if c.options is not None:
                parts.append("only " + ", ".join(c.options))
            if c.min is not None:
                parts.append(f"at least {it.display(c.min)}")
            if c.max is not None:
                parts.append(f"at most {it.display(c.max)}")
    return "; ".join(parts) or "-"


def _weight_text(scenario: Scenario, party: str, issue: str) -> str:
    prefs = scenario.party(party).preferences
    w = prefs.weights.get(issue)
    total = sum(float(point(v) or 0.0) for v in prefs.weights.values())
    if w is None or total <= 0:
        return "0%"
    share = f"{100 * float(point(w)) / total:.0f}%"
    if isinstance(w, Range) and w.high > w.low:
        return f"{share} (raw {_estimate(w)})"
    return share


def _best_text(scenario: Scenario, tables: Any, p: int, k: int) -> str:
    tab = tables.tables[p][k]
    if not np.any(tab):
        return "indifferent"
    issue = scenario.issues[k]
    best = np.flatnonzero(tab >= tab.max() - EPS)
    shown = [issue.display(issue.value_at(int(b))) for b in best[:3]]
    return " or ".join(shown) + (" ..." if len(best) > 3 else "")


def _questions(
    scenario: Scenario, summary: Any, solver: str | None, time_limit: float | None, many: bool
) -> list[str]:
    out: list[str] = []
    fn = None
    for module in ("optimizer.searches.uncertainty", "optimizer.searches.questions"):
        try:
            import importlib

            fn = getattr(importlib.import_module(module), "questions", None)
        except ImportError:
            fn = None
        if fn is not None:
            break
    if fn is not None:
        try:
            qs = fn(scenario, 3, solver=solver, time_limit=time_limit)
            out.extend(str(getattr(q, "text", q)) for q in qs)
        except (DealoptError, TypeError, ValueError):
            pass
    others = _others(scenario)
    for issue in summary.trouble:
        who = [p for p in summary.opposed.get(issue, others) if p != scenario.us_name] or others
        out.append(
            f"Ask {english_list(who)} why they hold firm on {issue}: what is behind their "
            "position, and what would make a move possible?"
        )
    for p in others:
        desc = scenario.party(p).description.strip()
        if desc:
            out.append(
                f"Walk in their shoes ({p}: {desc.rstrip('.')}). What pressures, targets or "
                "deadlines limit their room to move?"
            )
        else:
            out.append(
                f"Walk in their shoes: what pressures, targets or deadlines limit {p}'s room to "
                "move?"
            )
    if many:
        out.append("Which option do they prefer, and why? Their choice shows their priorities.")
    seen: set[str] = set()
    return [q for q in out if not (q in seen or seen.add(q))]


def _risks(
    scenario: Scenario,
    choice: _Choice,
    summary: Any,
    explanations: list[TradeExplanation],
) -> list[str]:
    us = scenario.us_name
    names = scenario.party_names
    out: list[str] = []
    labels = _option_names(len(choice.packages)) if len(choice.packages) > 1 else ["The proposal"]
    for label, e, u, pkg in zip(
        labels, explanations, choice.utilities, choice.packages, strict=True
    ):
        prefix = f"{label}: " if len(choice.packages) > 1 else ""
        out.extend(prefix + w for w in e.warnings)
        for p in names:
            party = scenario.party(p)
            r = scenario.reservation(p)
            if r is None:
                continue
            margin = u[p] - r
            whose = "our" if p == us else f"{p}'s"
            rv = party.reservation_value
            if p != us and isinstance(rv, Range) and rv.high > u[p] + EPS >= rv.low:
                out.append(
                    f"{label} gives {p} a utility of {u[p]:.1f}: below their walk-away if it is "
                    f"at the high end of our estimate ({format_number(rv.high)}). They may reject "
                    "it; be ready with a move that costs us little."
                )
            elif 0 <= margin < THIN_MARGIN:
                out.append(
                    f"{label} is only {margin:.1f} points above {whose} walk-away point "
                    f"({format_number(round(r, 2))})."
                )
        index = scenario.encode(pkg)
        for c in scenario.constraints:
            if isinstance(c, BudgetConstraint) and c.limit > 0:
                total = sum(
                    float(c.cost_table(scenario, k)[index[scenario.issue_names.index(k)]])
                    for k in c.costs
                )
                if total >= BUDGET_ALERT * c.limit:
                    name = c.name or "a budget"
                    out.append(
                        f"{label} uses {format_number(round(total, 2))} of "
                        f"{format_number(c.limit)} {c.unit} of {name}: little room left.".replace(
                            "  ", " "
                        )
                    )
        reopened = [
            i.name
            for i in scenario.issues
            if i.status == "provisional" and i.index_of(pkg[i.name]) != i.index_of(i.value)
        ]
        if reopened:
            out.append(
                f"{label} reopens {english_list(reopened)}, provisionally settled: explain "
                "that it unlocks value for both sides."
            )
    if summary.trouble:
        out.append(
            f"We pull hard in opposite directions on {english_list(summary.trouble)}: expect "
            "pushback there and prepare options."
        )
    ranges = sum(
        1
        for p in _others(scenario)
        for v in [
            *scenario.party(p).preferences.weights.values(),
            scenario.party(p).reservation_value,
        ]
        if isinstance(v, Range) and v.high > v.low
    )
    if ranges:
        out.append(
            f"{ranges} of our estimates of the other side's weights and walk-away points "
            f"{verb(ranges, 'is a range', 'are ranges')}: check {verb(ranges, 'it', 'them')} "
            "with the questions below."
        )
    seen: set[str] = set()
    return [r for r in out if not (r in seen or seen.add(r))] or ["No specific risks found."]


def _internal(
    scenario: Scenario,
    choice: _Choice,
    summary: Any,
    explanations: list[TradeExplanation],
    date: _dt.date,
    solver: str | None,
    time_limit: float | None,
) -> ProposalDocument:
    from optimizer.scenario.utility import UtilityTables

    us = scenario.us_name
    names = scenario.party_names
    others = _others(scenario)
    many = len(choice.packages) > 1
    tables = UtilityTables.build(scenario)
    ref = scenario.reference()
    ref_u = scenario.utilities([ref])[0] if ref is not None else None
    doc = ProposalDocument(
        title=f"Internal brief: {scenario.name}",
        subtitle=f"Confidential: for {us} only. Prepared {date.isoformat()}.",
        audience="internal",
    )
    doc.section("Where we stand").paragraph(summary.text)
    if summary.reasons:
        doc.sections[-1].bullets(
            [
                f"{name}: {summary.reasons[name]}"
                for name in scenario.issue_names
                if name in summary.reasons
            ]
        )

    # The package(s) with utilities.
    labels = _option_names(len(choice.packages)) if many else ["Proposed"]
    s = doc.section("Equivalent offers (MESOs)" if many else "Proposed package")
    if choice.note:
        s.paragraph(f"Note: {choice.note}.".replace("..", "."))
    rows = []
    for i in scenario.issues:
        row = [i.name, i.status, _shown(scenario, i.name, i.value)]
        row += [_shown(scenario, i.name, p[i.name]) for p in choice.packages]
        rows.append(row)
    for p in names:
        row = [
            f"utility: {'us' if p == us else p}",
            "",
            "-" if ref_u is None else f"{ref_u[names.index(p)]:.1f}",
        ]
        row += [f"{u[p]:.1f}" for u in choice.utilities]
        rows.append(row)
    s.table(["Issue", "Status", "On the table"] + labels, rows)
    if many:
        s.paragraph(
            "Every option is worth the same to us (within the tolerance) and better for everyone "
            "than the deal on the table; they differ in what they give the other side, so the "
            "choice they make tells us their priorities."
        )

    # Trade logic.
    s = doc.section("Trade logic")
    for label, e in zip(labels, explanations, strict=True):
        prefix = f"{label}: " if many else ""
        s.paragraph(prefix + e.text)
        if e.lines:
            s.bullets(e.lines)
        total = ", ".join(f"{'us' if p == us else p} {points(e.totals[p])}" for p in names)
        s.paragraph(f"{prefix}Change against the deal on the table: {total}.")

    # Walk-away and aspiration.
    s = doc.section("Walk-away points and aspirations")
    rows = []
    for p in names:
        party = scenario.party(p)
        rows.append(
            [
                f"{p}{' (us)' if p == us else ' (estimate)'}",
                _estimate(party.reservation_value),
                _estimate(party.aspiration),
                "-" if ref_u is None else f"{ref_u[names.index(p)]:.1f}",
                " / ".join(f"{u[p]:.1f}" for u in choice.utilities),
            ]
        )
    s.table(
        ["Party", "Walk-away (low / likely / high)", "Aspiration", "On the table", "Proposed"],
        rows,
    )

    # Per-issue preparation.
    s = doc.section("Issue by issue")
    header = ["Issue", "Status", "Our weight", "Our best", "Our limit"]
    for o in others:
        header += [f"{o} weight (est.)", f"{o} best (est.)", f"{o} limit"]
    rows = []
    us_pos = names.index(us)
    for k, i in enumerate(scenario.issues):
        row = [
            i.name,
            i.status,
            _weight_text(scenario, us, i.name),
            _best_text(scenario, tables, us_pos, k),
            _limit_text(scenario, i.name, us),
        ]
        for o in others:
            row += [
                _weight_text(scenario, o, i.name),
                _best_text(scenario, tables, names.index(o), k),
                _limit_text(scenario, i.name, o),
            ]
        rows.append(row)
    s.table(header, rows)
    if scenario.constraints:
        from optimizer.scenario.wording import constraint_text

        s.paragraph("Hard rules:")
        s.bullets([sentence_case(constraint_text(scenario, c)) for c in scenario.constraints])

    doc.section("Risks").bullets(_risks(scenario, choice, summary, explanations))
    doc.section("Questions to ask").bullets(_questions(scenario, summary, solver, time_limit, many))
    return doc


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def format_from_path(path: str | Path) -> str | None:
    """The format a file name implies (``.md``, ``.docx``, ``.pdf``), or None."""
    suffix = Path(path).suffix.lower().lstrip(".")
    return {"md": "md", "markdown": "md", "docx": "docx", "pdf": "pdf"}.get(suffix)


def write_proposal(
    doc: ProposalDocument, path: str | Path, fmt: str | None = None, *, force: bool = False
) -> Path:
    """Write the document; refuses to replace an existing file unless ``force``."""
    p = Path(path)
    fmt = fmt or format_from_path(p) or "md"
    if fmt not in FORMATS:
        raise DealoptError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if p.exists() and not force:
        raise DealoptError(f"{p} exists; pass --force to replace it")
    if p.is_dir():
        raise DealoptError(f"{p} is a directory")
    if not p.parent.exists():
        raise DealoptError(f"{p.parent} does not exist")
    data = doc.render(fmt)
    try:
        p.write_bytes(data)
    except OSError as e:
        raise DealoptError(f"cannot write {p}: {e.strerror or e}") from None
    return p
