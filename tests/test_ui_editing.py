"""The Scenario page's pure data edits (ui/editing.py) and the result tables (ui/views.py)."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import Scenario
from optimizer.scenario.files import read_data, scenario_from_data

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `ui` is an app folder, not an installed package
    sys.path.insert(0, str(ROOT))

from ui import editing as ed  # noqa: E402
from ui import views  # noqa: E402

SAAS = ROOT / "examples" / "saas_renewal.yaml"


def _data() -> dict:
    return read_data(SAAS)


def test_rename_issue_everywhere_and_back() -> None:
    data = _data()
    original = copy.deepcopy(data)
    ed.rename_issue(data, "price per seat", "unit price")
    s = scenario_from_data(data)  # still valid: every reference followed the rename
    assert "unit price" in s.issue_names
    assert s.constraints[0].issue == "unit price"
    assert "unit price" in s.constraints[2].costs
    ed.rename_issue(data, "unit price", "price per seat")
    assert data == original
    assert list(data["parties"][0]["preferences"]["weights"]) == list(
        original["parties"][0]["preferences"]["weights"]
    )


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=12).filter(lambda t: t.strip() == t and t))
def test_rename_issue_round_trip_property(new: str) -> None:
    data = _data()
    if new in [i["name"] for i in data["issues"]]:
        return
    original = copy.deepcopy(data)
    ed.rename_issue(data, "term", new)
    assert scenario_from_data(data).issue(new).value == "3 years"
    ed.rename_issue(data, new, "term")
    assert data == original


def test_renamed_options_keep_their_scores_and_value() -> None:
    data = _data()
    j = [i["name"] for i in data["issues"]].index("term")
    ed.set_options(data, j, ["12 months", "24 months", "36 months"])
    s = scenario_from_data(data)
    assert s.issue("term").value == "36 months"
    assert s.party("Northwind Ops").preferences.values["term"] == {
        "12 months": 40,
        "24 months": 100,
        "36 months": 70,
    }
    assert s.constraints[1].combination["term"] == "12 months"  # the constraint followed
    # A different number of options keeps the scores of names that remain.
    ed.set_options(data, j, ["12 months", "36 months"])
    assert data["parties"][0]["preferences"]["values"]["term"]["36 months"] == 70


def test_kind_switch_add_and_remove() -> None:
    data = _data()
    name = ed.add_issue(data, "numeric")
    s = scenario_from_data(data)
    assert s.issue(name).kind == "numeric"
    assert all(name in p.preferences.weights for p in s.parties)
    j = len(data["issues"]) - 1
    ed.set_kind(data, j, "categorical")
    assert scenario_from_data(data).issue(name).options == ["Option A", "Option B"]
    ed.remove_issue(data, j)
    assert scenario_from_data(data) == Scenario.load(SAAS)
    pname = ed.add_party(data)
    s = scenario_from_data(data)
    assert pname in s.party_names and len(s.parties) == 3
    ed.rename_party(data, pname, "Reseller")
    ed.remove_party(data, 2)
    assert scenario_from_data(data) == Scenario.load(SAAS)


def test_estimates_keep_their_range() -> None:
    assert ed.est_point([30, 40, 50]) == 40
    assert ed.est_range([30, 40, 50]) == (30, 50)
    assert ed.est_set([30, 40, 50], 45.0) == [30, 45, 50]
    assert ed.est_set({"low": 1, "likely": 2, "high": 3}, 2.5) == {
        "low": 1,
        "likely": 2.5,
        "high": 3,
    }
    assert ed.est_set(7, 8.0) == 8 and isinstance(ed.est_set(7, 8.0), int)
    assert ed.est_point("x") is None and ed.est_point(True) is None


def test_score_edits_and_frame_changes() -> None:
    data = _data()
    options = ["net 30", "net 60", "net 90"]
    before = pd.DataFrame({"option": options, "p0": [20.0, 70.0, 100.0], "p1": [100.0, 60, 20]})
    after = before.copy()
    after.loc[1, "p0"] = 55.0
    after.loc[2, "p1"] = None
    changes = ed.frame_changes(before, after, ["p0", "p1"])
    assert changes == {1: {"p0": 55.0}, 2: {"p1": None}}
    ed.apply_score_edits(data, "payment terms", options, changes)
    s = scenario_from_data(data)
    assert s.party("Northwind Ops").preferences.values["payment terms"]["net 60"] == 55
    assert "net 90" not in s.party("CloudDesk").preferences.values["payment terms"]
    assert ed.frame_changes(after, after, ["p0", "p1"]) == {}


def test_points_text_round_trip_and_errors() -> None:
    assert ed.parse_points("40:0, 50:80; 60:100") == [[40, 0], [50, 80], [60, 100]]
    assert ed.points_text([[40, 0], [50.5, 80]]) == "40:0, 50.5:80"
    assert "value:score" in ed.parse_points("40-0")
    assert "two numbers" in ed.parse_points("a:b")


def test_constraints_in_words() -> None:
    s = _data()
    words = [ed.describe_constraint(c) for c in s["constraints"]]
    assert words[0] == "**vendor price floor** — CloudDesk: price per seat at least 44"
    assert "not both support tier is enterprise and term is 1 year" in words[1]
    assert "at most 180 kUSD" in words[2]
    assert "unknown constraint type" in ed.describe_constraint({"type": "odd"})


def test_package_table_marks_changes_and_reopened() -> None:
    from optimizer.engine.results import PackageResult

    s = Scenario.load(SAAS)
    ref = s.reference()
    pkg = dict(ref)
    pkg["term"] = "2 years"  # provisional: reopened
    pkg["payment terms"] = "net 60"  # open: changed
    u = dict(zip(s.party_names, s.utilities([pkg])[0], strict=True))
    r = dict(zip(s.party_names, s.utilities([ref])[0], strict=True))
    result = PackageResult(package=pkg, utilities=u, reopened=["term"])
    cells, kinds = views.package_table(s, [result], ["Package 1"], r)
    assert cells.loc["term (provisional)", "Package 1"] == "2 years"
    assert kinds.loc["term (provisional)", "Package 1"] == "reopened"
    assert kinds.loc["payment terms", "Package 1"] == "changed"
    assert kinds.loc["seats (agreed)", "Package 1"] == ""
    assert cells.loc["price per seat", views.ON_TABLE] == "56 USD/month"
    gain = u["Northwind Ops"] - r["Northwind Ops"]
    assert cells.loc["Gain: Northwind Ops", "Package 1"] == views.fmt_gain(gain)
    assert cells.loc["Reopens", "Package 1"] == "term"
    styles = views.table_styles(kinds)
    assert styles.loc["term (provisional)", "Package 1"] == views.REOPENED_BG
    assert views.differences(s, pkg) == [
        "term: 3 years → 2 years — reopens a provisional issue",
        "payment terms: net 30 → net 60",
    ]


def test_ranges_set_one_end_and_toggle_a_party() -> None:
    assert ed.est_parts(5) == (5, 5, 5) and ed.est_parts([1, 2, 3]) == (1, 2, 3)
    assert ed.range_set(5, "low", 3.0) == [3, 5, 5]
    assert ed.range_set([3, 5, 5], "high", 9.5) == [3, 5, 9.5]
    assert ed.range_set({"low": 1, "likely": 2, "high": 3}, "low", 0.0)["low"] == 0
    assert ed.range_set([3, 5, 5], "low", None) == [3, 5, 5]  # a cleared box keeps the entry
    data = _data()
    assert ed.party_uncertain(data, 1) and not ed.party_uncertain(data, 0)
    ed.set_uncertain(data, 0, True)
    us = data["parties"][0]
    assert us["preferences"]["weights"]["term"] == [10, 10, 10]
    assert us["reservation_value"] == [35, 35, 35]
    zero_width, plain = scenario_from_data(data), Scenario.load(SAAS)
    assert zero_width.party("Northwind Ops").reservation_value.low == 35
    ref = plain.reference()
    assert zero_width.utilities([ref]).tolist() == plain.utilities([ref]).tolist()
    ed.set_uncertain(data, 1, False)  # the vendor's ranges collapse to their likely values
    assert data["parties"][1]["preferences"]["weights"]["term"] == 20
    assert data["parties"][1]["reservation_value"] == 40
    ed.set_uncertain(data, 0, False)
    assert data["parties"][0] == _data()["parties"][0]


def test_constraints_built_from_form_fields() -> None:
    data = _data()
    pairs = ed.condition_pairs(data)
    assert ("term", "1 year") in pairs and ("seats", 225) in pairs
    assert not any(name == "price per seat" for name, _ in ed.condition_pairs(data, grid_limit=20))
    assert ed.pair_label(("seats", 225)) == "seats = 225"
    assert ed.conditions([("term", "1 year"), ("term", "2 years"), ("SLA", "99.9%")]) == {
        "term": ["1 year", "2 years"],
        "SLA": "99.9%",
    }
    acc = ed.new_constraint(
        "acceptable", {"party": "CloudDesk", "issue": "term", "options": ["3 years"]}
    )
    num = ed.new_constraint("acceptable", {"issue": "seats", "numeric": True, "max": 275.0})
    forb = ed.new_constraint("forbidden", {"pairs": [("term", "1 year"), ("SLA", "99.95%")]})
    imp = ed.new_constraint("implies", {"when": [("term", "1 year")], "then": [("SLA", "99.5%")]})
    bud = ed.new_constraint(
        "budget",
        {"name": "cap", "costs": {"seats": {"per_unit": 0.5}}, "limit": 130.0, "unit": "k"},
    )
    assert num == {"type": "acceptable", "issue": "seats", "max": 275}
    assert bud == {
        "type": "budget",
        "name": "cap",
        "costs": {"seats": {"per_unit": 0.5}},
        "limit": 130,
        "unit": "k",
    }
    for c in (acc, num, forb, imp, bud):
        ed.add_constraint(data, c)
    s = scenario_from_data(data)
    assert [c.type for c in s.constraints[3:]] == [
        "acceptable",
        "acceptable",
        "forbidden",
        "implies",
        "budget",
    ]
    assert s.constraints[3].party == "CloudDesk" and s.constraints[6].then == {"SLA": "99.5%"}
    # What to pick is said, not guessed.
    assert "two issue = value pairs" in ed.new_constraint(
        "forbidden", {"pairs": [("term", "1 year"), ("term", "2 years")]}
    )
    assert "lowest or a highest" in ed.new_constraint(
        "acceptable", {"issue": "seats", "numeric": True}
    )
    assert "'when'" in ed.new_constraint("implies", {"when": [("term", "1 year")], "then": []})
    assert "limit" in ed.new_constraint("budget", {"costs": {"seats": {"per_unit": 1}}})
    for _ in range(8):
        ed.remove_constraint(data, 0)
    assert "constraints" not in data
    ed.remove_constraint(data, 0)  # nothing left: no error
