"""Progress summary: each category computed by its documented rule, and the article's sentences."""

from __future__ import annotations

import numpy as np
import pytest
from test_explain import THEM, US, deal, deal_data

from optimizer import Scenario
from optimizer.reports.summary import (
    OPPOSED_CORRELATION,
    TOP_PACKAGES,
    compatible,
    opposed_pair,
    progress_summary,
    status_paragraph,
)
from optimizer.searches.improve import improve

# --------------------------------------------------------------------------------------------
# The sentences
# --------------------------------------------------------------------------------------------


def test_article_sentence() -> None:
    assert status_paragraph(["A", "B"], ["C"], ["D"], ["E"]) == (
        "We have agreed on A and B. C is still provisional and D is in good shape. "
        "Now we're having trouble with E. We're most of the way up the mountain. "
        "It'd be a shame if this got us stuck."
    )


@pytest.mark.parametrize(
    ("items", "listed", "be"),
    [(["A"], "A", "is"), (["A", "B"], "A and B", "are"), (["A", "B", "C"], "A, B and C", "are")],
)
def test_lists_of_one_two_three(items: list[str], listed: str, be: str) -> None:
    text = status_paragraph(items, items, items, items, items, n_issues=20)
    assert text.startswith(f"We have agreed on {listed}. ")
    assert f"{listed} {be} still provisional" in text
    assert f"{listed} {be} in good shape" in text
    assert f"We still have to work out {listed}." in text
    assert f"Now we're having trouble with {listed}." in text
    # Not "most of the way up" with 15 of 20 issues unsettled... 3*len of 20 settled.
    done = 3 * len(items)
    assert ("most of the way up the mountain" in text) == (done >= 10)


def test_empty_categories_read_well() -> None:
    assert (
        status_paragraph([], [], [], [])
        == "We have not agreed on anything yet. Nothing is left open."
    )
    assert status_paragraph(["A"], [], [], []) == "We have agreed on A. Nothing is left open."
    assert status_paragraph([], ["B"], [], []) == (
        "We have not agreed on anything yet. B is still provisional. Nothing is left open."
    )
    assert status_paragraph([], [], ["d"], []) == (
        "We have not agreed on anything yet. D is in good shape. Nothing is stuck."
    )
    assert status_paragraph([], [], [], ["e"]) == (
        "We have not agreed on anything yet. Now we're having trouble with e."
    )
    assert status_paragraph(["a"], [], [], ["e", "f"], n_issues=3) == (
        "We have agreed on a. Now we're having trouble with e and f."
    )
    assert status_paragraph(["a", "b"], [], [], ["e", "f"]) == (
        "We have agreed on a and b. Now we're having trouble with e and f. We're most of the way "
        "up the mountain. It'd be a shame if these got us stuck."
    )
    assert status_paragraph([], [], [], [], ["g"]) == (
        "We have not agreed on anything yet. We still have to work out g. Nothing is stuck."
    )


# --------------------------------------------------------------------------------------------
# The per-issue rules
# --------------------------------------------------------------------------------------------


def test_compatible_and_opposed_rules() -> None:
    mask = np.ones(3, dtype=bool)
    assert compatible([np.array([0, 4, 10]), np.array([2, 4, 10])], mask)
    assert not compatible([np.array([0, 4, 10]), np.array([10, 4, 0])], mask)
    assert compatible([np.array([0, 4, 10]), np.zeros(3)], mask)  # indifferent side
    # Only acceptable values count: with the first value ruled out, both sides' best coincide.
    tabs = [np.array([0, 9, 10]), np.array([10, 0, 9])]
    assert not compatible(tabs, mask)
    assert compatible(tabs, np.array([0, 1, 1], dtype=bool))

    up, down = np.array([0.0, 5.0, 10.0]), np.array([10.0, 5.0, 0.0])
    assert opposed_pair([up, down], mask, [10, 10], [10, 10]) == (0, 1)
    # Substantial for both: at least half of the party's average stake.
    assert opposed_pair([up, down], mask, [10, 10], [10, 21]) is None
    # Correlation threshold.
    weak = np.array([4.0, 10.0, 0.0])
    corr = np.corrcoef(up, weak)[0, 1]
    assert corr > OPPOSED_CORRELATION
    assert opposed_pair([up, weak], mask, [10, 10], [10, 10]) is None


