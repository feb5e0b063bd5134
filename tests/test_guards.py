"""Issue 10: proposals a negotiator can send.

Guards (below our walk-away, behind our own offer, retractions in the log) on built scenarios,
for the library, the CLI and the Proposals page; the leak test over every example, audience and
format; ``--package`` / ``--package-file``; money equivalents checked by hand; clean documents.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import docx
import pytest
from test_proposal import (
    DATE,
    EXAMPLES,
    _assert_counterpart_clean,
    _assert_terms,
    _flat,
    _without_terms,
    docx_text,
    pdf_text,
)

from optimizer import Scenario
from optimizer.cli.main import main
from optimizer.engine.money import is_currency_unit, money_equivalents, money_issue
from optimizer.errors import ProposalGuardError
from optimizer.reports.guards import check_package, table_below_walkaway
from optimizer.reports.negotiation_log import log_report, record_offer
from optimizer.reports.proposal import ProposalDocument, proposal_document
from optimizer.scenario.files import (
    load_scenario,
    save_scenario,
    scenario_from_data,
    scenario_to_data,
)
from optimizer.searches.improve import improve

ROOT = Path(__file__).resolve().parents[1]
SAAS = ROOT / "examples" / "saas_renewal.yaml"
JOB = ROOT / "examples" / "job_offer.yaml"

#: Internal wording that must never reach the counterpart.
INTERNAL_PHRASES = (
    "mountain",
    "it'd be a shame",
    "in good shape",
    "having trouble",
    "still have to work out",
    "our estimate",
    "left to gain",
    "utility",
    "utilities",
    "walk-away",
    "walk away",
    "reservation",
    "aspiration",
    "weight",
    "points",
    "confidential",
    "batna",
)
#: Words that rank our priorities.
PRIORITY_WORDS = (
    "matters a great deal",
    "matters most to us",
    "matter more to you",
    "matters more to you",
    "most important",
    "priority",
    "priorities",
    "crucial",
    "essential to us",
    "key for us",
    "we care most",
)


def _below(rv: float = 62.0) -> Scenario:
    """SaaS with our walk-away point above the table (39): no win-win package reaches it."""
    data = scenario_to_data(load_scenario(SAAS))
    data["parties"][0]["reservation_value"] = rv
    return scenario_from_data(data)


def _behind() -> Scenario:
    """SaaS where we already offered 45 USD/month (our utility 58.25 > the best win-win's 47)."""
    s = load_scenario(SAAS)
    return record_offer(s, by=s.us_name, package={"price per seat": 45}, date="2026-01-05")


# --------------------------------------------------------------------------------------------
# Guards: the library
# --------------------------------------------------------------------------------------------


def test_below_walkaway_is_refused_and_shows_the_way_out() -> None:
    s = _below()
    check = table_below_walkaway(s)
    assert check.below and check.ours == pytest.approx(39.0) and check.walkaway == 62.0
    assert check.packages, "packages that reach our walk-away are listed"
    names = s.party_names
    ref = s.utilities([s.reference()])[0]
    for pkg in check.packages:
        assert pkg.utilities[s.us_name] >= 62.0 - 1e-9
        assert pkg.gains["CloudDesk"] == pytest.approx(pkg.utilities["CloudDesk"] - ref[1])
    # The least costly for the other side first.
    costs = [p.gains["CloudDesk"] for p in check.packages]
    assert costs == sorted(costs, reverse=True)
    # Brute force: no package reaching our walk-away and theirs costs CloudDesk less.
    import itertools

    grids = [range(i.size) for i in s.issues]
    fixed = {j: i.index_of(i.value) for j, i in enumerate(s.issues) if i.status == "agreed"}
    best = -1e9
    from optimizer.engine.milp import compile_scenario

    checker = compile_scenario(s).checker
    for idx in itertools.product(*grids):
        if any(idx[j] != k for j, k in fixed.items()):
            continue
        arr = __import__("numpy").array(idx)
        u = s.utilities(arr[None, :])[0]
        if checker.violated(arr, u):
            continue
        best = max(best, u[1] - ref[1])
    assert costs[0] == pytest.approx(best)
    assert "what CloudDesk would have to accept" in check.text
    with pytest.raises(ProposalGuardError, match="below our walk-away point") as e:
        proposal_document(s, date=DATE)
    assert "Packages that reach our walk-away point" in str(e.value)
    assert {p.kind for p in e.value.problems} == {"below_walkaway"}
    # One of them can be proposed; the counterpart text then admits it asks them to move.
    doc = proposal_document(s, package=check.packages[0], date=DATE)
    assert "asks you to move on some terms" in doc.to_markdown()
    _assert_counterpart_clean(s, doc.to_markdown(), [check.packages[0].package])
    # An explicit override settles on the table; only the internal brief records it.
    brief = proposal_document(s, audience="internal", override=True, date=DATE).plain_text()
    assert "Override: this proposal was prepared on our explicit decision" in brief
    assert "below our walk-away point (62)" in brief
    counter = proposal_document(s, override=True, date=DATE).plain_text()
    assert "Override" not in counter and "walk-away" not in counter
    assert names == s.party_names


def test_behind_our_own_offer_is_refused() -> None:
    s = _behind()
    best = improve(s, top=1).packages[0]
    problems = check_package(s, best.package)
    assert [p.kind for p in problems] == ["behind_our_offer"]
    assert problems[0].round == 1 and problems[0].limit == pytest.approx(58.25)
    with pytest.raises(ProposalGuardError, match="less than our own offer of round 1"):
        proposal_document(s, date=DATE)
    # A package at least as good for us as our offer passes.
    ours = dict(s.reference(), **{"price per seat": 45})
    assert check_package(s, ours) == []
    doc = proposal_document(s, package=ours, audience="internal", date=DATE)
    assert "Override" not in doc.plain_text()


def test_log_warns_on_backward_offers_and_retractions() -> None:
    s = load_scenario(SAAS)
    us, them = s.us_name, "CloudDesk"
    s = record_offer(s, by=them, package={"price per seat": 58}, date="2026-01-02")
    s = record_offer(s, by=us, package={"price per seat": 45}, date="2026-01-03")
    s = record_offer(s, by=them, package={"price per seat": 60}, date="2026-01-04")
    s = record_offer(s, by=us, package={"price per seat": 44}, date="2026-01-05")
    report = log_report(s)
    text = " ".join(report.warnings)
    assert "Round 3: CloudDesk went backwards from its offer of round 1" in text
    assert "worse for us by 3.5 points" in text  # 2 USD/month x 1.75 points
    assert "Round 4: our offer goes backwards from our offer of round 2" in text
    assert "CloudDesk by 2 points" in text  # 1 USD/month x 2 points (their estimate)
    assert "Warning:" in report.text
    # Below our walk-away: an offer of ours worth less than 62 to us.
    low = record_offer(_below(), by=us, package={"price per seat": 60}, date="2026-01-02")
    assert any("below our walk-away point (62)" in w for w in log_report(low).warnings)
    # Concessions in the right direction raise no warning.
    fine = record_offer(load_scenario(SAAS), by=them, package={"price per seat": 60})
    fine = record_offer(fine, by=them, package={"price per seat": 58})
    assert log_report(fine).warnings == []


# --------------------------------------------------------------------------------------------
# Guards and choices: the command line
# --------------------------------------------------------------------------------------------


def test_cli_guards(tmp_path: Path, capsys) -> None:
    below = tmp_path / "below.yaml"
    save_scenario(_below(), below)
    assert main(["proposal", str(below)]) == 1
    err = capsys.readouterr().err
    assert "below our walk-away point" in err and "Packages that reach our walk-away" in err
    assert main(["improve", str(below)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("WARNING: The deal on the table is below our walk-away point")
    assert main(["improve", str(below), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["below_walkaway"]["walkaway"] == 62 and data["below_walkaway"]["packages"]
    assert main(["summary", str(below)]) == 0
    assert "below our walk-away point" in capsys.readouterr().out
    out_md = tmp_path / "brief.md"
    assert (
        main(["proposal", str(below), "--override", "--audience", "internal", "-o", str(out_md)])
        == 0
    )
    assert "Override" in out_md.read_text(encoding="utf-8")
    behind = tmp_path / "behind.yaml"
    save_scenario(_behind(), behind)
    capsys.readouterr()
    assert main(["proposal", str(behind)]) == 1
    assert "less than our own offer of round 1" in capsys.readouterr().err


def test_cli_package_rank_objective_and_file(tmp_path: Path, capsys) -> None:
    s = load_scenario(SAAS)
    for objective in ("maxmin", "welfare"):
        res = improve(s, objective=objective, top=2)
        capsys.readouterr()
        assert main(["proposal", str(SAAS), "--package", "2", "--objective", objective]) == 0
        md = capsys.readouterr().out
        for issue in s.issues:
            shown = issue.display(res.packages[1].package[issue.name])
            assert f"| {shown} |" in md
    pkg = dict(s.reference(), **{"payment terms": "net 60", "renewal price cap": "5%"})
    pkg["price per seat"] = 58
    path = tmp_path / "pkg.yaml"
    path.write_text("\n".join(f'"{k}": "{v}"' for k, v in pkg.items()), encoding="utf-8")
    assert main(["proposal", str(SAAS), "--package-file", str(path)]) == 0
    md = capsys.readouterr().out
    assert "| price per seat | changed in this package | 56 USD/month | 58 USD/month |" in md
    assert "| payment terms | changed in this package | net 30 | net 60 |" in md
    # A typed package that breaks a hard rule (premium support over our budget) is refused,
    # naming the rule; --override proposes it and the internal brief records the override.
    over = tmp_path / "over.yaml"
    pkg["support tier"] = "premium"
    over.write_text("\n".join(f'"{k}": "{v}"' for k, v in pkg.items()), encoding="utf-8")
    assert main(["proposal", str(SAAS), "--package-file", str(over)]) == 1
    assert "breaks our annual software budget of 180 kUSD" in capsys.readouterr().err
    assert main(["proposal", str(SAAS), "--package-file", str(over), "--override"]) == 0
    capsys.readouterr()
    bad = tmp_path / "bad.yaml"
    bad.write_text("price per seat: 58\nsupport tier: gold\n", encoding="utf-8")
    assert main(["proposal", str(SAAS), "--package-file", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "gold" in err
    assert main(["proposal", str(SAAS), "--package-file", str(tmp_path / "none.yaml")]) == 1
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["proposal", str(SAAS), "--package", "1", "--package-file", str(path)])


# --------------------------------------------------------------------------------------------
# The leak test: every example x audience x format
# --------------------------------------------------------------------------------------------


def _texts(doc: ProposalDocument) -> dict[str, str]:
    return {
        "md": doc.to_markdown(),
        "docx": docx_text(doc.to_docx()),
        "pdf": pdf_text(doc.to_pdf()),
    }


@pytest.mark.parametrize("example", [p.name for p in EXAMPLES])
def test_no_leak_in_any_counterpart_document(example: str) -> None:
    s = load_scenario(ROOT / "examples" / example)
    docs = {"package": proposal_document(s, date=DATE)}
    try:
        docs["meso"] = proposal_document(s, meso=2, date=DATE)
    except Exception:  # noqa: BLE001 - an example without equivalent offers has no MESO proposal
        pass
    for kind, doc in docs.items():
        assert doc.audience == "counterpart"
        for fmt, text in _texts(doc).items():
            where = f"{example} {kind} {fmt}"
            low = _without_terms(s, _flat(text)).lower()
            _assert_counterpart_clean(s, text, doc.packages)
            _assert_terms(s, text, doc.packages)
            for phrase in INTERNAL_PHRASES + PRIORITY_WORDS:
                assert phrase not in low, f"{where}: {phrase!r}"
            assert "one package" in low or "complete package" in low, where
            assert "which of these terms" not in low, where
    # The internal brief is the other audience: marked confidential, and it has the numbers
    # the counterpart document must not (so the check above can fail).
    brief = proposal_document(s, audience="internal", date=DATE)
    for fmt, text in _texts(brief).items():
        assert "Confidential" in text, fmt
        assert "Walk-away" in text or "walk-away" in text, fmt


def test_counterpart_status_matches_the_proposal() -> None:
    s = load_scenario(ROOT / "examples" / "leather_reorder.yaml")
    doc = proposal_document(s, date=DATE)
    md = doc.to_markdown()
    assert "| order volume | changed in this package | 6000 units | 8000 units |" in md
    assert "good shape" not in md
    assert "This proposal changes " in md


# --------------------------------------------------------------------------------------------
# Money equivalents, checked by hand
# --------------------------------------------------------------------------------------------


def test_money_equivalents_by_hand_saas() -> None:
    s = load_scenario(SAAS)
    assert money_issue(s).name == "price per seat"
    # Ours: weight 35 of 100, decreasing over 40..60 USD: 35 points / 20 USD = 1.75 per USD.
    # CloudDesk: weight 40 (likely) of 100, increasing: 40 / 20 = 2 points per USD.
    eq = money_equivalents(s, {"Northwind Ops": 8.0, "CloudDesk": 5.0})
    assert eq["Northwind Ops"].amount == pytest.approx(8 / 1.75, abs=1e-3)
    assert eq["CloudDesk"].amount == pytest.approx(2.5, abs=1e-3)
    assert not eq["Northwind Ops"].outside
    # Losses walk the other way; more than the range can give is flagged.
    eq = money_equivalents(s, {"Northwind Ops": -3.5, "CloudDesk": 50.0})
    assert eq["Northwind Ops"].amount == pytest.approx(-2.0, abs=1e-3)
    assert eq["CloudDesk"].outside and eq["CloudDesk"].amount == pytest.approx(4.0)  # 56 -> 60
    res = improve(s, top=1)
    pkg = res.packages[0]
    assert pkg.gains_money == {"Northwind Ops": 4.57, "CloudDesk": 2.5}
    assert res.money_issue == "price per seat" and res.money_unit == "USD/month"


def test_money_equivalents_by_hand_job_offer(capsys) -> None:
    s = load_scenario(JOB)
    assert money_issue(s).name == "salary"  # the most weighted of three USD issues
    # Priya at 98,000: value 45 + 35 * 3/15 = 52 (of 100), weight 40 of 100 -> 20.8 points.
    # A gain of 6.8 points needs 52 + 17 = 69 -> 95,000 + 24/35 * 15,000 = 105,285.71.
    eq = money_equivalents(s, {"Priya Natarajan": 6.8, "Lumen Analytics": 4.0})
    assert eq["Priya Natarajan"].amount == pytest.approx(105285.714 - 98000, abs=0.01)
    # Lumen at 98,000: value 100 - 20 * 18/30 = 88; 4 points = 10 value points -> 98 ->
    # 80,000 + 30,000 * (2/20) = 83,000: a cut of 15,000.
    assert eq["Lumen Analytics"].amount == pytest.approx(15000.0, abs=0.01)
    # 6.97 points would need value 105.4 > 100: outside the range (at most 18,000).
    eq = money_equivalents(s, {"Lumen Analytics": 6.97})
    assert eq["Lumen Analytics"].outside and eq["Lumen Analytics"].amount == pytest.approx(18000)
    assert main(["improve", str(JOB), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    first = data["packages"][0]
    assert set(first["gains_money"]) == set(first["gains"])
    assert first["gains_money_outside"] == ["Lumen Analytics"]
    assert main(["improve", str(JOB)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"gain in salary: Lumen Analytics\s+more than \+18000 USD/year", out)


def test_money_issue_rules() -> None:
    for unit, yes in (
        ("USD/month", True),
        ("kEUR", True),
        ("€/year", True),
        ("units", False),
        ("%", False),
        ("days", False),
        ("SEKTOR", False),
    ):
        assert is_currency_unit(unit) is yes, unit
    data = scenario_to_data(load_scenario(ROOT / "examples" / "leather_reorder.yaml"))
    assert money_issue(scenario_from_data(data)) is None
    data["money_issue"] = "order volume"
    assert money_issue(scenario_from_data(data)).name == "order volume"
    data["money_issue"] = "exclusivity"
    with pytest.raises(Exception, match="money issue must be numeric"):
        scenario_from_data(data)
    data["money_issue"] = "nothing"
    with pytest.raises(Exception, match="nothing"):
        scenario_from_data(data)


def test_brief_shows_money_and_agrees_with_its_tables() -> None:
    s = load_scenario(ROOT / "examples" / "leather_reorder.yaml")
    text = proposal_document(s, audience="internal", date=DATE).to_markdown()
    row = {
        m.group(1): (float(m.group(2)), float(m.group(3)))
        for m in re.finditer(r"\| utility: (.+?) \|\s+\| ([\d.]+) \| ([\d.]+) \|", text)
    }
    for party, (before, after) in row.items():
        change = round(after - before, 1)
        shown = f"{'+' if change > 0 else ''}{change:g}"
        assert f"| change: {party} |   |   | {shown} |" in text
        who = party
        assert f"{who} {shown}" in text  # the trade logic's total
    saas = proposal_document(load_scenario(SAAS), audience="internal", date=DATE).to_markdown()
    assert "| worth in price per seat: us |   |   | 4.57 USD/month |" in saas


# --------------------------------------------------------------------------------------------
# Clean documents
# --------------------------------------------------------------------------------------------


def test_docx_properties_and_no_preview_image() -> None:
    doc = proposal_document(load_scenario(SAAS), date=DATE)
    data = doc.to_docx()
    d = docx.Document(io.BytesIO(data))
    props = d.core_properties
    assert props.author == "Northwind Ops" and props.last_modified_by == "Northwind Ops"
    assert props.title == doc.title
    assert props.created.date() == DATE and props.modified.date() == DATE
    assert "python-docx" not in (props.comments + props.author + props.last_modified_by)
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert not any("thumbnail" in n.lower() for n in names), names
    today = proposal_document(load_scenario(SAAS))
    created = docx.Document(io.BytesIO(today.to_docx())).core_properties.created
    assert created.date() == dt.date.today()


def test_pdf_tables_never_split_words() -> None:
    s = load_scenario(ROOT / "examples" / "leather_reorder.yaml")
    for audience in ("counterpart", "internal"):
        doc = proposal_document(s, audience=audience, date=DATE)
        text = pdf_text(doc.to_pdf())
        words = set(
            w
            for sec in doc.sections
            for b in sec.blocks
            if b.table is not None
            for cell in [*b.table.header, *(c for r in b.table.rows for c in r)]
            for w in cell.split()
            if len(w) > 3 and w.isalpha()
        )
        tokens = set(re.findall(r"[A-Za-z]+", text))
        broken = {w for w in words if w not in tokens}
        assert not broken, f"{audience}: words split in the PDF: {sorted(broken)}"


def test_edited_markdown_round_trips() -> None:
    for path in EXAMPLES:
        s = load_scenario(path)
        for audience in ("counterpart", "internal"):
            doc = proposal_document(s, audience=audience, date=DATE)
            back = ProposalDocument.from_markdown(
                doc.to_markdown(),
                audience=doc.audience,
                packages=doc.packages,
                author=doc.author,
                date=doc.date,
            )
            assert back == doc, f"{path.name} {audience}"
    edited = ProposalDocument.from_markdown(
        "# My title\n\n*sub*\n\n## A\n\nline one\nline two\n\n- x \\| y\n- z\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 \\| 3 |\n"
    )
    assert edited.title == "My title" and edited.subtitle == "sub"
    blocks = edited.sections[0].blocks
    assert blocks[0].text == "line one line two"
    assert blocks[1].items == ["x | y", "z"]
    assert blocks[2].table.rows == [["1", "2 | 3"]]


# --------------------------------------------------------------------------------------------
# The Proposals page (AppTest)
# --------------------------------------------------------------------------------------------


def _app(scenario: Scenario):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=180)
    at.run()
    from ui import state

    at.session_state[state.DATA] = scenario_to_data(scenario)
    at.session_state["dealopt_scenario"] = scenario
    at.switch_page("screens/proposals.py").run()
    return at


def test_proposals_page_guards_below_walkaway() -> None:
    at = _app(_below())
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("below our walk-away point" in e for e in errors), errors
    assert not any(m.value.startswith("# Proposal:") for m in at.markdown)
    at.radio(key="proposals_mode").set_value("walkaway").run()
    assert not at.exception
    preview = next(m.value for m in at.markdown if m.value.startswith("# Proposal:"))
    assert "asks you to move on some terms" in preview
    check = table_below_walkaway(_below())
    first = check.packages[0].package
    assert at.session_state["proposals_mode"] == "walkaway"
    assert "premium" in preview and first["support tier"] == "premium"
    # Typing in the table itself: refused until overridden.
    at.radio(key="proposals_mode").set_value("typed").run()
    assert any("Not proposed:" in e.value for e in at.error)
    assert not any(m.value.startswith("# Proposal:") for m in at.markdown)
    at.checkbox(key="proposals_override").check().run()
    at.radio(key="proposals_audience").set_value("internal").run()
    preview = next(m.value for m in at.markdown if m.value.startswith("# Internal brief"))
    assert "Override" in preview


def test_proposals_page_behind_our_offer_and_editable_draft() -> None:
    at = _app(_behind())
    assert any("less than our own offer of round 1" in e.value for e in at.error)
    at = _app(load_scenario(SAAS))
    assert not at.exception and not at.error
    # The ranking of the Win-win page is the default; package 2 of "welfare" is proposed.
    at.selectbox(key="proposals_objective").set_value("welfare").run()
    at.number_input(key="proposals_rank").set_value(2).run()
    s = load_scenario(SAAS)
    res = improve(s, objective="welfare", top=2)
    preview = next(m.value for m in at.markdown if m.value.startswith("# Proposal:"))
    shown = s.issue("price per seat").display(res.packages[1].package["price per seat"])
    assert f"| {shown} |" in preview
    # Edit the draft: the preview and the downloads use the edited text.
    area = next(t for t in at.text_area if t.key.startswith("proposals_draft"))
    area.set_value(area.value.replace("## Next steps", "## Next steps\n\nCall me on Monday.")).run()
    assert not at.exception
    preview = next(m.value for m in at.markdown if m.value.startswith("# Proposal:"))
    assert "Call me on Monday." in preview
    # The map's clicked point is proposed.
    at.session_state["tradeoff_pick_a"] = 0
    at.radio(key="proposals_mode").set_value("map").run()
    assert not at.exception
    from optimizer.searches.frontier import frontier

    point = frontier(s).packages[0].package
    if not check_package(s, point):
        preview = next(m.value for m in at.markdown if m.value.startswith("# Proposal:"))
        assert f"| {s.issue('price per seat').display(point['price per seat'])} |" in preview
    else:
        assert any("Not proposed:" in e.value for e in at.error)
