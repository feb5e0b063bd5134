"""Scenario workbooks (.xlsx): loss-free round trip, located messages for hand-edited mistakes, the
blank template, and the ``export`` / ``import`` / ``template`` commands."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from optimizer.cli.main import main
from optimizer.errors import ScenarioFileError, ScenarioValidationError
from optimizer.scenario.files import dumps_scenario, load_scenario, loads_scenario
from optimizer.scenario.workbook import (
    ISSUES_SHEET,
    scenario_to_xlsx,
    template_xlsx,
    xlsx_to_scenario,
)
from tests.bruteforce import random_scenarios

EXAMPLES = sorted(p for p in Path("examples").iterdir() if p.suffix in (".yaml", ".yml", ".json"))

RICH = """
name: "=Everything a scenario holds"
description: |
  Two lines,
  kept.
us: Buyer
utility_scale: 10
money_issue: price
metadata:
  source: a test
  count: 3
  nested: {a: [1, 2], b: null, c: true}
parties:
  - name: Buyer
    description: us
    utility_scale: 2.5
    reservation_value: {low: 10, likely: 20, high: 30}
    aspiration: {package: {support: premium, price: 90, "rate": "0.6"}}
    preferences:
      weights: {price: {low: 1, likely: 2, high: 3}, support: 1.5, rate: 1}
      values:
        support: {premium: {low: 50, likely: 80, high: 100}, basic: 0}
        price: {shape: piecewise, points: [[80, 1], [100, 0.25], [120, 0]]}
        rate: {"0": 0, "0.6": 70, "1.2": 100}
      synergies:
        - {when: {support: premium, price: 100}, bonus: -2.5, description: a penalty}
    statements:
      - {prefers: {support: premium, price: 100}, over: {support: basic, price: 90}, note: said so}
      - {equal: [{rate: "0.6", price: 90}, {rate: "0", price: 85}]}
      - {issue: rate, order: ["1.2", "0.6", "0"]}
      - {issue: price, order: [80, 100, 120]}
      - {swing: price, times: 2.5, than: support, note: twice}
  - name: "Seller: [Acme]*"
    reservation_value: {package: {price: 100, support: basic, rate: "0"}}
    aspiration: 75
    preferences:
      weights: {support: 1, price: 3}
      values:
        price: {shape: peak, peak: 110}
        support: {basic: 100, premium: 0}
issues:
  - {name: support, options: [basic, premium], status: provisional, value: basic}
  - {name: price, min: 80, max: 120, step: 5, unit: EUR, status: open, value: 100}
  - {name: rate, description: buydown, options: ["0", "0.6", "1.2"]}
constraints:
  - {type: acceptable, issue: support, options: [basic, premium], party: Buyer, name: any}
  - {type: acceptable, issue: price, min: 85}
  - type: forbidden
    combination: {support: [premium], price: {min: 115}}
    description: too dear
  - type: implies
    when: {rate: "1.2"}
    then: {price: {max: 110}, support: basic}
  - type: budget
    costs: {support: {basic: 0, premium: 5}, price: {per_unit: 1, base: -80}, rate: {}}
    limit: 40
    unit: kEUR
history:
  - {date: 2025-01-06, by: Buyer, package: {price: 95, support: basic}, note: opening}
  - date: 2025-01-09
    by: "Seller: [Acme]*"
    package: {support: basic, price: 105}
    status_changes: {rate: agreed, support: provisional}
  - {date: 2025-01-10, by: Buyer}
