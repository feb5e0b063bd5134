"""GENIUS/ANAC import: utilities equal GENIUS's own formula, names kept, bad files refused.

The fixtures in ``tests/data/genius`` are hand-written in the shapes real ANAC files use. The
GENIUS formula below is written out from the fixtures' numbers, independently of the importer:
utility = sum of weight * evaluation / largest evaluation (discrete), and
weight * clip(offset + slope * (x - lowerbound)) or clip(parameter0 + parameter1 * x) (integer).
"""

from __future__ import annotations

import itertools
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from bruteforce import frontier_vectors
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.cli.main import main
from optimizer.errors import ScenarioFileError
from optimizer.scenario.files import dumps_scenario, loads_scenario
from optimizer.scenario.genius import import_genius, piecewise_points
from optimizer.scenario.models import Scenario, ValueShape

DATA = Path(__file__).parent / "data" / "genius"
HOLIDAY = DATA / "holiday-domain.xml"
SUPPLY = DATA / "supply-domain.xml"

DEST = "Destination ✈ (city)"
FOOD = 'Food & drinks, "extras"'
BUDGET = "Budget (k€)"


def clip(x: float) -> float:
    return min(1.0, max(0.0, x))


def genius_traveller(p: dict) -> float:
    dest = {"Zürich": 7, "São Paulo": 3.5, "東京": 10}[p[DEST]] / 10
    ratio = {"0.6": 4, "~40km": 1, "2000": 0, "007": 2}[p["Ratio"]] / 4
    food = 0.0  # largest evaluation 0.000009 < 1e-5: GENIUS counts the issue as 0
    nights = clip(-0.2 + 0.25 * (p["Nights"] - 2))
    budget = clip(0.9 - 0.05 * (p[BUDGET] - 0))
    return 0.3 * dest + 0.25 * ratio + 0.1 * food + 0.2 * nights + 0.15 * budget


def genius_agency(p: dict) -> float:
    dest = {"Zürich": 2, "São Paulo": 8, "東京": 5}[p[DEST]] / 8
    ratio = {"0.6": 0.25, "~40km": 0.5, "2000": 0.5, "007": 0.125}[p["Ratio"]] / 0.5
    food = {"None": 3, "yes": 1, "a, b & c": 2}[p[FOOD]] / 3
    nights = clip(1.4 - 0.1 * p["Nights"])
    budget = clip(-0.5 + 0.125 * p[BUDGET])
    return 0.2 * dest + 0.1 * ratio + 0.15 * food + 0.25 * nights + 0.2 * budget


def genius_buyer(p: dict) -> float:
    price = {"$3.98": 5, "$4.19": 4, "$4.40": 3, "$4.61": 2, "$4.82": 1}[p["Price"]] / 5
    delivery = {"45 days": 1, "30 days": 2, "15 days": 4}[p["Delivery"]] / 4
    payment = {"Prepay": 0, "Net 30": 6, "Net 60": 9}[p["Payment"]] / 9
    warranty = clip(0.2 + 0.2 * p["Warranty years"])
    return 0.4 * price + 0.25 * delivery + 0.2 * payment + 0.15 * warranty


def genius_seller(p: dict) -> float:
    price = {"$3.98": 0, "$4.19": 3, "$4.40": 5, "$4.61": 8, "$4.82": 10}[p["Price"]] / 10
    delivery = {"45 days": 3, "30 days": 2, "15 days": 1}[p["Delivery"]] / 3
    payment = {"Prepay": 10, "Net 30": 7, "Net 60": 1}[p["Payment"]] / 10
    warranty = clip(1.3 - 0.35 * p["Warranty years"])
    return 0.35 * price + 0.15 * delivery + 0.3 * payment + 0.2 * warranty


def all_packages(scenario) -> tuple[np.ndarray, list[dict]]:
    """Every package as grid positions and as dicts."""
    index = np.array(list(itertools.product(*[range(i.size) for i in scenario.issues])))
    return index, [scenario.decode(row) for row in index]