def _frontier_data() -> dict:
    """Zero-sum on price and delivery (same weights, reversed values): no package is better for
    everyone; training and payment are already best for both."""
    data = deal_data()
    weights = {"price": 37.7, "delivery": 21.9, "warranty": 17.1, "payment": 11.9, "training": 11.4}
    for p in data["parties"]:
        p["preferences"]["weights"] = dict(weights)
        p["preferences"]["values"]["training"] = {"none": 0, "basic": 40, "full": 100}
        p["preferences"]["values"]["payment"] = {"net 30": 0, "net 60": 50, "net 90": 100}
        p.pop("reservation_value", None)
    data["parties"][0]["preferences"]["values"]["delivery"] = {
        "2 weeks": 100,
        "4 weeks": 50,
        "8 weeks": 0,
    }
    data["parties"][1]["preferences"]["values"]["delivery"] = {
        "2 weeks": 0,
        "4 weeks": 50,
        "8 weeks": 100,
    }
    data["issues"][1]["value"] = "4 weeks"
    data["issues"][3].update({"status": "provisional", "value": "net 90"})
    data["issues"][4].update({"status": "open", "value": "full"})
    return data


def test_summary_on_the_frontier() -> None:
    s = Scenario.from_dict(_frontier_data())
    out = progress_summary(s)
    assert out.agreed == ["warranty"]
    assert out.provisional == ["payment"]
    assert out.good_shape == ["training"]
    assert out.trouble == ["price", "delivery"]
    assert out.still_open == []
    assert out.gains == {US: None, THEM: None}
    assert out.best_package is None
    assert out.status_text == (
        "We have agreed on warranty. Payment is still provisional and training is in good shape. "
        "Now we're having trouble with price and delivery. We're most of the way up the "
        "mountain. It'd be a shame if these got us stuck."
    )
    assert out.text.startswith(out.status_text + " Nothing is left to gain for everyone.")
    assert "Pareto frontier" in out.text
    assert "pull hard in opposite directions" in out.reasons["price"]


def test_summary_with_win_win_packages() -> None:
    s = deal()
    res = improve(s, top=TOP_PACKAGES)
    out = progress_summary(s)
    assert out.agreed == ["warranty"] and out.provisional == ["training"]
    best = res.packages[0]
    assert out.gains == pytest.approx(best.gains)
    assert out.best_package == best.package
    assert "gives us 28.2 more points and Seller Inc 33.1 more" in out.text
    assert "It reopens training." in out.text
    # Every open issue is in exactly one category, by the documented rules.
    open_issues = [i.name for i in s.issues if i.status == "open"]
    cats = out.good_shape + out.trouble + out.still_open
    assert sorted(cats) == sorted(open_issues)
    for name in out.good_shape:
        values = {p.package[name] for p in res.packages}
        if len(values) != 1:
            assert out.reasons[name] == "the same value is best for every side"
    for name in out.trouble + out.still_open:
        assert len({p.package[name] for p in res.packages}) > 1
    # Delivery and payment both move to the same value in the top packages: in good shape.
    assert {p.package["delivery"] for p in res.packages} == {"8 weeks"}
    assert "delivery" in out.good_shape
    # Price: reversed values, both weight it heavily, and the top packages disagree.
    assert "price" in out.trouble


def test_summary_when_rules_conflict() -> None:
    data = deal_data()
    data["constraints"] = [
        {
            "type": "acceptable",
            "name": "our price ceiling",
            "party": US,
            "issue": "price",
            "max": 105,
        },
        {
            "type": "acceptable",
            "name": "their price floor",
            "party": THEM,
            "issue": "price",
            "min": 115,
        },
    ]
    s = Scenario.from_dict(data)
    out = progress_summary(s)
    assert out.trouble == ["price"]
    assert "conflict" in out.reasons["price"]
    assert out.gains == {US: None, THEM: None}
    assert "minimum price of 115 EUR/unit cannot both hold" in out.text
    assert "Now we're having trouble with price." in out.text


def test_summary_without_a_deal_on_the_table() -> None:
    data = deal_data()
    data["issues"][0].pop("value")
    s = Scenario.from_dict(data)
    out = progress_summary(s)
    assert "than walking away" in out.text
    res = improve(s, top=1)
    assert out.gains == pytest.approx(res.packages[0].gains)
