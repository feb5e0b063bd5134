"""Proposal documents: a counterpart proposal to send, or an internal brief to take into the room.

``proposal_document(scenario, *, package=None, meso=None, audience="counterpart")`` builds one
``ProposalDocument`` (a title, then sections of paragraphs, bullet lists and tables), which
renders to Markdown (``to_markdown``), Word (``to_docx``, python-docx) and PDF (``to_pdf``,
fpdf2). ``write_proposal`` saves one of them atomically and never replaces a file unless told.

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
``fonts-dejavu-core``, or one bundled with matplotlib), with fallback fonts for what it lacks
(Noto Sans CJK from ``fonts-noto-cjk``, Symbola from ``fonts-symbola``: ``.ci/run`` installs
them); without one it falls back to the core Helvetica font and transliterates characters
outside Latin-1, so unicode names never crash it. Every renderer copes with hostile names:
control characters are dropped (Word files cannot hold them), long unbroken words get break
points in PDF, line breaks never break the Markdown structure, and Word's title property is
cut to its 255-character limit.
"""

from __future__ import annotations

import datetime as _dt
import functools
import io
import os
import re
import unicodedata
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from optimizer.engine.budget import bounded_by_time_limit
from optimizer.engine.reference import package_breaks
from optimizer.errors import DealoptError, OutputExistsError
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
    author: str = Field(default="", description="Who the document is from (our party).")
    date: str = Field(default="", description="The document's date, YYYY-MM-DD.")

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

    @classmethod
    def from_markdown(cls, text: str, **fields: Any) -> ProposalDocument:
        """A document from Markdown as ``to_markdown`` writes it, edited by hand: ``# title``,
        ``*subtitle*``, ``## heading``, paragraphs, ``- bullets`` and ``| tables |``.
        ``fields`` (audience, packages, author, date) are kept from the original."""
        import re

        doc = cls(title="", **fields)
        lines = text.replace("\r\n", "\n").split("\n")
        section: Section | None = None
        para: list[str] = []
        bullets: list[str] = []
        table: list[list[str]] = []

        def target() -> Section:
            nonlocal section
            if section is None:
                section = doc.section("")
            return section

        def flush() -> None:
            nonlocal para, bullets, table
            if para:
                target().paragraph(" ".join(para))
            if bullets:
                target().bullets(bullets)
            if table:
                header, *rows = table
                rows = [r for r in rows if not all(re.fullmatch(r":?-{3,}:?", c) for c in r)]
                width = len(header)
                rows = [(r + [""] * width)[:width] for r in rows]
                target().table(header, rows)
            para, bullets, table = [], [], []

        for raw in lines:
            line = raw.strip()
            if not line:
                flush()
                continue
            if line.startswith("## "):
                flush()
                section = doc.section(_unmd(line[3:].strip()))
            elif line.startswith("# ") and not doc.title:
                flush()
                doc.title = _unmd(line[2:].strip())
            elif (
                section is None
                and not doc.subtitle
                and len(line) > 2
                and line[0] == line[-1] == "*"
                and not line.startswith("**")
            ):
                doc.subtitle = _unmd(line[1:-1])
            elif line.startswith(("- ", "* ")):
                if para or table:
                    flush()
                bullets.append(_unmd(line[2:].strip()))
            elif line.startswith("|"):
                if para or bullets:
                    flush()
                body = line[1:]
                if body.endswith("|") and not body.endswith("\\|"):
                    body = body[:-1]
                cells = re.split(r"(?<!\\)\|", body)
                table.append([_unmd(c.strip()) for c in cells])
            else:
                if bullets or table:
                    flush()
                para.append(_unmd(line))
        flush()
        doc.sections = [s for s in doc.sections if s.heading or s.blocks]
        if not doc.title:
            doc.title = "Proposal"
        return doc

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

        x = _xml_text  # Word files are XML: control characters cannot be stored
        d = docx.Document()
        _docx_properties(d, self)
        d.styles["Normal"].font.size = Pt(10.5)
        d.add_heading(x(self.title), level=0)
        if self.subtitle:
            p = d.add_paragraph()
            p.add_run(x(self.subtitle)).italic = True
        for s in self.sections:
            d.add_heading(x(s.heading), level=1)
            for b in s.blocks:
                if b.kind == "paragraph":
                    d.add_paragraph(x(b.text))
                elif b.kind == "bullets":
                    for i in b.items:
                        d.add_paragraph(x(i), style="List Bullet")
                elif b.table is not None:
                    t = b.table
                    table = d.add_table(rows=1, cols=len(t.header))
                    table.style = "Light Grid Accent 1"
                    for cell, h in zip(table.rows[0].cells, t.header, strict=True):
                        cell.text = ""
                        cell.paragraphs[0].add_run(x(h)).bold = True
                    for r in t.rows:
                        cells = table.add_row().cells
                        for cell, c in zip(cells, r, strict=True):
                            cell.text = x(c)
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
            covered = set(_cmap(regular))
            # Fallback fonts (CJK, emoji and symbols) only for characters the body font lacks:
            # loading a CJK font costs time, so a document that needs none loads none.
            missing = {ord(c) for c in self.plain_text()} - covered
            fallbacks = []
            for n, (path, number) in enumerate(find_fallback_fonts() if missing else []):
                cmap = _cmap(path, number)
                if missing & cmap:
                    name = f"Fallback{n}"
                    pdf.add_font(name, "", path, collection_font_number=number)
                    fallbacks.append(name)
                    covered |= cmap
                    missing -= cmap
            if fallbacks:
                pdf.set_fallback_fonts(fallbacks, exact_match=False)
            family, fix = "Body", _covered_by(covered)
        else:
            family, fix = "helvetica", lambda text: latin1(_printable(text))
        pdf.set_title(fix(self.title))
        pdf.set_creator("dealopt")
        if self.author:
            pdf.set_author(fix(self.author))
        pdf.set_creation_date(_moment(self.date))
        pdf.add_page()
        width = pdf.w - pdf.l_margin - pdf.r_margin

        def measure(word: str) -> float:
            """A word's printed width; a long word counts by its widest piece (``_breakable``)."""
            return max(pdf.get_string_width(piece) for piece in fix(word).split("\u200b"))

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
                    widths = _col_widths(t, measure, width)
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