@pytest.fixture(scope="module")
def holiday():
    return import_genius(HOLIDAY, [DATA / "traveller.xml", DATA / "agency.xml"])


@pytest.fixture(scope="module")
def supply():
    return import_genius(SUPPLY, [DATA / "buyer.xml", DATA / "seller.xml"])


# --------------------------------------------------------------------------------------------
# Utilities equal GENIUS's
# --------------------------------------------------------------------------------------------


def test_holiday_utilities_equal_genius_on_every_package(holiday):
    index, packages = all_packages(holiday)
    assert len(packages) == 3 * 4 * 3 * 8 * 13
    U = holiday.utilities(index)
    expected = np.array([[genius_traveller(p), genius_agency(p)] for p in packages])
    assert np.max(np.abs(U - expected)) < 1e-12
    # A few through the one-package API too, with options written as in the XML.
    for p in (packages[0], packages[1234], packages[-1]):
        assert abs(holiday.utility("traveller", p) - genius_traveller(p)) < 1e-12
        assert abs(holiday.utility("agency", p) - genius_agency(p)) < 1e-12
    pkg = {DEST: "東京", "Ratio": "0.6", FOOD: "a, b & c", "Nights": 7, BUDGET: 0}
    assert abs(holiday.utility("traveller", pkg) - (0.3 + 0.25 + 0.2 + 0.15 * 0.9)) < 1e-12


def test_root_objective_weights_and_sub_objectives(supply):
    """Issues numbered from 2 under a root objective (index 1) that the profile also weights,
    and a sub-objective (index 4, weighted 0.4/0.35) whose own weight GENIUS ignores."""
    assert supply.issue_names == ["Price", "Delivery", "Payment", "Warranty years"]
    assert supply.party("buyer").preferences.weights == {
        "Price": 0.4,
        "Delivery": 0.25,
        "Payment": 0.2,
        "Warranty years": 0.15,
    }
    index, packages = all_packages(supply)
    U = supply.utilities(index)
    expected = np.array([[genius_buyer(p), genius_seller(p)] for p in packages])
    assert np.max(np.abs(U - expected)) < 1e-12


def test_names_kept_exactly_as_written(holiday):
    assert holiday.issue_names == [DEST, "Ratio", FOOD, "Nights", BUDGET]
    assert holiday.issue(DEST).options == ["Zürich", "São Paulo", "東京"]
    assert holiday.issue("Ratio").options == ["0.6", "~40km", "2000", "007"]
    assert holiday.issue(FOOD).options == ["None", "yes", "a, b & c"]
    assert holiday.party_names == ["traveller", "agency"]
    # ... and they survive a YAML round trip as strings, utilities unchanged.
    text = dumps_scenario(holiday, "yaml")
    again = loads_scenario(text, "yaml")
    assert again.issue("Ratio").options == ["0.6", "~40km", "2000", "007"]
    assert again.issue(FOOD).options == ["None", "yes", "a, b & c"]
    index, _ = all_packages(holiday)
    assert np.array_equal(again.utilities(index), holiday.utilities(index))


def test_integer_issues_from_attributes_and_range_child(holiday):
    nights, budget = holiday.issue("Nights"), holiday.issue(BUDGET)
    assert (nights.min, nights.max, nights.step_size) == (2, 9, 1)  # lowerbound/upperbound attrs
    assert (budget.min, budget.max, budget.step_size) == (0, 12, 1)  # <range> child
    shape = holiday.party("traveller").preferences.values["Nights"]
    assert isinstance(shape, ValueShape) and shape.shape == "piecewise"
    got = shape.evaluate(nights.grid(), 2, 9)
    want = [clip(-0.2 + 0.25 * (x - 2)) for x in range(2, 10)]  # clipped at both ends
    assert np.max(np.abs(got - want)) < 1e-12
    # Largest value 0.9 < 1: the value is not stretched to 1 by our normalisation.
    shape = holiday.party("traveller").preferences.values[BUDGET]
    got = shape.evaluate(budget.grid(), 0, 12)
    assert abs(got.max() - 0.9) < 1e-12
    # Old-style parameter0/parameter1 on raw x, clipped at 1 and at 0.
    a_nights = holiday.party("agency").preferences.values["Nights"].evaluate(nights.grid(), 2, 9)
    assert np.max(np.abs(a_nights - [clip(1.4 - 0.1 * x) for x in range(2, 10)])) < 1e-12
    a_budget = holiday.party("agency").preferences.values[BUDGET].evaluate(budget.grid(), 0, 12)
    assert np.max(np.abs(a_budget - [clip(-0.5 + 0.125 * x) for x in range(13)])) < 1e-12