"""


def roundtrip(scenario):
    back, notes = xlsx_to_scenario(scenario_to_xlsx(scenario), "t.xlsx")
    return back, notes


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_round_trips(path: Path) -> None:
    scenario = load_scenario(path)
    back, notes = roundtrip(scenario)
    assert notes == []
    assert back == scenario
    assert dumps_scenario(back) == dumps_scenario(scenario)
    assert dumps_scenario(back, "json") == dumps_scenario(scenario, "json")


def test_everything_a_scenario_holds_round_trips() -> None:
    scenario = loads_scenario(RICH)
    assert scenario.history[2].package == {}
    back, notes = roundtrip(scenario)
    assert notes == []
    assert dumps_scenario(back) == dumps_scenario(scenario)
    assert back == scenario


def workbook(scenario_text: str = RICH):
    return load_workbook(io.BytesIO(scenario_to_xlsx(loads_scenario(scenario_text))))


def save(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def problems(wb) -> list[str]:
    with pytest.raises(ScenarioValidationError) as e:
        xlsx_to_scenario(save(wb), "edited.xlsx")
    assert e.value.source == "edited.xlsx"
    return [str(p) for p in e.value.problems]


def col(ws, name: str, row: int = 1) -> int:
    for c in range(1, ws.max_column + 1):
        if ws.cell(row=row, column=c).value == name:
            return c
    raise AssertionError(name)


def test_layout_a_buyer_reads() -> None:
    wb = workbook()
    assert wb.sheetnames == [
        "Scenario",
        "Issues",
        "Buyer",
        "Seller_ _Acme__",
        "Constraints",
        "Negotiation log",
    ]
    issues = wb[ISSUES_SHEET]
    assert [c.value for c in issues[1]][:9] == [
        "issue",
        "description",
        "status",
        "value on the table",
        "min",
        "max",
        "step",
        "unit",
        "option 1",
    ]
    assert [c.value for c in issues[4]][:11] == [
        "rate",
        "buydown",
        "open",
        None,
        None,
        None,
        None,
        None,
        "0",
        "0.6",
        "1.2",
    ]
    assert issues.freeze_panes == "B2"
    assert wb["Seller_ _Acme__"]["B1"].value == "Seller: [Acme]*"
    assert wb["Scenario"]["B1"].value == "=Everything a scenario holds"
    assert wb["Scenario"]["B1"].data_type == "s"  # text, not a formula
    rules = {(dv.type, dv.formula1) for dv in issues.data_validations.dataValidation}
    assert ("list", '"open,provisional,agreed"') in rules
    assert (
        "list",
        "$I$2:$P$2",
    ) in rules  # the value on the table: a drop-down of the row's options
    assert any(t == "decimal" for t, _ in rules)
    buyer = {(dv.type, dv.formula1) for dv in wb["Buyer"].data_validations.dataValidation}
    assert ("list", '"increasing,decreasing,peak,piecewise"') in buyer
    assert ("list", "Issues!$A$2:$A$204") in buyer


def test_text_in_a_number_cell_is_located() -> None:
    wb = workbook()
    wb[ISSUES_SHEET].cell(row=3, column=col(wb[ISSUES_SHEET], "max")).value = "fifty"
    assert problems(wb) == [
        'sheet "Issues" row 3 column "max": must be a number, not text \'fifty\''
    ]


def test_a_number_typed_as_text_is_read_as_the_number() -> None:
    wb = workbook()
    wb[ISSUES_SHEET].cell(row=3, column=col(wb[ISSUES_SHEET], "max")).value = " 120 "
    back, _ = xlsx_to_scenario(save(wb))
    assert back.issues[1].max == 120


def test_unknown_option_is_located() -> None:
    wb = workbook()
    ws = wb[ISSUES_SHEET]
    ws.cell(row=2, column=col(ws, "value on the table")).value = "gold"
    assert problems(wb) == [
        'sheet "Issues" row 2 column "value on the table": \'gold\' is not one of the options '
        "of issue 'support' (basic, premium)"
    ]


def test_unknown_option_in_a_party_sheet_goes_through_scenario_validation() -> None:
    wb = workbook()
    ws = wb["Buyer"]
    for row in ws.iter_rows():
        if row[0].value == "support" and row[1].value == "basic":
            row[1].value = "gold"
    found = problems(wb)
    assert any('party "Buyer"' in p and "gold" in p for p in found), found


def test_missing_sheet_is_named() -> None:
    wb = workbook()
    del wb[ISSUES_SHEET]
    found = problems(wb)
    assert 'sheet "Issues": missing; the workbook needs it (see dealopt template)' in found


def test_merged_cells_are_located() -> None:
    wb = workbook()
    wb[ISSUES_SHEET].merge_cells("C2:C3")
    assert problems(wb) == [
        'sheet "Issues" rows 2-3 columns C: merged cells (C2:C3); unmerge them: every cell '
        "needs its own value"
    ]


def test_formula_without_a_saved_result_is_located() -> None:
    wb = workbook()
    ws = wb[ISSUES_SHEET]
    ws.cell(row=3, column=col(ws, "max")).value = "=100+20"
    assert problems(wb) == [
        'sheet "Issues" row 3 column "max": a formula (=100+20) whose result is not saved in the '
        "file; type the value instead (or open and save the workbook in Excel first)"
    ]


def test_empty_row_in_the_middle_is_skipped_with_a_located_note() -> None:
    wb = workbook()
    ws = wb[ISSUES_SHEET]
    ws.insert_rows(3)
    ws.data_validations.dataValidation = []  # the rules would point at the old rows
    back, notes = xlsx_to_scenario(save(wb))
    assert [str(n) for n in notes] == ['sheet "Issues" row 3: empty row skipped']
    assert back == loads_scenario(RICH)


def test_range_needs_all_three_and_many_problems_come_together() -> None:
    wb = workbook()
    ws = wb["Buyer"]
    for row in ws.iter_rows():
        if row[0].value == "walk-away point":
            row[1].value = None  # low gone, high still there
    wb["Constraints"]["B2"] = "maybe"
    found = problems(wb)
    assert any(p.startswith('sheet "Buyer" row 7: give a range as low, likely') for p in found)
    assert any(
        p.startswith('sheet "Constraints" row 2 column "type": is acceptable') for p in found
    )


def test_not_a_workbook() -> None:
    with pytest.raises(ScenarioFileError, match="not an Excel workbook"):
        xlsx_to_scenario(b"name: x\n", "x.xlsx")
    with pytest.raises(ScenarioFileError, match="not a readable Excel workbook"):
        xlsx_to_scenario(b"PK\x03\x04garbage", "x.xlsx")


def test_scenario_rules_run_after_the_cells_read() -> None:
    wb = workbook()
    ws = wb[ISSUES_SHEET]
    ws.cell(row=3, column=col(ws, "status")).value = "agreed"
    ws.cell(row=3, column=col(ws, "value on the table")).value = None
    found = problems(wb)
    assert any(p.startswith('issue "price"') for p in found), found


def test_blank_template_says_what_is_missing_and_imports_once_filled_in() -> None:
    raw = template_xlsx()
    wb = load_workbook(io.BytesIO(raw))
    assert wb.sheetnames[0] == "How to fill in"
    assert "Example party" in wb.sheetnames
    with pytest.raises(ScenarioValidationError):
        xlsx_to_scenario(raw)
    wb["Scenario"]["B1"] = "Office chairs"
    issues = wb[ISSUES_SHEET]
    issues.append(["price", None, "open", 200, 150, 250, 10, "EUR"])
    issues.append(
        ["delivery", None, "open", "4 weeks", None, None, None, None, "2 weeks", "4 weeks"]
    )
    for name, price_shape, fast in (("Us", "decreasing", 100), ("Them", "increasing", 0)):
        ws = wb[name]
        rows = {ws.cell(row=r, column=1).value: r for r in range(1, ws.max_row + 1)}
        w = rows["Weights"] + 2
        ws.cell(row=w, column=1).value = "price"
        ws.cell(row=w, column=3).value = 60
        ws.cell(row=w + 1, column=1).value = "delivery"
        ws.cell(row=w + 1, column=3).value = 40
        v = rows["Values"] + 2
        ws.cell(row=v, column=1).value = "price"
        ws.cell(row=v, column=6).value = price_shape
        ws.cell(row=v + 1, column=1).value = "delivery"
        ws.cell(row=v + 1, column=2).value = "2 weeks"
        ws.cell(row=v + 1, column=4).value = fast
        ws.cell(row=v + 2, column=1).value = "delivery"
        ws.cell(row=v + 2, column=2).value = "4 weeks"
        ws.cell(row=v + 2, column=4).value = 100 - fast
    scenario, notes = xlsx_to_scenario(save(wb))
    assert notes == []
    assert scenario.name == "Office chairs"
    assert [p.name for p in scenario.parties] == ["Us", "Them"]
    assert scenario.us == "Us"
    assert scenario.issues[0].grid().tolist() == list(range(150, 251, 10))
    assert scenario.parties[1].preferences.values["delivery"] == {"2 weeks": 0, "4 weeks": 100}


def test_a_hand_made_minimal_workbook_imports() -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Scenario"
    ws.append(["Name", "Tiny"])
    ws = wb.create_sheet("Issues")
    ws.append(
        [
            "issue",
            "description",
            "status",
            "value on the table",
            "min",
            "max",
            "step",
            "unit",
            "option 1",
            None,
        ]
    )
    ws.append(["colour", None, None, None, None, None, None, None, "red", "blue"])
    for name, red in (("A", 100), ("B", 0)):
        ws = wb.create_sheet(name)
        ws.append(["Party", name])
        ws.append([])
        ws.append(["Weights"])
        ws.append(["issue", "low", "likely", "high"])
        ws.append(["colour", None, 1])
        ws.append([])
        ws.append(["Values"])
        ws.append(
            [
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
        )
        ws.append(["colour", "red", None, red])
        ws.append(["colour", "blue", None, 100 - red])
    ws.append([])  # a trailing blank row is not "in the middle"
    scenario, notes = xlsx_to_scenario(save(wb))
    assert notes == []
    assert scenario.issues[0].options == ["red", "blue"]
    assert scenario.parties[0].reservation_value is None


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------


def test_export_import_commands_round_trip(tmp_path: Path, capsys) -> None:
    src = Path("examples/solar_bid.yaml")
    xlsx = tmp_path / "s.xlsx"
    out = tmp_path / "s.yaml"
    assert main(["export", str(src), "-o", str(xlsx)]) == 0
    assert main(["export", str(src), "-o", str(xlsx)]) == 1
    assert "exists; pass --force" in capsys.readouterr().err
    assert main(["export", str(src), "-o", str(xlsx), "--force"]) == 0
    assert main(["import", str(xlsx), "-o", str(out)]) == 0
    assert load_scenario(out) == load_scenario(src)
    assert dumps_scenario(load_scenario(out)) == dumps_scenario(load_scenario(src))


def test_import_command_reports_located_problems(tmp_path: Path, capsys) -> None:
    wb = workbook()
    wb[ISSUES_SHEET].cell(row=3, column=6).value = "fifty"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(save(wb))
    capsys.readouterr()
    assert main(["import", str(bad), "-o", str(tmp_path / "x.yaml")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert 'sheet "Issues" row 3 column "max": must be a number' in err
    assert not (tmp_path / "x.yaml").exists()


def test_template_command(tmp_path: Path, capsys) -> None:
    out = tmp_path / "new.xlsx"
    assert main(["template", "-o", str(out)]) == 0
    assert "How to fill in" in load_workbook(out).sheetnames
    assert main(["template", "-o", str(out)]) == 1


# --------------------------------------------------------------------------------------------
# Property: random scenarios with awkward names survive the round trip
# --------------------------------------------------------------------------------------------

AWKWARD = [
    "Weights",
    "Values",
    "Synergies",
    "issue",
    "Description",
    "=1+1",
    "2000",
    "0.6",
    "'quoted",
    "a, b",
    'say "yes"',
    "Zoë / Ünïcode: [x]*?",
    "x" * 40,
]
SAFE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12
).filter(lambda s: s.strip() == s)


def _rename(data, mapping: dict[str, str]):
    if isinstance(data, dict):
        return {mapping.get(k, k): _rename(v, mapping) for k, v in data.items()}
    if isinstance(data, list):
        return [_rename(v, mapping) for v in data]
    if isinstance(data, str):
        return mapping.get(data, data)
    return data


@st.composite
def awkward_scenarios(draw):
    from optimizer.scenario.files import scenario_from_data, scenario_to_data

    scenario = draw(random_scenarios(max_issues=4))
    data = scenario_to_data(scenario)
    old = [i.name for i in scenario.issues] + [p.name for p in scenario.parties]
    old += [o for i in scenario.issues for o in (i.options or [])]
    new = draw(
        st.lists(
            st.one_of(st.sampled_from(AWKWARD), SAFE_TEXT),
            min_size=len(old),
            max_size=len(old),
            unique=True,
        )
    )
    return scenario_from_data(_rename(data, dict(zip(old, new, strict=True))))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(awkward_scenarios())
def test_random_scenarios_with_awkward_names_round_trip(scenario) -> None:
    back, notes = roundtrip(scenario)
    assert notes == []
    assert dumps_scenario(back) == dumps_scenario(scenario)


def test_missing_openpyxl_is_reported_clearly(tmp_path: Path, capsys, monkeypatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "openpyxl" else real(name, *a)
    )
    assert main(["template", "-o", str(tmp_path / "t.xlsx")]) == 1
    assert "openpyxl is not installed; install it with: pip install" in capsys.readouterr().err
    assert main(["frontier", "examples/saas_renewal.yaml", "--xlsx", str(tmp_path / "f.xlsx")]) == 1
    assert "--xlsx needs openpyxl" in capsys.readouterr().err
    assert not (tmp_path / "t.xlsx").exists()


def test_scenario_commands_point_excel_files_to_import(tmp_path: Path, capsys) -> None:
    book = tmp_path / "deal.xlsx"
    book.write_bytes(scenario_to_xlsx(load_scenario("examples/job_offer.yaml")))
    assert main(["validate", str(book)]) == 1
    assert f"dealopt import {book} -o deal.yaml" in capsys.readouterr().err
