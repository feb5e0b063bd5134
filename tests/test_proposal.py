"""Proposal documents: complete terms, no preference numbers for the counterpart, readable files."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import docx
import pypdf
import pytest
from test_explain import THEM, US, deal, deal_data

import optimizer.reports.proposal as proposal
from optimizer import Scenario
from optimizer.cli.main import main
from optimizer.errors import DealoptError, ProposalGuardError
from optimizer.reports.proposal import latin1, proposal_document, write_proposal
from optimizer.scenario.models import Range, point
from optimizer.searches.improve import improve
from optimizer.searches.meso import equivalent_offers

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(
    p for p in (ROOT / "examples").iterdir() if p.suffix in (".yaml", ".yml", ".json")
)
DATE = dt.date(2026, 3, 14)
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def docx_text(data: bytes) -> str:
    d = docx.Document(io.BytesIO(data))
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def _flat(text: str) -> str:
    """Whitespace-insensitive text (PDF extraction breaks lines inside table cells)."""
    return re.sub(r"\s+", " ", text)


def preference_numbers(s: Scenario, packages: list[dict]) -> set[str]:
    """Every preference number of the scenario as it could be printed: weights, option scores
    that are not also term values, walk-away points, aspirations, utilities and gains."""
    out: set[str] = set()

    def add(x: float) -> None:
        for text in (f"{x:.1f}", f"{x:.2f}", f"{round(x, 1):g}"):
            if "." in text:
                out.add(text)

    for p in s.parties:
        total = sum(float(point(w)) for w in p.preferences.weights.values())
        for w in p.preferences.weights.values():
            for x in (w.low, w.likely, w.high) if isinstance(w, Range) else (w,):
                add(float(x))
            out.add(f"{100 * float(point(w)) / total:.0f}%")
        for level in (p.reservation_value, p.aspiration):
            if level is None:
                continue
            if hasattr(level, "package"):  # a walk-away point given as a package
                add(s.utility(p.name, level.package))
                continue
            for x in (
                (level.low, level.likely, level.high) if isinstance(level, Range) else (level,)
            ):
                add(float(x))
    ref = s.utilities([s.reference()])[0] if s.reference() is not None else None
    for pkg in packages:
        u = s.utilities([pkg])[0]
        for x in [*u, *([] if ref is None else [*ref, *(u - ref)])]:
            add(float(x))
    return out


def allowed_numbers(s: Scenario, date: dt.date) -> set[str]:
    """Numbers a counterpart document may show: in terms (option names, grid values) and the date."""
    out = set(NUMBER.findall(s.name)) | {str(date.year), f"{date.month:02d}", f"{date.day:02d}"}
    for issue in s.issues:
        for k in range(issue.size):
            out |= set(NUMBER.findall(issue.display(issue.value_at(k))))
            out |= set(NUMBER.findall(issue.name))
    return out | {"2", "3", "4"}  # "3 packages to choose from"


def _without_terms(s: Scenario, flat: str) -> str:
    """The text with every term (an option or value as displayed) blanked out, so that a weight
    printed as "5%" is told apart from an option named "5% allowance"."""
    terms = {s.issue(i.name).display(i.value_at(k)) for i in s.issues for k in range(i.size)}
    for t in sorted(terms, key=len, reverse=True):
        if len(t) > 1:
            flat = flat.replace(t, " ")
    return flat


def _assert_counterpart_clean(s: Scenario, text: str, packages: list[dict]) -> None:
    flat = _flat(text)
    bare = _without_terms(s, flat)
    for number in preference_numbers(s, packages):
        assert number not in bare, f"the counterpart document shows {number}"
    stray = set(NUMBER.findall(flat)) - allowed_numbers(s, DATE)
    assert not stray, f"numbers that are not terms: {sorted(stray)}"
    for word in ("utility", "walk-away", "weight", "reservation"):
        assert word not in bare.lower()


def _assert_terms(s: Scenario, text: str, packages: list[dict]) -> None:
    flat = _flat(text)
    for issue in s.issues:
        assert issue.name in flat
        for pkg in packages:
            assert issue.display(pkg[issue.name]) in flat


# --------------------------------------------------------------------------------------------
# Content
# --------------------------------------------------------------------------------------------


def test_counterpart_has_every_term_and_none_of_our_numbers() -> None:
    s = deal()
    best = improve(s, top=1).packages[0]
    doc = proposal_document(s, date=DATE)
    assert doc.packages == [best.package]
    md = doc.to_markdown()
    _assert_terms(s, doc.plain_text(), [best.package])
    _assert_counterpart_clean(s, md, [best.package])
    _assert_counterpart_clean(s, doc.plain_text(), [best.package])
    assert md.startswith("# Proposal: Test deal\n")
    for heading in (
        "Where we stand",
        "What we have agreed so far",
        "Our proposal",
        "What each term does for you",
        "What stays provisional",
        "Next steps",
    ):
        assert f"## {heading}" in md
    assert "We have agreed on warranty." in md
    assert "| Issue | Status | Currently | Proposed |" in md
    # Each term by what it does for them, the exchange, the package condition, "why" questions.
    assert "Delivery: 8 weeks. This is a move in your direction" in md
    assert "In return for the move in your direction on delivery, we ask for payment net 90" in md
    assert proposal.PACKAGE_CONDITION in md
    assert "why" in md
    assert "| delivery | changed in this package | 2 weeks | 8 weeks |" in md
    # Training is provisional and the package moves it: we say we suggest revisiting it.
    assert "Training: we suggest revisiting it" in md


def test_internal_brief_has_the_numbers() -> None:
    s = deal()
    doc = proposal_document(s, audience="internal", date=DATE)
    text = _flat(doc.plain_text())
    best = improve(s, top=1).packages[0]
    assert "Internal brief: Test deal" in text and "Confidential" in text
    assert "27.3" in text  # our walk-away
    assert "83.9" in text  # our aspiration
    assert "22.4 / 29.7 / 36.2" in text  # their walk-away as a range
    assert "31.1 / 38.6 / 44.8" in text  # their price weight as a range
    assert f"{best.utilities[US]:.1f}" in text and f"{best.utilities[THEM]:.1f}" in text
    for heading in ("Trade logic", "Issue by issue", "Risks", "Questions to ask"):
        assert heading in text
    assert "Ask Seller Inc why they hold firm on price" in text
    _assert_terms(s, doc.plain_text(), [best.package])


def test_meso_counterpart_lists_every_option() -> None:
    s = deal()
    offers = equivalent_offers(s, 3, tolerance=8.0)
    doc = proposal_document(s, meso=3, tolerance=8.0, date=DATE)
    packages = [p.package for p in offers.packages]
    assert doc.packages == packages and len(packages) == 3
    md = doc.to_markdown()
    assert "## 3 packages to choose from" in md
    assert "| Option A | Option B | Option C |" in md
    _assert_terms(s, doc.plain_text(), packages)
    _assert_counterpart_clean(s, md, packages)
    assert "Which option" not in md  # that question is for the internal brief
    internal = proposal_document(s, meso=3, tolerance=8.0, audience="internal", date=DATE)
    assert "Which option do they prefer, and why?" in internal.plain_text()


def test_chosen_package_and_errors() -> None:
    s = deal()
    res = improve(s, top=3)
    doc = proposal_document(s, package=3, date=DATE)
    assert doc.packages == [res.packages[2].package]
    pkg = dict(s.reference(), delivery="8 weeks")  # a unilateral concession, below walk-away
    with pytest.raises(ProposalGuardError, match="below our walk-away point"):
        proposal_document(s, package=pkg, audience="internal", date=DATE)
    doc = proposal_document(s, package=pkg, audience="internal", date=DATE, override=True)
    assert "Unilateral concession" in doc.plain_text()
    assert "Override: this proposal was prepared on our explicit decision" in doc.plain_text()
    with pytest.raises(DealoptError, match="starts at 1"):
        proposal_document(s, package=0)
    with pytest.raises(DealoptError, match="audience"):
        proposal_document(s, audience="press")
    data = deal_data()
    for issue in data["issues"]:
        issue["status"] = "agreed"
    settled = Scenario.from_dict(data)
    doc = proposal_document(settled, date=DATE)  # nothing to improve: settle on the table
    assert doc.packages == [settled.reference()]
    assert "propose to settle on the terms currently on the table, as one package" in (
        doc.to_markdown()
    )
    with pytest.raises(DealoptError, match="no equivalent offers"):
        proposal_document(settled, meso=3)


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("audience", ["counterpart", "internal"])
def test_docx_and_pdf_read_back(audience: str, tmp_path: Path) -> None:
    s = deal()
    doc = proposal_document(s, audience=audience, date=DATE)
    pkg = doc.packages[0]
    for fmt, read in (("docx", docx_text), ("pdf", pdf_text)):
        path = write_proposal(doc, tmp_path / f"p.{fmt}")
        text = read(path.read_bytes())
        assert doc.title in _flat(text)
        _assert_terms(s, text, [pkg])
        for section in doc.sections:
            assert section.heading in text
        if audience == "counterpart":
            _assert_counterpart_clean(s, text, [pkg])
        else:
            assert "27.3" in text
    d = docx.Document(str(tmp_path / "p.docx"))
    assert d.core_properties.title == doc.title
    assert d.tables and d.tables[0].rows[0].cells[0].text == "Issue"


def test_write_refuses_to_overwrite(tmp_path: Path) -> None:
    doc = proposal_document(deal(), date=DATE)
    path = tmp_path / "p.md"
    write_proposal(doc, path)
    first = path.read_text(encoding="utf-8")
    with pytest.raises(DealoptError, match="exists"):
        write_proposal(doc, path)
    path.write_text("old", encoding="utf-8")
    write_proposal(doc, path, force=True)
    assert path.read_text(encoding="utf-8") == first
    with pytest.raises(DealoptError, match="unknown format"):
        write_proposal(doc, tmp_path / "p.txt", "txt")


def _unicode_scenario() -> Scenario:
    data = deal_data()
    data["name"] = "Liefervertrag — Müller & Søn / 東京"
    data["us"] = "Ünsere GmbH"
    data["parties"][0]["name"] = "Ünsere GmbH"
    data["parties"][1]["name"] = "Søn → 東京 Ltd"
    data["issues"][1]["options"] = ["2 Wochen", "4 Wochen", "8 Wochen “fix”"]
    data["issues"][1]["value"] = "2 Wochen"
    for p in data["parties"]:
        d = p["preferences"]["values"]["delivery"]
        p["preferences"]["values"]["delivery"] = dict(
            zip(data["issues"][1]["options"], d.values(), strict=True)
        )
    return Scenario.from_dict(data)


@pytest.mark.parametrize("font", ["installed", "none"])
def test_unicode_names_never_crash_the_pdf(font: str, monkeypatch) -> None:
    s = _unicode_scenario()
    if font == "none":
        monkeypatch.setattr(proposal, "find_unicode_font", lambda: None)
    elif proposal.find_unicode_font() is None:
        pytest.skip("no Unicode TrueType font on this machine")
    doc = proposal_document(s, date=DATE)
    text = pdf_text(doc.to_pdf())
    assert "Proposal" in text
    if font == "installed":
        text = text.replace("\x00", "")  # pypdf reads fpdf2's CJK fallback glyphs as "\x00X"
        assert "Müller & Søn" in text
        fallback = dict(proposal.find_fallback_fonts())
        cjk = any("CJK" in f or "wqy" in f for f in fallback)
        assert ("Søn → 東京 Ltd" if cjk else "Søn → ?? Ltd") in text
        assert "“fix”" in text
    else:
        assert "Müller & Søn" in text  # Latin-1 survives the core font
        assert '8 Wochen "fix"' in _flat(text)
    assert "Ünsere GmbH" in docx_text(doc.to_docx())
    assert "東京" in doc.to_markdown()


def test_latin1_transliteration() -> None:
    assert latin1("Müller — “fix” → ok…") == 'Müller - "fix" -> ok...'
    assert latin1("Łódź") == "Lódz"
    assert latin1("東京") == "??"


# --------------------------------------------------------------------------------------------
# The command line on every example
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", [p.name for p in EXAMPLES])
def test_cli_summary_and_proposal_on_every_example(example: str, tmp_path: Path, capsys) -> None:
    path = str(ROOT / "examples" / example)
    assert main(["summary", path]) == 0
    out = capsys.readouterr().out.strip()
    assert re.match(r"^We have (agreed on .+|not agreed on anything yet)\. ", out), out
    assert "left to gain" in out
    s = Scenario.load(path)
    for fmt in ("md", "docx", "pdf"):
        dst = tmp_path / f"proposal.{fmt}"
        assert main(["proposal", path, "--format", fmt, "-o", str(dst)]) == 0
        assert dst.stat().st_size > 0
    md = (tmp_path / "proposal.md").read_text(encoding="utf-8")
    assert "## Our proposal" in md and "## Next steps" in md
    for issue in s.issues:
        assert issue.name.replace("_", "\\_") in md or issue.name in md
    assert "Next steps" in pdf_text((tmp_path / "proposal.pdf").read_bytes())
    assert "Next steps" in docx_text((tmp_path / "proposal.docx").read_bytes())
    capsys.readouterr()
    assert main(["proposal", path, "-o", str(tmp_path / "proposal.md")]) == 1
    assert "exists" in capsys.readouterr().err
    assert main(["proposal", path, "--audience", "internal", "--meso", "2"]) == 0
    assert "# Internal brief" in capsys.readouterr().out


def test_cli_proposal_argument_errors(tmp_path: Path, capsys) -> None:
    path = str(ROOT / "examples" / "saas_renewal.yaml")
    for argv in (
        ["proposal", path, "--format", "pdf"],
        ["proposal", path, "-o", str(tmp_path / "x.txt")],
        ["proposal", path, "--package", "1", "--meso", "2"],
        ["proposal", path, "--package", "0"],
    ):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2, argv
    capsys.readouterr()
    assert main(["proposal", path, "--package", "50"]) == 1
    assert "choose a number up to" in capsys.readouterr().err
    assert main(["summary", str(tmp_path / "missing.yaml")]) == 1


# --------------------------------------------------------------------------------------------
# The Proposals page
# --------------------------------------------------------------------------------------------


def test_proposals_page_previews_downloads_and_records() -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("screens/proposals.py").run()
    assert not at.exception and not at.error
    s = at.session_state["dealopt_scenario"]
    preview = next(m.value for m in at.markdown if m.value.startswith("# Proposal:"))
    expected = proposal_document(s, date=dt.date.today())
    assert preview.strip() == expected.to_markdown().strip()
    labels = [b.label for b in at.get("download_button")]
    assert [x for x in labels if "Markdown" in x or "Word" in x or "PDF" in x] == [
        "Download Markdown",
        "Download Word (.docx)",
        "Download PDF",
    ]

    at.radio(key="proposals_mode").set_value("meso").run()
    at.radio(key="proposals_audience").set_value("internal").run()
    assert not at.exception and not at.error
    preview = next(m.value for m in at.markdown if m.value.startswith("# Internal brief"))
    assert "Option A" in preview and "Option B" in preview

    # Record an offer through the form: it lands in the scenario's history (and its statuses).
    rev = at.session_state["dealopt_rev"]

    def key(*parts: str) -> str:
        return f"w{rev}:" + ":".join(parts)

    at.selectbox(key=key("log_by")).set_value(s.party_names[1])
    at.selectbox(key=key("log_term", "price per seat")).set_value(58.0)
    at.selectbox(key=key("log_status", "term")).set_value("agreed")
    at.text_input(key=key("log_note")).set_value("their counter")
    at.get("form_submit_button")[0].click().run()
    assert not at.exception and not at.error
    after = at.session_state["dealopt_scenario"]
    assert len(after.history) == len(s.history) + 1
    offer = after.history[-1]
    assert offer.by == s.party_names[1] and offer.package == {"price per seat": 58}
    assert offer.status_changes == {"term": "agreed"} and offer.note == "their counter"
    assert after.issue("term").status == "agreed"
    assert any("1 offer recorded" in m.value for m in at.markdown)