def test_constant_evaluator_and_formulas_in_metadata(tmp_path, holiday):
    prof = _edit(
        tmp_path,
        "traveller.xml",
        '<evaluator ftype="linear" offset="0.9" slope="-0.05">',
        '<evaluator ftype="constant" parameter0="0.4">',
    )
    s = import_genius(HOLIDAY, [prof, DATA / "agency.xml"])
    budget = s.issue(BUDGET)
    got = s.party("traveller").preferences.values[BUDGET].evaluate(budget.grid(), 0, 12)
    assert np.max(np.abs(got - 0.4)) < 1e-15
    index, packages = all_packages(s)
    U = s.utilities(index)[:, 0]
    want = [
        genius_traveller(p) - 0.15 * clip(0.9 - 0.05 * p[BUDGET]) + 0.15 * 0.4 for p in packages
    ]
    assert np.max(np.abs(U - want)) < 1e-12
    formulas = holiday.metadata["genius"]["integer_evaluators"]
    assert formulas["traveller"]["Nights"] == "clip(-0.2 + 0.25 * (x - 2), 0, 1)"
    assert formulas["agency"]["Nights"] == "clip(1.4 + -0.1 * x, 0, 1)"


def test_nested_items_are_not_options(holiday):
    """Deeper <item>s (evaluation 100 and 1000) would change the largest evaluation if read."""
    values = holiday.party("agency").preferences.values[DEST]
    assert values == {"Zürich": 0.25, "São Paulo": 1.0, "東京": 0.625}


def test_all_zero_evaluations(holiday):
    assert holiday.party("traveller").preferences.values[FOOD] == {
        "None": 0.0,
        "yes": 0.0,
        "a, b & c": 0.0,
    }


def test_reservation_discount_and_no_deal(holiday, supply):
    assert holiday.party("traveller").reservation_value == 0.35
    assert holiday.party("agency").reservation_value == 0.2
    assert holiday.metadata["genius"]["discount_factors"] == {"traveller": 0.9}
    assert supply.metadata["genius"]["discount_factors"] == {"buyer": 1.0, "seller": 0.75}
    assert supply.reservation("buyer") == 0.3 and supply.reservation("seller") == 0.25
    assert holiday.metadata["genius"]["domain"] == "holiday-domain.xml"
    assert all(i.status == "open" and i.value is None for i in holiday.issues)
    assert holiday.reference() is None
    assert holiday.utility_scale == 1


def test_weights_not_summing_to_one_stay_exact(holiday, supply):
    """agency's weights sum to 0.9: GENIUS does not normalise them, so neither do we."""
    assert holiday.party("agency").utility_scale == pytest.approx(0.9, abs=1e-15)
    assert holiday.party("traveller").utility_scale is None
    assert supply.party("buyer").utility_scale is None
    assert "0.9" in " ".join(holiday.metadata["genius"]["notes"])
    best = {DEST: "São Paulo", "Ratio": "2000", FOOD: "None", "Nights": 2, BUDGET: 12}
    assert abs(holiday.utility("agency", best) - 0.9) < 1e-12


