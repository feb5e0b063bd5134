"""Results out: win-win packages, frontier points and the progress summary as CSV and .xlsx, from
the command line; the sheets open with openpyxl and carry the JSON output's numbers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from optimizer.cli.main import main
from optimizer.reports.tables import HIGHLIGHT, REFERENCE_LABEL, REOPENED

SAAS = "examples/saas_renewal.yaml"


def run_json(capsys, argv: list[str]) -> dict:
    capsys.readouterr()
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)


def check_rows(rows: list[list], result: dict, issues: list[str], frontier: bool) -> None:
    """Every sheet row is the JSON package: terms, utilities, gains, P(win-win)."""
    header, body = rows[0], rows[1:]
    parties = result["parties"]
    assert header[: 1 + len(issues)] == ["package", *issues]
    assert body[0][0] == REFERENCE_LABEL
    assert [body[0][1 + k] for k in range(len(issues))] == [result["reference"][i] for i in issues]
    assert len(body) == 1 + len(result["packages"])
    for n, (row, pkg) in enumerate(zip(body[1:], result["packages"], strict=True), 1):
        cells = dict(zip(header, row, strict=True))
        assert cells["package"] == n
        assert {i: cells[i] for i in issues} == pkg["package"]
        for p in parties:
            assert cells[f"utility {p}"] == pytest.approx(pkg["utilities"][p], abs=1e-9)
            assert cells[f"gain {p}"] == pytest.approx(pkg["gains"][p], abs=1e-9)
        if "P(win-win)" in header:
            assert cells["P(win-win)"] == pytest.approx(pkg["p_win_win"])
        if frontier:
            assert (cells["concepts"] or "") == ", ".join(pkg["concepts"])
        moved = [c["issue"] for c in pkg["changes"] if c["change"] == "changed"]
        assert all(m in (cells["changes"] or "") for m in moved)


def issues_of(path: str) -> list[str]:
    from optimizer.scenario.files import load_scenario

    return [i.name for i in load_scenario(path).issues]


def test_improve_xlsx_and_csv_match_the_json(tmp_path: Path, capsys) -> None:
    xlsx, csv_path = tmp_path / "w.xlsx", tmp_path / "w.csv"
    argv = ["improve", SAAS, "--top", "3", "--json"]
    result = run_json(capsys, [*argv, "--xlsx", str(xlsx), "--csv", str(csv_path)])
    assert result == run_json(capsys, argv)  # the files change nothing in the JSON
    assert any("p_win_win" in p for p in result["packages"])
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["Win-win packages", "About"]
    ws = wb["Win-win packages"]
    assert ws.freeze_panes == "B2"
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    issues = issues_of(SAAS)
    check_rows(rows, result, issues, frontier=False)
    # changed terms are highlighted, and only they
    for r, pkg in enumerate(result["packages"], 3):
        for c in pkg["changes"]:
            cell = ws.cell(row=r, column=2 + issues.index(c["issue"]))
            lit = cell.fill.fgColor.rgb.endswith(HIGHLIGHT)
            assert lit == (c["change"] == "changed"), (r, c)
    with csv_path.open(newline="") as fh:
        text_rows = list(csv.reader(fh))
    assert text_rows[0] == rows[0]
    for got, want in zip(text_rows[1:], rows[1:], strict=True):
        assert got == ["" if v is None else str(v) for v in want]


def test_frontier_sheet_matches_the_json(tmp_path: Path, capsys) -> None:
    xlsx = tmp_path / "f.xlsx"
    result = run_json(capsys, ["frontier", SAAS, "--json", "--xlsx", str(xlsx)])
    rows = [list(r) for r in load_workbook(xlsx)["Pareto frontier"].iter_rows(values_only=True)]
    check_rows(rows, result, issues_of(SAAS), frontier=True)
    about = dict(load_workbook(xlsx)["About"].iter_rows(values_only=True))
    assert about["Exact"] == ("yes" if result["exact"] else "no")


def test_summary_exports(tmp_path: Path, capsys) -> None:
    out = tmp_path / "s.xlsx"
    assert main(["summary", "examples/solar_bid.yaml", "--xlsx", str(out)]) == 0
    ws = load_workbook(out)["Progress summary"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("issue", "status", "where it stands", "on the table", "best package", "why")
    by_issue = {r[0]: r for r in rows[1:]}
    assert by_issue["contract term"][2] == "agreed"
    assert by_issue["community benefit fund"][2] == "trouble"
    assert by_issue["maintenance"][4] == "shared"  # the best package reopens it
    assert ws.cell(row=5, column=5).fill.fgColor.rgb.endswith(REOPENED)


def test_never_overwrites_without_force_and_checks_names(tmp_path: Path, capsys) -> None:
    out = tmp_path / "w.csv"
    out.write_text("mine")
    assert main(["improve", SAAS, "--csv", str(out)]) == 1
    assert "exists; pass --force" in capsys.readouterr().err
    assert out.read_text() == "mine"
    assert main(["improve", SAAS, "--csv", str(out), "--force"]) == 0
    assert out.read_text().startswith("package,")
    with pytest.raises(SystemExit) as e:
        main(["frontier", SAAS, "--xlsx", str(tmp_path / "f.csv")])
    assert e.value.code == 2
    assert main(["frontier", SAAS, "--csv", str(tmp_path / "no" / "f.csv")]) == 1
    assert "does not exist" in capsys.readouterr().err
