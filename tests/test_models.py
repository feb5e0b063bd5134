"""Scenario models: validation rules with their exact messages, scaling, the Python API."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import numpy as np
import pytest

from optimizer import PackageError, Problem, Range, Scenario, ScenarioValidationError
from optimizer.scenario.files import scenario_from_data


def base() -> dict[str, Any]:
    """A small valid scenario as plain data: one numeric and one categorical issue."""
    return {
        "name": "test",
        "parties": [
            {
                "name": "A",
                "preferences": {
                    "weights": {"price": 1, "colour": 1},
                    "values": {"price": {"shape": "increasing"}, "colour": {"red": 1, "blue": 2}},
                },
            },
            {
                "name": "B",
                "preferences": {
                    "weights": {"price": 2, "colour": 1},
                    "values": {"price": {"shape": "decreasing"}, "colour": {"red": 2, "blue": 1}},
                },
            },
        ],
        "issues": [
            {"name": "price", "min": 0, "max": 10, "step": 2, "value": 4},
            {"name": "colour", "options": ["red", "blue"], "status": "agreed", "value": "red"},
        ],
    }


def problems(data: dict[str, Any]) -> list[str]:
    """Every problem of invalid data as 'location: message' lines."""
    with pytest.raises(ScenarioValidationError) as exc:
        scenario_from_data(data)
    return [str(p) for p in exc.value.problems]


def warnings_of(data: dict[str, Any]) -> list[str]:
    return [str(p) for p in scenario_from_data(data).warnings()]


# -- a valid scenario and its numbers ---------------------------------------------------------


def test_base_is_valid_and_summarised() -> None:
    s = scenario_from_data(base())
    assert s.summary_line() == "2 issues, 2 parties, 1 agreed, 0 provisional, 1 open"
    assert s.us_name == "A"
    assert s.reference() == {"price": 4, "colour": "red"}
    assert warnings_of(base()) == []


def test_utility_follows_the_documented_scaling() -> None:
    s = scenario_from_data(base())
    # A: weights 1:1 -> shares 1/2; price increasing on 0..10; colour blue best (2), red 1/2.
    assert s.utility("A", {"price": 10, "colour": "blue"}) == pytest.approx(100)
    assert s.utility("A", {"price": 4, "colour": "red"}) == pytest.approx(
        100 * (0.5 * 0.4 + 0.5 * 0.5)
    )
    # B: shares 2/3, 1/3; price decreasing; red best.
    assert s.utility("B", {"price": 4, "colour": "red"}) == pytest.approx(
        100 * (2 / 3 * 0.6 + 1 / 3)
    )
    # Only ratios of weights and of option scores matter.
    d = base()
    d["parties"][0]["preferences"]["weights"] = {"price": 50, "colour": 50}
    d["parties"][0]["preferences"]["values"]["colour"] = {"red": 40, "blue": 80}
    assert scenario_from_data(d).utility("A", {"price": 4, "colour": "red"}) == pytest.approx(45)


def test_vectorised_utilities_equal_one_by_one() -> None:
    d = base()
    d["parties"][1]["preferences"]["synergies"] = [
        {"when": {"price": 10, "colour": "blue"}, "bonus": 7.5}
    ]
    s = scenario_from_data(d)
    grid = np.array(list(itertools.product(*(range(i.size) for i in s.issues))))
    many = s.utilities(grid)
    assert many.shape == (12, 2)
    for row, u in zip(grid, many, strict=True):
        pkg = s.decode(row)
        assert u[0] == pytest.approx(s.utility("A", pkg))
        assert u[1] == pytest.approx(s.utility("B", pkg))
    # The synergy adds its bonus only when both options are chosen.
    assert s.utility("B", {"price": 10, "colour": "blue"}) == pytest.approx(100 / 3 * 0.5 + 7.5)
    assert s.utilities([{"price": 10, "colour": "blue"}]).shape == (1, 2)


def test_numbers_print_as_integers_and_option_names_stay_text() -> None:
    d = base()
    d["issues"][1] = {"name": "colour", "options": [2000, 0.6, "~40km"], "value": 2000}
    d["parties"][0]["preferences"]["values"]["colour"] = {2000: 1, 0.6: 2, "~40km": 3}
    d["parties"][1]["preferences"]["values"]["colour"] = {"2000": 3, "0.6": 2, "~40km": 1}
    s = scenario_from_data(d)
    assert s.issue("colour").options == ["2000", "0.6", "~40km"]
    assert s.issue("colour").value == "2000"
    assert s.reference() == {"price": 4, "colour": "2000"}
    assert isinstance(s.reference()["price"], int)
    assert s.decode([5, 1]) == {"price": 10, "colour": "0.6"}
    assert type(s.decode([5, 1])["price"]) is int
    # A number names the option it spells, wherever a package or condition uses it.
    assert s.issue("colour").index_of(2000.0) == 0
    assert s.issue("colour").index_of(0.6) == 1
    assert s.utility("A", {"price": 4, "colour": 2000}) == s.utility(
        "A", {"price": 4, "colour": "2000"}
    )


def test_built_in_code_without_ceremony() -> None:
    s = Scenario(**base())
    assert s == scenario_from_data(base())
    assert s.to_dict()["issues"][0] == {"name": "price", "min": 0, "max": 10, "step": 2, "value": 4}


def test_revalidate_catches_in_place_edits() -> None:
    s = scenario_from_data(base())
    s.issue("colour").value = "green"
    with pytest.raises(ScenarioValidationError) as exc:
        s.revalidate()
    assert [str(p) for p in exc.value.problems] == [
        "issue \"colour\": value 'green' is not one of the options (red, blue)"
    ]


def test_ranges_use_likely_as_the_point_estimate() -> None:
    d = base()
    d["parties"][1]["preferences"]["weights"]["price"] = [1, 2, 4]
    d["parties"][1]["reservation_value"] = {"low": 10, "likely": 20, "high": 30}
    s = scenario_from_data(d)
    assert s.utility("B", {"price": 4, "colour": "red"}) == pytest.approx(
        100 * (2 / 3 * 0.6 + 1 / 3)
    )
    assert s.reservation("B") == 20
    w = s.party("B").preferences.weights["price"]
    assert isinstance(w, Range) and (w.low, w.likely, w.high) == (1, 2, 4)


def test_reservation_given_as_a_package() -> None:
    d = base()
    d["parties"][0]["reservation_value"] = {"package": {"price": 6, "colour": "red"}}
    s = scenario_from_data(d)
    assert s.reservation("A") == pytest.approx(s.utility("A", {"price": 6, "colour": "red"}))


def test_no_deal_when_an_open_issue_has_no_value() -> None:
    d = base()
    del d["issues"][0]["value"]
    assert scenario_from_data(d).reference() is None


def test_package_errors_name_the_issue() -> None:
    s = scenario_from_data(base())
    with pytest.raises(PackageError, match="package gives no value for issue 'colour'"):
        s.utility("A", {"price": 4})
    with pytest.raises(PackageError, match="'green' is not a possible value of issue 'colour'"):
        s.utility("A", {"price": 4, "colour": "green"})
    with pytest.raises(PackageError, match="package names unknown issue"):
        s.utility("A", {"price": 4, "colour": "red", "size": 1})
    with pytest.raises(KeyError, match="no party named 'C'"):
        s.utility("C", {"price": 4, "colour": "red"})


# -- rules and their exact messages -----------------------------------------------------------


#: (what, how to break base(), the exact problems reported)
CASES: list[tuple[str, Any, list[str]]] = [
    (
        "duplicate issue names",
        lambda d: d["issues"].append({"name": "price", "options": ["x"]}),
        ["issue \"price\": the name 'price' is used by 2 issues; names must be unique"],
    ),
    (
        "duplicate party names",
        lambda d: d["parties"].append(copy.deepcopy(d["parties"][0])),
        ["party \"A\": the name 'A' is used by 2 parties; names must be unique"],
    ),
    (
        "agreed issue without a value",
        lambda d: d["issues"][1].pop("value"),
        ['issue "colour": an agreed issue must carry the value on the table (set value)'],
    ),
    (
        "provisional issue without a value",
        lambda d: d["issues"][0].update(status="provisional", value=None),
        ['issue "price": a provisional issue must carry the value on the table (set value)'],
    ),
    (
        "value not an option",
        lambda d: d["issues"][1].update(value="green"),
        ["issue \"colour\": value 'green' is not one of the options (red, blue)"],
    ),
    (
        "numeric value off the grid",
        lambda d: d["issues"][0].update(value=5),
        ['issue "price": value 5 is not on the issue\'s grid (0 to 10 in steps of 2)'],
    ),
    (
        "numeric value out of range",
        lambda d: d["issues"][0].update(value=12),
        ['issue "price": value 12 is not on the issue\'s grid (0 to 10 in steps of 2)'],
    ),
    (
        "step does not divide the range",
        lambda d: d["issues"][0].update(step=3, value=3),
        ['issue "price": step 3 does not divide the range 0 to 10'],
    ),
    (
        "min above max",
        lambda d: d["issues"][0].update(min=20),
        ['issue "price": min 20 is above max 10'],
    ),
    (
        "options and min together",
        lambda d: d["issues"][1].update(min=1),
        [
            'issue "colour": give either options (categorical) or min/max (numeric), not both (found options and min)'
        ],
    ),
    (
        "neither options nor a range",
        lambda d: d["issues"][0].pop("max"),
        [
            'issue "price": an issue needs either options (categorical) or both min and max (numeric)'
        ],
    ),
    (
        "repeated option",
        lambda d: d["issues"][1].update(options=["red", "blue", "red"]),
        ["issue \"colour\": option names must be unique; repeated: 'red'"],
    ),
    (
        "negative weight",
        lambda d: d["parties"][0]["preferences"]["weights"].update(price=-1),
        ['party "A" > weights > "price": weights must be non-negative'],
    ),
    (
        "all weights zero",
        lambda d: d["parties"][0]["preferences"].update(weights={"price": 0, "colour": 0}),
        ['party "A" > weights: at least one issue needs a positive weight'],
    ),
    (
        "weight for an unknown issue",
        lambda d: d["parties"][0]["preferences"]["weights"].update(size=3),
        ["party \"A\" > weights: unknown issue 'size'"],
    ),
    (
        "score for an unknown option",
        lambda d: d["parties"][1]["preferences"]["values"]["colour"].update(green=3),
        ['party "B" > values > "colour": unknown option \'green\' (options: red, blue)'],
    ),
    (
        "negative option score",
        lambda d: d["parties"][1]["preferences"]["values"]["colour"].update(red=-2),
        ['party "B" > values > "colour" > "red": option scores must be non-negative'],
    ),
    (
        "shape on a categorical issue",
        lambda d: d["parties"][1]["preferences"]["values"].update(colour={"shape": "increasing"}),
        [
            'party "B" > values > "colour": \'colour\' is categorical: give a score per option, not a shape'
        ],
    ),
    (
        "scores on a numeric issue",
        lambda d: d["parties"][1]["preferences"]["values"].update(price={"0": 1}),
        [
            'party "B" > values > "price": \'price\' is numeric: give a shape (increasing, decreasing, peak, piecewise)'
        ],
    ),
    (
        "peak outside the range",
        lambda d: d["parties"][1]["preferences"]["values"].update(
            price={"shape": "peak", "peak": 11}
        ),
        ['party "B" > values > "price": peak 11 is outside the issue\'s range (0 to 10)'],
    ),
    (
        "peak shape without a peak",
        lambda d: d["parties"][1]["preferences"]["values"].update(price={"shape": "peak"}),
        ['party "B" > values > "price": shape \'peak\' needs a peak value'],
    ),
    (
        "piecewise points out of order",
        lambda d: d["parties"][1]["preferences"]["values"].update(
            price={"shape": "piecewise", "points": [[5, 1], [2, 0]]}
        ),
        ['party "B" > values > "price": piecewise points must have strictly increasing values'],
    ),
    (
        "range out of order",
        lambda d: d["parties"][1]["preferences"]["weights"].update(price=[3, 1, 2]),
        ['party "B" > weights > "price": range must satisfy low <= likely <= high (got 3 / 1 / 2)'],
    ),
    (
        "range with two numbers",
        lambda d: d["parties"][1]["preferences"]["weights"].update(price=[1, 2]),
        [
            'party "B" > weights > "price": a range given as a list needs exactly [low, likely, high]'
        ],
    ),
    (
        "us is not a party",
        lambda d: d.update(us="C"),
        ["us: 'C' is not one of the parties (A, B)"],
    ),
    (
        "constraint on an unknown issue and party",
        lambda d: d.update(
            constraints=[
                {"type": "acceptable", "name": "floor", "party": "C", "issue": "size", "min": 1}
            ]
        ),
        [
            "constraint \"floor\" > party: unknown party 'C'",
            "constraint \"floor\" > issue: unknown issue 'size'",
        ],
    ),
    (
        "forbidden combination with an unknown option",
        lambda d: d.update(
            constraints=[{"type": "forbidden", "combination": {"colour": "green", "price": 4}}]
        ),
        [
            "constraint 1 (forbidden) > combination > issue \"colour\": option 'green' is not a possible value of issue 'colour'"
        ],
    ),
    (
        "implies with an empty then",
        lambda d: d.update(
            constraints=[{"type": "implies", "when": {"colour": "red"}, "then": {}}]
        ),
        ["constraint 1 (implies) > then: needs at least 1 entry"],
    ),
    (
        "budget cost for a numeric issue given per option",
        lambda d: d.update(
            constraints=[{"type": "budget", "costs": {"price": {"2": 1}}, "limit": 3}]
        ),
        ["constraint 1 (budget) > costs > \"price\": 'price' is numeric: give per_unit (and base)"],
    ),
    (
        "unknown constraint type",
        lambda d: d.update(constraints=[{"type": "maximum", "issue": "price"}]),
        [
            "constraint 1: unknown type 'maximum'; expected one of 'acceptable', 'forbidden', 'implies', 'budget'"
        ],
    ),
    (
        "synergy with one issue",
        lambda d: d["parties"][0]["preferences"].update(
            synergies=[{"when": {"colour": "red"}, "bonus": 2}]
        ),
        ['party "A" > synergy 1 > when: a synergy names exactly two issues (issue: option pairs)'],
    ),
    (
        "offer by an unknown party",
        lambda d: d.update(history=[{"date": "2025-01-02", "by": "C", "package": {"price": 5}}]),
        [
            "offer 1 (2025-01-02) > by: unknown party 'C'",
            "offer 1 (2025-01-02) > package > issue \"price\": '5' is not a possible value of 'price'",
        ],
    ),
    (
        "one party only",
        lambda d: d["parties"].pop(),
        ["parties: needs at least 2 items"],
    ),
    (
        "utility scale zero",
        lambda d: d.update(utility_scale=0),
        ["utility_scale: must be greater than 0"],
    ),
    (
        "empty party name",
        lambda d: d["parties"][0].update(name=""),
        ["party 1 > name: must not be empty"],
    ),
]


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_messages(change: Any, expected: list[str]) -> None:
    d = base()
    change(d)
    assert problems(d) == expected


def test_every_problem_in_one_run() -> None:
    """Field errors do not hide the cross-field problems of the parts that did validate."""
    d = base()
    d["parties"][0]["preferences"]["weights"]["colour"] = "lots"  # a field error
    d["parties"][0]["preferences"]["weights"]["size"] = 1  # unknown issue (cross-field)
    d["parties"][1]["preferences"]["values"]["colour"]["green"] = 1  # unknown option
    d["issues"][0]["step"] = 3  # the issue fails: references to it are not reported again
    d["issues"].append({"name": "colour", "options": ["x"]})  # a duplicate name
    d["constraints"] = [{"type": "acceptable", "issue": "weight", "min": 1}]
    d["surprise"] = True
    assert problems(d) == [
        'party "A" > weights > "colour": must be a number, not text (\'lots\')',
        'issue "price": step 3 does not divide the range 0 to 10',
        "scenario: unknown key 'surprise' (not part of the scenario format)",
        "party \"A\" > weights: unknown issue 'size'",
        'party "B" > values > "colour": unknown option \'green\' (options: red, blue)',
        "constraint 1 (acceptable) > issue: unknown issue 'weight'",
        "issue \"colour\": the name 'colour' is used by 2 issues; names must be unique",
    ]


def test_locations_never_show_pydantic_internals() -> None:
    d = base()
    d["issues"][1]["value"] = [1, 2]
    d["parties"][0]["reservation_value"] = {"package": {"price": {"a": 1}, "colour": "red"}}
    d["constraints"] = [
        {"type": "forbidden", "combination": {"price": None, "colour": {"min": "x"}}}
    ]
    d["parties"][1]["preferences"]["values"]["colour"] = {"red": "high", "blue": 1}
    lines = problems(d)
    assert lines == [
        'party "A" > reservation_value > package > "price": must be text or a number, not a mapping',
        'party "B" > values > "colour" > "red": must be a number, not text (\'high\')',
        'issue "colour" > value: must be text or a number, not a list',
        'constraint 1 (forbidden) > combination > "price": must be text, a number, a list of them or a {min, max} range, not nothing',
        'constraint 1 (forbidden) > combination > "colour": must be text, a number, a list of them or a {min, max} range, not a mapping',
    ]
    for line in lines:
        assert "function-after" not in line and "(" not in line.split(":")[0].replace(
            "(forbidden)", ""
        )
        assert "'str'" not in line and "[" not in line.split(": ")[0]


def test_unknown_key_suggests_the_spelling() -> None:
    d = base()
    d["parties"][1]["reservaton_value"] = 3
    d["issues"][0]["unti"] = "EUR"
    assert problems(d) == [
        "party \"B\": unknown key 'reservaton_value'; did you mean 'reservation_value'?",
        "issue \"price\": unknown key 'unti'; did you mean 'unit'?",
    ]


def test_missing_keys_are_named() -> None:
    d = base()
    del d["parties"][0]["preferences"]
    del d["name"]
    assert problems(d) == [
        "scenario: missing required key 'name'",
        "party \"A\": missing required key 'preferences'",
    ]


# -- warnings ---------------------------------------------------------------------------------


def test_warning_reservation_above_best_reachable_utility() -> None:
    d = base()
    d["parties"][0]["reservation_value"] = 90
    # colour is agreed at red (A's half score): A's best reachable is 50 + 25 = 75.
    assert warnings_of(d) == [
        'party "A" > reservation_value: reservation value 90 is above 75, the most any reachable '
        "package can give A: A would walk away from every deal",
        'party "A" > reservation_value: the deal on the table gives A 45, below its reservation value 90',
    ]
    d["parties"][0]["reservation_value"] = 60
    assert warnings_of(d) == [
        'party "A" > reservation_value: the deal on the table gives A 45, below its reservation value 60'
    ]


def test_warning_best_reachable_applies_acceptable_ranges() -> None:
    d = base()
    d["issues"][1]["status"] = "open"
    d["parties"][0]["aspiration"] = 95
    d["constraints"] = [{"type": "acceptable", "party": "B", "issue": "price", "max": 6}]
    # A's best: price 6 (30) + blue (50) = 80.
    assert warnings_of(d) == [
        'party "A" > aspiration: aspiration 95 is above 80, the most any reachable package can '
        "give A: it cannot be met"
    ]


def test_warning_missing_weight_and_values() -> None:
    d = base()
    d["parties"][0]["preferences"]["weights"] = {"price": 1}
    del d["parties"][1]["preferences"]["values"]["colour"]
    assert warnings_of(d) == [
        "party \"A\" > weights: no weight for 'colour': counted as 0",
        "party \"B\" > values: no values for 'colour': a weighted issue without values adds "
        "nothing to the utility",
    ]


def test_problem_is_plain_data() -> None:
    p = Problem('issue "x"', "bad", code="unknown_issue", refers_to="x")
    assert str(p) == 'issue "x": bad'
    assert p == Problem('issue "x"', "bad")
    assert p.to_dict() == {"location": 'issue "x"', "message": "bad", "severity": "error"}