@settings(max_examples=150, deadline=None)
@given(
    lo=st.integers(-20, 20),
    width=st.integers(0, 40),
    offset=st.floats(-2, 2, allow_nan=False),
    slope=st.floats(-1, 1, allow_nan=False),
)
def test_piecewise_points_reproduce_clipped_lines(lo, width, offset, slope):
    hi = lo + width
    x = np.arange(lo, hi + 1, dtype=float)
    evals = np.clip(offset + slope * (x - lo), 0.0, 1.0)
    shape = ValueShape(shape="piecewise", points=piecewise_points(lo, hi, evals))
    assert np.max(np.abs(shape.evaluate(x, lo, hi) - evals)) < 1e-12
    assert len(shape.points) <= 7


# --------------------------------------------------------------------------------------------
# Party names
# --------------------------------------------------------------------------------------------


def test_colliding_profile_names_are_disambiguated(tmp_path):
    other = tmp_path / "traveller.xml"
    shutil.copy(DATA / "traveller.xml", other)
    s = import_genius(HOLIDAY, [DATA / "traveller.xml", other], name="Twins")
    assert s.name == "Twins"
    assert s.party_names == ["traveller", "traveller (2)"]
    assert any("traveller (2)" in n for n in s.metadata["genius"]["notes"])


# --------------------------------------------------------------------------------------------
# Refused input: clear errors naming the file and element
# --------------------------------------------------------------------------------------------


def _edit(tmp_path: Path, source: str, old: str, new: str, name: str | None = None) -> Path:
    text = (DATA / source).read_text(encoding="utf-8")
    assert old in text
    out = tmp_path / (name or source)
    out.write_text(text.replace(old, new), encoding="utf-8")
    return out


def test_unsupported_nonlinear_profile():
    dom = DATA / "nonlinear.xml"  # a profile also reads as its own domain
    with pytest.raises(ScenarioFileError, match=r"nonlinear\.xml: <utility>.*non-linear"):
        import_genius(dom, [dom, dom])


def test_profile_space_types(tmp_path):
    """GENIUS reads any utility_space type but its non-linear ones as linear additive."""
    anything = _edit(tmp_path, "traveller.xml", "<utility_space>", '<utility_space type="any">')
    assert import_genius(HOLIDAY, [anything, DATA / "agency.xml"]).party_names[0] == "traveller"
    for kind in ("nonlinear", "constraint"):
        bad = _edit(tmp_path, "traveller.xml", "<utility_space>", f'<utility_space type="{kind}">')
        with pytest.raises(ScenarioFileError, match=f"type='{kind}'.*only linear additive"):
            import_genius(HOLIDAY, [bad, DATA / "agency.xml"])


def test_real_valued_issue_is_refused():
    with pytest.raises(ScenarioFileError, match=r"Price per kWh.*real-valued"):
        import_genius(DATA / "real-domain.xml", [DATA / "traveller.xml"] * 2)


