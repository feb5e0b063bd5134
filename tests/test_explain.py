"""Trade explanations: who gives and gets what, the logroll in words, and unilateral concessions."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import Scenario
from optimizer.errors import PackageError
from optimizer.reports.explain import explain_trade, verb
from optimizer.scenario.wording import english_list, sentence_case

US, THEM = "Buyer Co", "Seller Inc"


def deal_data() -> dict[str, Any]:
    """A small buyer/seller deal with a clear logroll and distinctive preference numbers.

    Payment terms matter much more to us than to them; delivery much more to them than to us.
    The weights, walk-away points and aspiration are numbers that appear nowhere else (so a
    document check for them is meaningful)."""
    return {
        "name": "Test deal",
        "us": US,
        "parties": [
            {
                "name": US,
                "reservation_value": 27.3,
                "aspiration": 83.9,
                "preferences": {
                    "weights": {
                        "price": 37.7,
                        "delivery": 8.3,
                        "warranty": 17.1,
                        "payment": 26.9,
                        "training": 10.9,
                    },
                    "values": {
                        "price": {"shape": "decreasing"},
                        "delivery": {"2 weeks": 100, "4 weeks": 70, "8 weeks": 40},
                        "warranty": {"1 year": 0, "2 years": 60, "3 years": 100},
                        "payment": {"net 30": 0, "net 60": 55, "net 90": 100},
                        "training": {"none": 0, "basic": 40, "full": 100},
                    },
                },
            },
            {
                "name": THEM,
                "reservation_value": {"low": 22.4, "likely": 29.7, "high": 36.2},
                "preferences": {
                    "weights": {
                        "price": {"low": 31.1, "likely": 38.6, "high": 44.8},
                        "delivery": 29.3,
                        "warranty": 13.7,
                        "payment": 4.1,
                        "training": 14.3,
                    },
                    "values": {
                        "price": {"shape": "increasing"},
                        "delivery": {"2 weeks": 0, "4 weeks": 60, "8 weeks": 100},
                        "warranty": {"1 year": 100, "2 years": 50, "3 years": 0},
                        "payment": {"net 30": 100, "net 60": 70, "net 90": 0},
                        "training": {"none": 20, "basic": 45, "full": 100},
                    },
                },
            },
        ],
        "issues": [
            {"name": "price", "min": 100, "max": 120, "step": 5, "unit": "EUR/unit", "value": 115},
            {"name": "delivery", "options": ["2 weeks", "4 weeks", "8 weeks"], "value": "2 weeks"},
            {
                "name": "warranty",
                "options": ["1 year", "2 years", "3 years"],
                "status": "agreed",
                "value": "2 years",
            },
            {"name": "payment", "options": ["net 30", "net 60", "net 90"], "value": "net 30"},
            {
                "name": "training",
                "options": ["none", "basic", "full"],
                "status": "provisional",
                "value": "basic",
            },
        ],
    }


def deal() -> Scenario:
    return Scenario.from_dict(deal_data())


def test_english_helpers() -> None:
    assert english_list([]) == ""
    assert english_list(["A"]) == "A"
    assert english_list(["A", "B"]) == "A and B"
    assert english_list(["A", "B", "C"]) == "A, B and C"
    assert english_list(["A", "B"], "or") == "A or B"
    assert sentence_case("price per seat") == "Price per seat"
    assert sentence_case("eBay fees") == "eBay fees"
    assert verb(1, "is", "are") == "is" and verb(2, "is", "are") == "are"


def test_logroll_names_issues_and_directions() -> None:
    s = deal()
    pkg = dict(s.reference())
    pkg.update({"delivery": "8 weeks", "payment": "net 90"})
    e = explain_trade(s, pkg)
    assert e.gets[US] == ["payment"] and e.gives[US] == ["delivery"]
    assert e.gets[THEM] == ["delivery"] and e.gives[THEM] == ["payment"]
    assert e.logrolls == ["delivery"]
    assert e.text == (
        "You get delivery at 8 weeks, which matters more to you; "
        "we get payment at net 90, which matters more to us."
    )
    # Per-issue changes agree with the utility tables, and the totals with the evaluator.
    ref_u = s.utilities([s.reference()])[0]
    new_u = s.utilities([pkg])[0]
    assert e.totals[US] == pytest.approx(new_u[0] - ref_u[0])
    assert e.totals[THEM] == pytest.approx(new_u[1] - ref_u[1])
    by_issue = {t.issue: t for t in e.issues}
    assert by_issue["delivery"].deltas[US] < 0 < by_issue["delivery"].deltas[THEM]
    assert by_issue["payment"].deltas[THEM] < 0 < by_issue["payment"].deltas[US]
    assert not by_issue["price"].changed and by_issue["price"].directions[US] == "same"
    assert e.warnings == []
    assert all(ch.isdigit() is False for ch in e.text.replace("8 weeks", "").replace("90", ""))


def test_unilateral_concession_is_flagged() -> None:
    s = deal()
    pkg = dict(s.reference())
    pkg["delivery"] = "8 weeks"  # we give, they gain, nothing back
    e = explain_trade(s, pkg)
    assert e.gives[US] == ["delivery"] and e.gets[US] == []
    assert e.totals[US] < 0 < e.totals[THEM]
    assert any("Unilateral concession" in w and "buy love" in w for w in e.warnings)
    assert "You get delivery at 8 weeks" in e.text

    # Worse for us and for them too: value destroyed, not a concession that buys anything.
    pkg = dict(s.reference())
    pkg["training"] = "none"
    e = explain_trade(s, pkg)
    assert e.gives[US] == ["training"] and e.gives[THEM] == ["training"]
    assert any("destroys value" in w for w in e.warnings)
    assert "Training at none costs us" in e.text


def test_walk_away_warning_and_both_gain() -> None:
    s = deal()
    pkg = dict(s.reference())
    pkg["training"] = "full"
    e = explain_trade(s, pkg)
    assert e.gets[US] == ["training"] and e.gets[THEM] == ["training"]
    assert e.text == "Training at full is better for both of us."
    assert e.warnings == []

    worst = {"price": 120, "delivery": "8 weeks", "warranty": "2 years"}
    worst |= {"payment": "net 30", "training": "none"}
    e = explain_trade(s, worst)
    assert any("walk-away point (27.3)" in w for w in e.warnings)


def test_explicit_reference_and_unchanged_package() -> None:
    s = deal()
    ref = dict(s.reference())
    e = explain_trade(s, ref)
    assert e.text == "This package keeps the deal on the table as it is."
    assert all(not t.changed for t in e.issues)
    other = dict(ref, price=100)
    e = explain_trade(s, ref, reference=other)  # from 100 back to 115: they get the price
    assert e.gets[THEM] == ["price"] and e.gives[US] == ["price"]
    with pytest.raises(PackageError):
        explain_trade(s, dict(ref, price=101))
    with pytest.raises(PackageError):
        explain_trade(s, ref, reference={"colour": "red"})


def test_no_value_on_the_table_compares_with_the_average() -> None:
    data = deal_data()
    data["issues"][1].pop("value")  # delivery: nothing on the table yet
    s = Scenario.from_dict(data)
    pkg = {"price": 115, "delivery": "8 weeks", "warranty": "2 years"}
    pkg |= {"payment": "net 30", "training": "basic"}
    e = explain_trade(s, pkg)
    t = next(t for t in e.issues if t.issue == "delivery")
    assert t.changed and t.reference is None
    ours = np.array([100, 70, 40]) / 100 * 8.3 / (37.7 + 8.3 + 17.1 + 26.9 + 10.9) * 100
    assert t.deltas[US] == pytest.approx(ours[2] - ours.mean())
    assert e.gets[THEM] == ["delivery"] and e.gives[US] == ["delivery"]


def test_three_parties_use_names() -> None:
    data = deal_data()
    third = copy.deepcopy(data["parties"][1])
    third["name"] = "Carrier Ltd"
    third["preferences"]["values"]["delivery"] = {"2 weeks": 0, "4 weeks": 30, "8 weeks": 100}
    data["parties"].append(third)
    s = Scenario.from_dict(data)
    pkg = dict(s.reference(), delivery="8 weeks", payment="net 90")
    e = explain_trade(s, pkg)
    assert "Seller Inc gets delivery at 8 weeks" in e.text
    assert "Carrier Ltd gets delivery at 8 weeks" in e.text
    assert "you" not in e.text.split()


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_explanation_is_consistent_with_the_evaluator(data) -> None:
    """For any package: per-issue changes add up to the evaluator's totals, and every changed
    issue is listed under gives/gets exactly by the sign of each side's change."""
    s = deal()
    pkg = {
        i.name: data.draw(st.sampled_from([i.value_at(k) for k in range(i.size)])) for i in s.issues
    }
    e = explain_trade(s, pkg)
    ref_u = s.utilities([s.reference()])[0]
    new_u = s.utilities([pkg])[0]
    for j, p in enumerate(s.party_names):
        assert e.totals[p] == pytest.approx(new_u[j] - ref_u[j], abs=1e-9)
        assert sum(t.deltas[p] for t in e.issues) == pytest.approx(e.totals[p], abs=1e-9)
        for t in e.issues:
            if not t.changed:
                assert t.deltas[p] == pytest.approx(0.0, abs=1e-12)
            assert (t.issue in e.gets[p]) == (t.changed and t.deltas[p] > 1e-6)
            assert (t.issue in e.gives[p]) == (t.changed and t.deltas[p] < -1e-6)
    assert any("Unilateral concession" in w or "destroys value" in w for w in e.warnings) == (
        e.totals[US] < -1e-6
    )
    for name in e.logrolls:
        assert name in e.gets[THEM] and name in e.text
