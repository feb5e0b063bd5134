"""``dealopt improve``: JSON contract, table output, bad arguments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
SAAS = str(ROOT / "examples" / "saas_renewal.yaml")

NAMES_YAML = """
name: names
parties:
  - name: A
    preferences:
      weights: {budget: 1, days: 1}
      values:
        budget: {"1000": 0, "2000": 10}
        days: {shape: increasing}
  - name: B
    preferences:
      weights: {budget: 1, days: 3}
      values:
        budget: {"1000": 10, "2000": 6}
        days: {shape: decreasing}
issues:
  - name: budget
    options: [1000, 2000]
    value: 1000
  - name: days
    min: 0
    max: 10
    step: 1
    unit: days
    value: 5
"""


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_shape(capsys) -> None:
    code, out, _ = _run(capsys, "improve", SAAS, "--top", "2", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["parties"] == ["Northwind Ops", "CloudDesk"]
    assert d["exact"] is True and d["status"] == "optimal" and d["solver"] == "highs"
    assert len(d["packages"]) == 2
    p = d["packages"][0]
    assert set(p["package"]) == {
        "price per seat",
        "seats",
        "term",
        "SLA",
        "support tier",
        "payment terms",
        "renewal price cap",
    }
    assert set(p["utilities"]) == {"Northwind Ops", "CloudDesk"}
    assert isinstance(p["package"]["seats"], int) and p["package"]["seats"] == 250
    assert '"seats": 250,' in out and "250.0" not in out
    assert p["package"]["SLA"] == "99.9%"
    assert {c["change"] for c in p["changes"]} <= {"kept", "changed", "reopened", "set"}
    assert d["packages"][0]["objective"] >= d["packages"][1]["objective"]


def test_option_names_stay_strings(capsys, tmp_path: Path) -> None:
    f = tmp_path / "names.yaml"
    f.write_text(NAMES_YAML, encoding="utf-8")
    code, out, _ = _run(capsys, "improve", str(f), "--json", "--top", "3", "--objective", "welfare")
    assert code == 0
    d = json.loads(out)
    for p in d["packages"]:
        assert isinstance(p["package"]["budget"], str) and p["package"]["budget"] in (
            "1000",
            "2000",
        )
        assert isinstance(p["package"]["days"], int)
    assert d["reference"] == {"budget": "1000", "days": 5}


def test_table_output(capsys) -> None:
    code, out, _ = _run(capsys, "improve", SAAS, "--top", "3", "--solver", "cbc")
    assert code == 0
    lines = out.splitlines()
    assert "ranked by largest smallest gain" in lines[0]
    assert lines[1].startswith("exact; solver cbc")
    header = next(x for x in lines if x.startswith("issue"))
    assert header.split() == ["issue", "status", "on", "the", "table", "#1", "#2", "#3"]
    price = next(x for x in lines if x.startswith("price per seat"))
    assert "56 USD/month" in price and "60 USD/month *" in price
    assert any(x.startswith("utility CloudDesk") and "(+5)" in x for x in lines)


def test_no_package_exits_1_with_reason(capsys, tmp_path: Path) -> None:
    data = Path(SAAS).read_text(encoding="utf-8")
    f = tmp_path / "tight.yaml"
    f.write_text(data.replace("limit: 180", "limit: 120"), encoding="utf-8")
    code, out, _ = _run(capsys, "improve", str(f))
    assert code == 1
    assert (
        "minimum price per seat of 44 USD/month and our annual software budget of 120 kUSD" in out
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--top", "0"], "--top: must be from 1 to 100"),
        (["--top", "two"], "--top: expected a whole number"),
        (["--min-diff", "0"], "--min-diff: must be at least 1"),
        (["--objective", "best"], "invalid choice: 'best'"),
        (["--solver", "gurobi"], "invalid choice: 'gurobi'"),
        (["--robust", "0"], "ALPHA must be in (0, 1]"),
        (["--robust", "1.5"], "ALPHA must be in (0, 1]"),
        (["--time-limit", "-3"], "positive number of seconds"),
        (["--meso", "2", "--robust", "0.5"], "either --meso or --robust"),
    ],
)
def test_bad_arguments_exit_2(capsys, args: list[str], message: str) -> None:
    try:
        code = main(["improve", SAAS, *args])
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_missing_file_exits_1(capsys, tmp_path: Path) -> None:
    code, _, err = _run(capsys, "improve", str(tmp_path / "nope.yaml"))
    assert code == 1 and "nope.yaml" in err and "Traceback" not in err


def test_process_json_is_clean_and_lean() -> None:
    """A real process: stdout is pure JSON (no solver banner); the CLI imports no UI stack."""
    code = (
        f"import sys; sys.argv = ['dealopt', 'improve', {SAAS!r}, '--json'];"
        "import optimizer.cli.main as c; rc = c.main(sys.argv[1:]);"
        "bad = [m for m in ('streamlit', 'plotly', 'matplotlib') if m in sys.modules];"
        "sys.stderr.write('BAD:' + ','.join(bad)); sys.exit(rc)"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["exact"] is True
    assert p.stderr.strip().endswith("BAD:")


def test_ranges_get_win_win_probabilities(capsys) -> None:
    code, out, _ = _run(capsys, "improve", SAAS, "--top", "2", "--samples", "500")
    assert code == 0
    row = next(x for x in out.splitlines() if x.startswith("P(win-win)"))
    assert row.count("%") == 2
    code, out, _ = _run(capsys, "improve", SAAS, "--json", "--samples", "500", "--seed", "3")
    p = json.loads(out)["packages"][0]
    assert 0.0 <= p["p_win_win"] <= 1.0 and set(p["acceptance"]) == {"Northwind Ops", "CloudDesk"}


@pytest.mark.parametrize(
    "extra, objective",
    [(["--meso", "2"], "meso"), (["--robust", "0.8", "--samples", "50"], "robust")],
)
def test_meso_and_robust_modes(capsys, extra: list[str], objective: str) -> None:
    code, out, _ = _run(capsys, "improve", SAAS, "--json", *extra)
    assert code == 0
    d = json.loads(out)
    assert d["objective"] == objective and d["packages"]