def test_malformed_xml_and_entity_bomb(tmp_path):
    with pytest.raises(ScenarioFileError, match=r"broken\.xml: not well-formed XML at line 6"):
        import_genius(HOLIDAY, [DATA / "broken.xml", DATA / "traveller.xml"])
    with pytest.raises(ScenarioFileError, match=r"bomb\.xml: DOCTYPE/ENTITY"):
        import_genius(DATA / "bomb.xml", [DATA / "traveller.xml"] * 2)
    # The same bomb in UTF-16 (no ASCII "<!DOCTYPE" bytes to spot) is refused too ...
    text = (DATA / "bomb.xml").read_text(encoding="utf-8")
    wide = tmp_path / "bomb16.xml"
    wide.write_bytes(
        text.replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")
    )
    with pytest.raises(ScenarioFileError, match=r"bomb16\.xml: DOCTYPE/ENTITY"):
        import_genius(wide, [DATA / "traveller.xml"] * 2)
    # ... while a UTF-16 profile without a DTD reads fine.
    text = (DATA / "traveller.xml").read_text(encoding="utf-8")
    wide = tmp_path / "wide.xml"
    wide.write_bytes(text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"))
    assert import_genius(HOLIDAY, [wide, DATA / "agency.xml"]).party_names == ["wide", "agency"]
    empty = tmp_path / "empty.xml"
    empty.write_text("  \n", encoding="utf-8")
    with pytest.raises(ScenarioFileError, match=r"empty\.xml: the file is empty"):
        import_genius(HOLIDAY, [empty, DATA / "agency.xml"])


@pytest.mark.parametrize(
    ("source", "old", "new", "message"),
    [
        (
            "traveller.xml",
            '<weight index="5" value="0.15">',
            '<weight index="9" value="0.15">',
            r'no <weight index="5"> for issue \'Budget \(k€\)\'',
        ),
        (
            "traveller.xml",
            'ftype="linear" offset="0.9"',
            'ftype="triangular" offset="0.9"',
            r"Budget \(k€\).*evaluator type 'triangular' is not supported",
        ),
        (
            "traveller.xml",
            'value="~40km" evaluation="1"',
            'value="~40 km" evaluation="1"',
            r"has no value '~40 km'",
        ),
        (
            "traveller.xml",
            'value="2000" evaluation="0"',
            'value="2000"',
            r"gives no evaluation for '2000'",
        ),
        (
            "traveller.xml",
            'evaluation="3.5"',
            'evaluation="three"',
            r"evaluation='three' is not a number",
        ),
        (
            "agency.xml",
            '<range lowerbound="2" upperbound="9"/>\n\t\t<evaluator ftype="linear" parameter0="1.4" parameter1="-0.1"/>',
            "",
            r"Nights.*integer issue without an <evaluator>",
        ),
    ],
)
def test_bad_profiles_name_file_and_element(tmp_path, source, old, new, message):
    bad = _edit(tmp_path, source, old, new)
    with pytest.raises(ScenarioFileError, match=message) as info:
        import_genius(HOLIDAY, [bad, DATA / "agency.xml"])
    assert str(bad) in str(info.value)


def test_missing_issue_in_profile(tmp_path):
    text = (DATA / "traveller.xml").read_text(encoding="utf-8")
    start = text.index('\t<issue index="5"')
    end = text.index("</issue>", start) + len("</issue>")
    bad = tmp_path / "partial.xml"
    bad.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(ScenarioFileError, match=r'partial\.xml: .*no <issue index="5">'):
        import_genius(HOLIDAY, [bad, DATA / "agency.xml"])


def test_other_bad_inputs(tmp_path):
    with pytest.raises(ScenarioFileError, match="no such file"):
        import_genius(tmp_path / "nope.xml", [DATA / "traveller.xml"] * 2)
    with pytest.raises(ScenarioFileError, match="at least two profiles"):
        import_genius(HOLIDAY, [DATA / "traveller.xml"])
    with pytest.raises(ScenarioFileError, match="domain file rather than"):
        import_genius(HOLIDAY, [HOLIDAY, DATA / "traveller.xml"])
    js = tmp_path / "profile.json"
    js.write_text('{"LinearAdditiveUtilitySpace": {}}', encoding="utf-8")
    with pytest.raises(ScenarioFileError, match="JSON"):
        import_genius(HOLIDAY, [js, DATA / "traveller.xml"])
    html = tmp_path / "page.xml"
    html.write_text("<html><body/></html>", encoding="utf-8")
    with pytest.raises(ScenarioFileError, match=r"root element is <html>"):
        import_genius(html, [DATA / "traveller.xml"] * 2)
    with pytest.raises(ScenarioFileError, match=r"traveller\.xml: .*Price.* has no value '0\.6'"):
        import_genius(SUPPLY, [DATA / "traveller.xml", DATA / "seller.xml"])


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def test_cli_prints_yaml_and_writes_files(tmp_path, capsys):
    args = ["import-genius", str(HOLIDAY), str(DATA / "traveller.xml"), str(DATA / "agency.xml")]
    assert main(args) == 0
    out, err = capsys.readouterr()
    data = yaml.safe_load(out)
    assert data["issues"][1]["options"] == ["0.6", "~40km", "2000", "007"]
    assert "agency" in err  # the weight-sum note
    target = tmp_path / "holiday.yaml"
    assert main([*args, "-o", str(target)]) == 0
    assert target.exists()
    capsys.readouterr()
    assert main([*args, "-o", str(target)]) == 1
    assert "holiday.yaml exists; pass --force to replace it" in capsys.readouterr().err
    assert main([*args, "-o", str(target), "--force"]) == 0
    as_json = tmp_path / "holiday.json"
    assert main([*args, "-o", str(as_json)]) == 0
    loaded = json.loads(as_json.read_text(encoding="utf-8"))
    assert loaded["parties"][1]["utility_scale"] == pytest.approx(0.9)
    assert main(["validate", str(target)]) == 0


def test_cli_errors_are_messages_not_tracebacks(capsys):
    assert main(["import-genius", str(HOLIDAY), str(DATA / "broken.xml"), str(HOLIDAY)]) == 1
    err = capsys.readouterr().err
    assert "broken.xml: not well-formed XML" in err and "Traceback" not in err


# --------------------------------------------------------------------------------------------
# Frontier and Nash point of an imported domain (when the frontier engine is present)
# --------------------------------------------------------------------------------------------


def test_imported_frontier_and_nash_match_brute_force(supply):

    from optimizer import frontier

    result = frontier(supply)
    assert result.exact
    # Brute force on GENIUS's own formula: packages that clear both reservation values.
    _, packages = all_packages(supply)
    G = np.array([[genius_buyer(p), genius_seller(p)] for p in packages])
    d = np.array([0.3, 0.25])
    ok = (d - 1e-9 <= G).all(axis=1)
    want = frontier_vectors(G[ok])
    got = result.utility_matrix()
    got = got[(got >= d - 1e-9).all(axis=1)]
    got = got[np.lexsort(got.T[::-1])]
    assert got.shape == want.shape and np.max(np.abs(got - want)) < 1e-9
    gains = G[ok] - d
    nash_best = np.max(np.where((gains > 0).all(axis=1), gains.prod(axis=1), -np.inf))
    nash = result.packages[result.concepts["nash"]]
    pkg = {k: (int(v) if k == "Warranty years" else v) for k, v in nash.package.items()}
    product = (genius_buyer(pkg) - 0.3) * (genius_seller(pkg) - 0.25)
    assert abs(product - nash_best) < 1e-9


def _has_command(name: str) -> bool:
    from optimizer.cli.main import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return name in sub.choices


@pytest.mark.skipif(not _has_command("frontier"), reason="dealopt frontier not registered yet")
def test_cli_import_then_frontier_json(tmp_path, capsys):
    path = tmp_path / "supply.yaml"
    args = ["import-genius", str(SUPPLY), str(DATA / "buyer.xml"), str(DATA / "seller.xml")]
    assert main([*args, "-o", str(path)]) == 0
    capsys.readouterr()
    assert main(["frontier", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["parties"] == ["buyer", "seller"] and data["exact"] is True
    _, packages = all_packages(Scenario.load(path))
    G = np.array([[genius_buyer(p), genius_seller(p)] for p in packages])
    want = frontier_vectors(G[(np.array([0.3, 0.25]) - 1e-9 <= G).all(axis=1)])
    got = np.array([[p["utilities"]["buyer"], p["utilities"]["seller"]] for p in data["packages"]])
    got = got[(got >= np.array([0.3, 0.25]) - 1e-9).all(axis=1)]
    assert len(got) == len(want)
    for p in data["packages"]:
        pkg = p["package"]
        assert isinstance(pkg["Warranty years"], int) and isinstance(pkg["Price"], str)
        assert abs(p["utilities"]["buyer"] - genius_buyer(pkg)) < 1e-9


LAPTOP = DATA / "laptop-domain.xml"


def test_weights_off_by_rounding_are_normalised_with_a_note():
    """Issue 11: the classic Laptop profiles' weights sum to 1.000051804; they are divided by
    their sum (a note says so) instead of refusing the domain."""
    s = import_genius(LAPTOP, [DATA / "laptop-buyer-rounded.xml", DATA / "laptop-flat.xml"])
    buyer = s.party("laptop-buyer-rounded")
    assert buyer.utility_scale is None
    assert math.fsum(buyer.preferences.weights.values()) == pytest.approx(1.0, abs=1e-15)
    total = 1.000051804
    assert buyer.preferences.weights["Laptop"] == pytest.approx(0.6666 / total, rel=1e-15)
    notes = " ".join(s.metadata["genius"]["notes"])
    assert "1.000051804" in notes and "rounding" in notes
    best = {"Laptop": "Macintosh", "Harddisk": "120 Gb", "External Monitor": "23'' LCD"}
    assert s.utility("laptop-buyer-rounded", best) == pytest.approx(1.0, abs=1e-12)
    deal = {"Laptop": "Dell", "Harddisk": "60 Gb", "External Monitor": "19'' LCD"}
    genius = 0.6666 * 0.5 + 0.111140902 * 0.2 + 0.222310902 * 0.3
    assert s.utility("laptop-buyer-rounded", deal) == pytest.approx(genius / total, abs=1e-12)


def test_weights_clearly_above_one_are_imported_as_written_with_a_note(capsys):
    """Issue 11: JapanTrip-like weights summing to 1.1 are imported as written (utilities up to
    1.1); the note says GENIUS would cap bids at 1."""
    s = import_genius(LAPTOP, [DATA / "laptop-seller-overweight.xml", DATA / "laptop-flat.xml"])
    seller = s.party("laptop-seller-overweight")
    assert seller.utility_scale == pytest.approx(1.1, abs=1e-15)
    assert seller.preferences.weights == {"Laptop": 0.5, "Harddisk": 0.3, "External Monitor": 0.3}
    best = {"Laptop": "Dell", "Harddisk": "60 Gb", "External Monitor": "19'' LCD"}
    assert s.utility("laptop-seller-overweight", best) == pytest.approx(1.1, abs=1e-12)
    other = {"Laptop": "HP", "Harddisk": "80 Gb", "External Monitor": "20'' LCD"}
    assert s.utility("laptop-seller-overweight", other) == pytest.approx(
        0.5 * 0.6 + 0.3 * 0.5 + 0.3 * 0.4, abs=1e-12
    )
    notes = " ".join(s.metadata["genius"]["notes"])
    assert "1.1" in notes and "GENIUS would cap" in notes
    code = main(
        [
            "import-genius",
            str(LAPTOP),
            str(DATA / "laptop-seller-overweight.xml"),
            str(DATA / "laptop-flat.xml"),
        ]
    )
    assert code == 0
    assert "GENIUS would cap" in capsys.readouterr().err


def test_flat_profile_format_is_read():
    """Issue 11: older profiles hold <weight> and <issue> directly in <utility_space>."""
    s = import_genius(LAPTOP, [DATA / "laptop-flat.xml", DATA / "laptop-buyer-rounded.xml"])
    flat = s.party("laptop-flat")
    assert flat.preferences.weights == {"Laptop": 0.2, "Harddisk": 0.5, "External Monitor": 0.3}
    assert flat.utility_scale is None
    pkg = {"Laptop": "Dell", "Harddisk": "60 Gb", "External Monitor": "20'' LCD"}
    assert s.utility("laptop-flat", pkg) == pytest.approx(0.2 * 0.5 + 0.5 * 0.1 + 0.3 * 0.5)
    # a flat file also serves as a domain (its issues are the domain's)
    again = import_genius(DATA / "laptop-flat.xml", [DATA / "laptop-flat.xml"] * 2)
    assert again.issue_names == ["Laptop", "Harddisk", "External Monitor"]