def _moment(date: str) -> _dt.datetime:
    """The document's date as a timezone-aware datetime (today when it has none)."""
    try:
        day = _dt.date.fromisoformat(date) if date else _dt.date.today()
    except ValueError:
        day = _dt.date.today()
    return _dt.datetime(day.year, day.month, day.day, 12, 0, tzinfo=_dt.UTC)


def _docx_properties(d: Any, doc: ProposalDocument) -> None:
    """Core properties of our own (author = our party, title, the document's date) instead of
    the template's ("python-docx", 2013), and no blank preview image (the template's thumbnail)."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    props = d.core_properties
    author = _shorten(_xml_text(doc.author), _CORE_PROPERTY_MAX)  # Word's limits (see there)
    props.author = author
    props.last_modified_by = author
    props.title = _shorten(_xml_text(doc.title), _CORE_PROPERTY_MAX)
    props.subject = _shorten(_xml_text(doc.subtitle), _CORE_PROPERTY_MAX)
    props.comments = ""
    props.keywords = ""
    props.category = ""
    props.revision = 1
    when = _moment(doc.date).replace(tzinfo=None)
    props.created = when
    props.modified = when
    props.last_printed = when
    package = d.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del package.rels[rid]


def _covered_by(cmap: set[int]) -> Any:
    """A text fixer for the PDF's fonts: control characters dropped, characters no font has a
    glyph for transliterated (``latin1``), unbroken words longer than a line given break points."""

    def fix(text: str) -> str:
        text = _printable(text)
        text = "".join(ch if ord(ch) in cmap or ch in "\n\t" else latin1(ch) for ch in text)
        return _breakable(text)

    return fix


@functools.lru_cache(maxsize=16)
def _cmap(font_path: str, number: int = 0) -> frozenset[int]:
    """The characters a TrueType/OpenType font (or one font of a collection) has glyphs for."""
    from fontTools.ttLib import TTFont

    with TTFont(font_path, lazy=True, fontNumber=number) as f:
        return frozenset(f.getBestCmap() or {})


#: Fallback fonts for what DejaVu Sans lacks, in order of preference: a CJK font (Debian's
#: fonts-noto-cjk or fonts-wqy-zenhei) and a symbol/emoji font (fonts-symbola).
_FALLBACK_FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf", 0),
    ("/usr/share/fonts/truetype/ancient-scripts/Symbola.ttf", 0),
    ("/usr/share/fonts/truetype/noto/NotoSansSymbols2-Regular.ttf", 0),
    ("/usr/share/fonts/truetype/noto/NotoSansSymbols-Regular.ttf", 0),
)


def find_fallback_fonts() -> list[tuple[str, int]]:
    """(path, font number) of the installed fallback fonts (see ``_FALLBACK_FONTS``)."""
    return [(p, n) for p, n in _FALLBACK_FONTS if Path(p).is_file()]


#: python-docx refuses core properties (title, subject) over 255 characters.
_CORE_PROPERTY_MAX = 255
#: A word longer than this gets break points in PDF output (a table cell cannot hold it).
_LONG_WORD = 30
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def _printable(text: str) -> str:
    """Text without control characters (a NUL or bell in a name cannot be printed or stored);
    a vertical tab or form feed becomes a space."""
    return _CONTROL.sub(lambda m: " " if m.group() in "\x0b\x0c" else "", text)


def _xml_text(text: str) -> str:
    """Text a Word (XML) file can hold."""
    return _printable(text)


def _shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _breakable(text: str) -> str:
    """Words longer than ``_LONG_WORD`` characters get zero-width spaces every so often, so a
    PDF line or table cell can wrap them (an unbroken 200-character name would not fit)."""
    if len(text) <= _LONG_WORD:
        return text
    return re.sub(
        rf"\S{{{_LONG_WORD + 1},}}",
        lambda m: "\u200b".join(
            m.group()[k : k + _LONG_WORD] for k in range(0, len(m.group()), _LONG_WORD)
        ),
        text,
    )


def _col_widths(t: Table, measure: Any = None, width: float | None = None) -> tuple[float, ...]:
    """Column widths: room for the longest word, and for short cells on one line.

    Without ``measure`` (text -> width in the page's unit) they are relative, by characters. With
    it, they are in the page's unit and every column is at least as wide as its longest word
    (bold in the header row) plus the cell padding, so a table never splits a word across lines,
    unless the longest words of all columns together are wider than the page."""
    out = []
    for j, h in enumerate(t.header):
        cells = [h] + [r[j] for r in t.rows if j < len(r)]
        # longer words are broken (``_breakable``), so they ask for no more room than this
        word = min(max((len(w) for c in cells for w in c.split()), default=4), _LONG_WORD)
        out.append(float(max(word + 2, min(max(len(c) for c in cells), 26))))
    if measure is None or width is None:
        return tuple(out)
    pad = 4.0  # the table's cell padding on both sides, with a margin for bold glyphs
    need = []
    for j, h in enumerate(t.header):
        words = [w for c in [r[j] for r in t.rows if j < len(r)] for w in c.split()]
        head = max((measure(w) * 1.12 for w in h.split()), default=0.0)  # bold is wider
        need.append(max([head, *(measure(w) for w in words), 4.0]) + pad)
    if sum(need) >= width:
        return tuple(width * n / sum(need) for n in need)
    widths = [width * o / sum(out) for o in out]
    fixed: set[int] = set()
    while True:
        short = [j for j, w in enumerate(widths) if j not in fixed and w < need[j] - 1e-9]
        if not short:
            return tuple(widths)
        fixed.update(short)
        rest = width - sum(need[j] for j in fixed)
        free = [j for j in range(len(widths)) if j not in fixed]
        share = sum(out[j] for j in free)
        widths = [
            need[j] if j in fixed else rest * out[j] / share if share > 0 else 0.0
            for j in range(len(widths))
        ]


_MD_SPECIAL = set("\\`*_[]<|$#")


_LINE_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029\x85]+\s*")


def _md(text: str) -> str:
    """Escape Markdown (and Streamlit's $ math) in plain text, on one line: a line break in a
    name would end a heading, a list item or a table row, so it becomes a space."""
    text = _LINE_BREAKS.sub(" ", _printable(text))
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in text)


def _unmd(text: str) -> str:
    """Undo ``_md``: drop the backslash before an escaped Markdown character."""
    out = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in _MD_SPECIAL:
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


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
    overrides: list[str] = Field(default=[], description="Guards the user chose to override.")
    table: Any = None  # guards.TableCheck of the deal on the table


def _choose(
    scenario: Scenario,
    package: Any,
    meso: int | None,
    solver: str | None,
    time_limit: float | None,
    tolerance: float,
    objective: str = "maxmin",
    override: bool = False,
) -> _Choice:
    from optimizer.reports.guards import table_below_walkaway

    choice = _pick(scenario, package, meso, solver, time_limit, tolerance, objective)
    choice.table = table_below_walkaway(
        scenario, with_packages=False, solver=solver, time_limit=time_limit
    )
    _guard(scenario, choice, override, solver, time_limit)
    return choice


def _guard(
    scenario: Scenario,
    choice: _Choice,
    override: bool,
    solver: str | None,
    time_limit: float | None,
) -> None:
    """Refuse a package below our walk-away point or behind our own offer, unless overridden
    (then the override is kept for the internal brief)."""
    from optimizer.reports.guards import check_package, guard_error, table_below_walkaway

    many = len(choice.packages) > 1
    labels = _option_names(len(choice.packages)) if many else ["This package"]
    for label, pkg in zip(labels, choice.packages, strict=True):
        problems = check_package(scenario, pkg)
        if not problems:
            continue
        if not override:
            if choice.table is not None and choice.table.below and choice.note is not None:
                # Settling on a table below our walk-away: show the way out, not a dead end.
                full = table_below_walkaway(scenario, solver=solver, time_limit=time_limit)
                err = guard_error(problems, "Settling on the deal on the table")
                raise type(err)(
                    f"{full.text}\nPropose one of these packages (--package-file on the command "
                    "line; 'Packages that reach our walk-away' on the Proposals page), or "
                    "override explicitly (--override).",
                    err.problems,
                )
            raise guard_error(problems, label)
        choice.overrides.extend(f"{label}: {p.text}." for p in problems)


def _pick(
    scenario: Scenario,
    package: Any,
    meso: int | None,
    solver: str | None,
    time_limit: float | None,
    tolerance: float,
    objective: str,
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
    res = improve(
        scenario, objective=objective, top=max(rank, 3), solver=solver, time_limit=time_limit
    )
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
    if ref is None or package_breaks(scenario, ref):  # never propose a deal that breaks a rule
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


@bounded_by_time_limit
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
    objective: str = "maxmin",
    override: bool = False,
) -> ProposalDocument:
    """The proposal (counterpart) or brief (internal) for a package or for equivalent offers.

    ``package`` as a rank counts in ``objective``'s ranking (``maxmin``, ``welfare``, ``nash``).
    A package below our walk-away point or worse for us than our latest offer raises
    ``ProposalGuardError`` unless ``override`` (the internal brief then records it)."""
    from optimizer.reports.summary import progress_summary

    if audience not in AUDIENCES:
        raise DealoptError(f"unknown audience {audience!r}; use counterpart or internal")
    choice = _choose(scenario, package, meso, solver, time_limit, tolerance, objective, override)
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
    doc.author = scenario.us_name
    doc.date = date.isoformat()
    return doc


def _others(scenario: Scenario) -> list[str]:
    return [p for p in scenario.party_names if p != scenario.us_name]


def _shown(scenario: Scenario, issue: str, value: Any) -> str:
    return "-" if value is None else scenario.issue(issue).display(value)


def _option_names(n: int) -> list[str]:
    from optimizer.searches.meso import LETTERS

    return [f"Option {LETTERS[i]}" for i in range(n)]


#: The sentence that makes the counterpart proposal package-conditional.
PACKAGE_CONDITION = (
    "We offer these terms as one package: each term holds only together with the others. If one "
    "of them does not work for you, we will look at the package again as a whole rather than "
    "settle it term by term."
)
MESO_CONDITION = (
    "Each option is a complete package: its terms hold together, and we do not combine terms "
    "from different options."
)


def _move_words(scenario: Scenario, issue: str, old: Any, new: Any) -> str:
    """'a higher price per seat (60 USD/month instead of 56 USD/month)' or
    'premium instead of standard' -- what changes, in plain words."""
    it = scenario.issue(issue)
    if old is None:
        return it.display(new)
    if it.is_numeric:
        higher = float(new) > float(old)
        return (
            f"a {'higher' if higher else 'lower'} {issue} ({it.display(new)} instead of "
            f"{it.display(old)})"
        )
    return f"{issue} {it.display(new)} instead of {it.display(old)}"


def _rationale(scenario: Scenario, e: TradeExplanation) -> list[str]:
    """One sentence per changed term saying what it does for them and where it sits in the
    exchange. No preference numbers and no ranking of our priorities."""
    us = e.us
    others = [p for p in scenario.party_names if p != us]
    theirs = [
        t.issue
        for t in e.issues
        if t.changed
        and any(t.directions[o] == "gets" for o in others)
        and t.directions[us] != "gets"
    ]
    ours = [
        t.issue
        for t in e.issues
        if t.changed
        and t.directions[us] == "gets"
        and not any(t.directions[o] == "gets" for o in others)
    ]
    out = []
    for t in e.issues:
        if not t.changed:
            continue
        head = f"{sentence_case(t.issue)}: {_shown(scenario, t.issue, t.value)}."
        move = _move_words(scenario, t.issue, t.reference, t.value)
        mine = t.directions[us]
        gets = [o for o in others if t.directions[o] == "gets"]
        gives = [o for o in others if t.directions[o] == "gives"]
        if mine == "gets" and gets:
            why = f"This works better for {_all(scenario)}: {move}."
        elif mine == "gives" and gets:
            why = (
                f"This is a move in your direction: {move}. We offer it as part of the package"
                + (
                    f", together with the {verb(len(ours), 'change', 'changes')} on "
                    f"{english_list(ours)}."
                    if ours
                    else "."
                )
            )
        elif gets:
            why = f"This gives you {move}, and it fits the rest of the package."
        elif mine == "gets" and gives:
            others_moves = [i for i in theirs if i != t.issue]
            why = (
                f"In return for the {verb(len(others_moves), 'move', 'moves')} in your "
                f"direction on {english_list(others_moves)}, "
                f"we ask for {move}. It is what makes "
                f"{verb(len(others_moves), 'that move', 'those moves')} possible for us."
                if others_moves
                else f"We ask for {move}; we would like to understand what it would take on "
                "your side."
            )
        elif mine == "gets":
            why = f"This helps us ({move}) and, as far as we can see, costs you little."
        else:
            why = f"This keeps the package within the limits we both have to work with ({move})."
        out.append(f"{head} {why}")
    return out


def _status_in(scenario: Scenario, issue: Any, value: Any) -> str:
    """An issue's status as the proposal leaves it (never "in good shape" when it changes)."""
    if issue.status == "agreed":
        return "agreed"
    if issue.value is None:
        return "proposed"
    moved = issue.index_of(value) != issue.index_of(issue.value)
    if issue.status == "provisional":
        return "reopened in this package" if moved else "provisional"
    return "changed in this package" if moved else "as on the table"


def _all(scenario: Scenario) -> str:
    """'both of us' with two parties, 'all of us' with more."""
    return "both of us" if len(scenario.parties) == 2 else "all of us"


def _where_we_stand(scenario: Scenario, packages: list[dict[str, Any]]) -> str:
    """Where we stand, from the statuses only (no internal assessment, no numbers)."""
    agreed = [i.name for i in scenario.issues if i.status == "agreed"]
    provisional = [i.name for i in scenario.issues if i.status == "provisional"]
    open_ = [i.name for i in scenario.issues if i.status == "open"]
    moved = [
        i.name
        for i in scenario.issues
        if i.status != "agreed"
        and i.value is not None
        and any(i.index_of(p[i.name]) != i.index_of(i.value) for p in packages)
    ]
    parts = [
        f"We have agreed on {english_list(agreed)}."
        if agreed
        else "We have not agreed on any term yet."
    ]
    if provisional:
        parts.append(
            f"{sentence_case(english_list(provisional))} "
            f"{verb(len(provisional), 'is', 'are')} provisionally settled."
        )
    if open_:
        parts.append(f"{sentence_case(english_list(open_))} {verb(len(open_), 'is', 'are')} open.")
    if moved:
        what = "These options change" if len(packages) > 1 else "This proposal changes"
        parts.append(f"{what} {english_list(moved)}; everything else stays as it is.")
    return " ".join(parts)


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
    doc.section("Where we stand").paragraph(_where_we_stand(scenario, choice.packages)).paragraph(
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

    if many:
        names = _option_names(len(choice.packages))
        s = doc.section(f"{len(choice.packages)} packages to choose from")
        s.paragraph(
            f"We would be equally comfortable with any of these {len(choice.packages)} packages. "
            "Tell us which one works best for you, and why: that helps us understand your side, "
            "so we can shape the final terms together."
        )
        s.paragraph(MESO_CONDITION)
        rows = []
        for i in scenario.issues:
            rows.append(
                [i.name, _shown(scenario, i.name, i.value)]
                + [_shown(scenario, i.name, p[i.name]) for p in choice.packages]
            )
        s.table(["Issue", "Currently"] + names, rows)
        s = doc.section("What each option does for you")
        for name, e in zip(names, explanations, strict=True):
            reasons = _rationale(scenario, e)
            s.paragraph(f"{name}:" if reasons else f"{name}: the terms currently on the table.")
            s.bullets(reasons)
    else:
        p = choice.packages[0]
        e = explanations[0]
        s = doc.section("Our proposal")
        changed = any(t.changed for t in e.issues)
        better_for_them = (
            all(e.totals.get(o, 0.0) >= -EPS for o in others) and scenario.reference() is not None
        )
        if not changed:
            s.paragraph("We propose to settle on the terms currently on the table, as one package.")
        elif scenario.reference() is None:
            s.paragraph(
                f"We propose the package below, which we believe works for {_all(scenario)}."
            )
        elif better_for_them:
            s.paragraph(
                "We propose the package below. It keeps everything we have agreed, and we "
                f"believe it works better for {_all(scenario)} than the terms currently on the "
                "table."
            )
        else:
            s.paragraph(
                "We propose the package below. It keeps everything we have agreed. We know it "
                "asks you to move on some terms; in return we move on others, so that the "
                "package as a whole is one we can both accept."
            )
        s.paragraph(PACKAGE_CONDITION)
        rows = [
            [
                i.name,
                _status_in(scenario, i, p[i.name]),
                _shown(scenario, i.name, i.value),
                _shown(scenario, i.name, p[i.name]),
            ]
            for i in scenario.issues
        ]
        s.table(["Issue", "Status", "Currently", "Proposed"], rows)
        s = doc.section("What each term does for you")
        reasons = _rationale(scenario, e)
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
                    f"{i.display(i.value)}), because it opens room for a better package for "
                    f"{_all(scenario)}."
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
            "Tell us whether the package works for you as a whole. Where a term does not, tell "
            "us why: the reasons help us look for a package that works better for "
            f"{_all(scenario)}."
        )
    settled = [i.name for i in scenario.issues if i.status != "open"]
    if settled:
        steps.append(
            f"Once we agree on the package, we confirm it in writing together with "
            f"{english_list(settled)}."
        )
    else:
        steps.append("Once we agree on the package, we confirm it in writing.")
    steps.append(
        "We are open to other ideas that make the deal better for "
        + ("both sides." if len(scenario.parties) == 2 else "every side.")
    )
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
                    f"{label} gives {p} a utility of {_u1(u[p])}: below their walk-away if it is "
                    f"at the high end of our estimate ({format_number(rv.high)}). They may reject "
                    "it; be ready with a move that costs us little."
                )
            elif 0 <= margin < THIN_MARGIN:
                out.append(
                    f"{label} is only {_u1(u[p] - r)} points above {whose} walk-away point "
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


def _u1(x: float) -> str:
    """A utility as every table and sentence of the brief prints it (one decimal)."""
    return f"{round(float(x), 1):.1f}"


def _delta(new: float, old: float) -> str:
    """A change as the difference of the printed utilities, so it always agrees with them."""
    return points(round(float(new), 1) - round(float(old), 1))


def _money_cells(
    scenario: Scenario, u: dict[str, float], ref_u: Any
) -> tuple[str, dict[str, str]] | None:
    """(money issue, party -> the change's money equivalent as text), or None."""
    from optimizer.engine.money import money_issue, money_texts

    issue = money_issue(scenario)
    if issue is None:
        return None
    names = scenario.party_names
    gains = {p: float(u[p]) - float(ref_u[j]) for j, p in enumerate(names)}
    texts = money_texts(scenario, gains)
    return (issue.name, texts) if texts is not None else None


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
    stand = doc.section("Where we stand")
    if choice.overrides:
        stand.paragraph(
            "Override: this proposal was prepared on our explicit decision although it breaks "
            "a guard:"
        ).bullets(choice.overrides)
    if choice.table is not None and choice.table.below:
        from optimizer.reports.guards import table_below_walkaway

        check = table_below_walkaway(scenario, solver=solver, time_limit=time_limit)
        head, *items = check.text.split("\n")
        stand.paragraph(head).bullets([i.strip().split(". ", 1)[-1] for i in items])
    text = summary.text
    if summary.below_walkaway:
        text = text.replace(summary.below_walkaway, "", 1).strip()
    stand.paragraph(text)
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
            "-" if ref_u is None else _u1(ref_u[names.index(p)]),
        ]
        row += [_u1(u[p]) for u in choice.utilities]
        rows.append(row)
    if ref_u is not None:
        money = [_money_cells(scenario, u, ref_u) for u in choice.utilities]
        for p in names:
            row = [f"change: {'us' if p == us else p}", "", ""]
            row += [_delta(u[p], ref_u[names.index(p)]) for u in choice.utilities]
            rows.append(row)
        if money[0] is not None:
            unit_issue = money[0][0]
            for p in names:
                row = [f"worth in {unit_issue}: {'us' if p == us else p}", "", ""]
                row += [m[1][p] for m in money if m is not None]
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
        if ref_u is not None:
            u = choice.utilities[labels.index(label)]
            total = ", ".join(
                f"{'us' if p == us else p} {_delta(u[p], ref_u[names.index(p)])}" for p in names
            )
            m = _money_cells(scenario, u, ref_u)
            if m is not None:
                total += (
                    f" (worth in {m[0]}: "
                    + ", ".join(f"{'us' if p == us else p} {m[1][p]}" for p in names)
                    + ")"
                )
        else:
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
                "-" if ref_u is None else _u1(ref_u[names.index(p)]),
                " / ".join(_u1(u[p]) for u in choice.utilities),
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
    doc: ProposalDocument,
    path: str | Path,
    fmt: str | None = None,
    *,
    force: bool = False,
) -> Path:
    """Render the document, then save it atomically (``save_bytes``): never a partial file,
    never a replaced one unless ``force``. A format that contradicts the file's extension
    (``docx`` into ``x.pdf``) is refused."""
    from optimizer.scenario.files import save_bytes

    p = Path(path)
    implied = format_from_path(p)
    fmt = fmt or implied or "md"
    if fmt not in FORMATS:
        raise DealoptError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if implied is not None and implied != fmt:
        raise DealoptError(
            f"{p}: the name says {implied} but the format asked for is {fmt}; "
            f"name the file .{fmt} or leave out --format"
        )
    if p.is_dir():
        raise DealoptError(f"{p}: is a directory; give a file name")
    if not force and os.path.lexists(p):  # fail fast, before rendering (the save checks again)
        raise OutputExistsError(f"{p} exists; pass --force to replace it")
    data = doc.render(fmt)
    return save_bytes(p, data, overwrite=force, exists_hint="pass --force to replace it")
