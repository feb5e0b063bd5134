"""Streamlit AppTest tests of every page: load each example, edit, search, check what is shown.

What the pages show is compared with the library's own answers for the same (edited) scenario,
so these tests check the wiring, not hard-coded numbers.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from optimizer import Scenario
from optimizer.scenario.files import scenario_from_data
from optimizer.scenario.models import format_percent

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `ui` is an app folder, not an installed package
    sys.path.insert(0, str(ROOT))

from ui import state, views  # noqa: E402

APP = str(ROOT / "ui" / "app.py")
EXAMPLES = sorted(
    p for p in (ROOT / "examples").iterdir() if p.suffix in (".yaml", ".yml", ".json")
)
PAGES = ["screens/scenario.py", "screens/winwin.py", "screens/tradeoff.py", "screens/progress.py"]
TIMEOUT = 120


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_data.clear()
    yield


def _app(example: str | None = "saas_renewal", monkeypatch=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if example is not None and at.session_state[state.SOURCE] != f"{example}.yaml":
        at.session_state["example_choice"] = example
        at.button(key="load_example").click().run()
    return at


def _goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def wkey(at: AppTest, *parts) -> str:
    """The app's widget key for the loaded scenario (``state.wkey`` inside the session)."""
    return f"w{at.session_state[state.REV]}:" + ":".join(str(p) for p in parts)


def _scenario(at: AppTest) -> Scenario:
    s = at.session_state[state.SCENARIO]
    assert s is not None, at.session_state[state.PROBLEMS]
    return s


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown]
    parts += [e.value for e in at.error] + [i.value for i in at.info]
    parts += [w.value for w in at.warning] + [c.value for c in at.caption]
    return "\n".join(str(p) for p in parts)


def _table(at: AppTest, key: str | None = None):
    frames = [d.value for d in at.dataframe]
    assert frames, "no table on the page"
    return frames[0]


def _expected_table(scenario: Scenario, result) -> list[list[str]]:
    """The table the app must show for ``result`` (annotated with P(win-win) under ranges)."""
    from optimizer.searches.uncertainty import annotate

    annotate(scenario, result)
    names = [f"Package {i + 1}" for i in range(len(result.packages))]
    cells, _ = views.package_table(
        scenario, result.packages, names, result.reference_utilities, result.parties
    )
    return cells.values.tolist()


# --------------------------------------------------------------------------------------------
# Navigation
# --------------------------------------------------------------------------------------------


def test_pages_discovered_in_declared_order(tmp_path: Path) -> None:
    from ui.navigation import discover_pages as discover

    (tmp_path / "zeta.py").write_text('PAGE_ORDER = 5\nPAGE_TITLE = "First"\n')
    (tmp_path / "30_middle.py").write_text("x = 1\n")
    (tmp_path / "alpha.py").write_text('PAGE_ICON = ":material/star:"\n')
    (tmp_path / "_private.py").write_text("PAGE_ORDER = 1\n")
    (tmp_path / "broken.py").write_text("def (:\n")
    specs = discover(tmp_path)
    assert [s.title for s in specs] == ["First", "Middle", "Alpha", "Broken"]
    assert specs[2].icon == ":material/star:"
    real = discover(ROOT / "ui" / "screens")
    titles = [s.title for s in real]
    assert titles[:4] == ["Scenario", "Win-win packages", "Trade-off map", "Progress"]


def test_every_discovered_page_renders_without_exception() -> None:
    """Pages added by other features (one file each) run inside the app too."""
    from ui.navigation import discover_pages

    at = _app()
    for spec in discover_pages():
        _goto(at, f"screens/{spec.path.name}")
        assert not at.exception, spec.path.name
        assert any(h.value == spec.title for h in at.title), spec.path.name


def test_app_starts_on_env_scenario(monkeypatch) -> None:
    monkeypatch.setenv("DEALOPT_SCENARIO", "examples/saas_renewal.yaml")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert _scenario(at).name.startswith("SaaS renewal")
    assert "7 issues, 2 parties" in _texts(at)


def test_app_reports_unreadable_env_scenario(monkeypatch, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    monkeypatch.setenv("DEALOPT_SCENARIO", str(bad))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert "not valid YAML" in _texts(at)
    assert _scenario(at) is not None  # fell back to an example


# --------------------------------------------------------------------------------------------
# Every page on every example
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", [p.stem for p in EXAMPLES])
def test_every_example_every_page_and_edits(example: str) -> None:
    """Load the example, open every page, edit a weight and a status: results follow the engine."""
    from optimizer.reports.summary import progress_summary

    at = _app(example)
    s = _scenario(at)
    assert s == Scenario.load(next(p for p in EXAMPLES if p.stem == example))
    for page in PAGES:
        _goto(at, page)
        assert not at.error, (page, [e.value for e in at.error])
    _goto(at, "screens/winwin.py")
    _check_winwin(at, s)

    # Edit one of our plain-number weights (the largest) on the Scenario page.
    _goto(at, "screens/scenario.py")
    us = s.party(s.us_name)
    plain = {k: float(v) for k, v in us.preferences.weights.items() if isinstance(v, int | float)}
    if len(plain) >= 2:
        issue = max(plain, key=plain.get)
        j = s.party_names.index(s.us_name)
        at.slider(key=wkey(at, "weight", j, issue)).set_value(plain[issue] / 2).run()
        assert not at.exception
        s = _scenario(at)
        assert float(s.party(s.us_name).preferences.weights[issue]) == plain[issue] / 2

    # Mark an open issue agreed on the Progress page.
    _goto(at, "screens/progress.py")
    open_issues = [i for i in s.issues if i.status == "open"]
    if open_issues:
        target = open_issues[0].name
        at.selectbox(key=wkey(at, "progress_status", target)).set_value("agreed").run()
        assert not at.exception
        s = _scenario(at)
        assert s.issue(target).status == "agreed"
    summary = progress_summary(s)
    assert summary.text in _texts(at)

    _goto(at, "screens/winwin.py")
    _check_winwin(at, s)


def _check_winwin(at: AppTest, s: Scenario) -> None:
    from optimizer.searches.improve import improve
    from optimizer.searches.uncertainty import has_ranges

    result = improve(s, objective="maxmin", top=3)
    if result.packages:
        table = _table(at).values.tolist()
        assert table == _expected_table(s, result)  # estimate ranges: also P(win-win)
        if has_ranges(s):
            # "> 99%" / "< 1%" at the ends, never a rounded 100% or 0% (issue 11)
            assert table[-1][1:] == [format_percent(p.p_win_win) for p in result.packages]
        else:
            assert all(p.p_win_win is None for p in result.packages)
    else:
        assert (result.explanation or "No package") in _texts(at)


# --------------------------------------------------------------------------------------------
# Edits drive the results
# --------------------------------------------------------------------------------------------


def test_weight_edit_changes_winwin_table() -> None:
    from optimizer.searches.improve import improve

    at = _app()
    _goto(at, "screens/winwin.py")
    before = _table(at).values.tolist()
    s0 = _scenario(at)
    assert before == _expected_table(s0, improve(s0, objective="maxmin", top=3))

    _goto(at, "screens/scenario.py")
    j = s0.party_names.index(s0.us_name)
    key = wkey(at, "weight", j, "renewal price cap")
    at.slider(key=key).set_value(0.0).run()
    assert not at.exception
    s1 = _scenario(at)
    assert s1.party(s0.us_name).preferences.weights["renewal price cap"] == 0
    # The share captions follow the new weights.
    total = sum(float(w) for w in s1.party(s0.us_name).preferences.weights.values())
    share = float(s1.party(s0.us_name).preferences.weights["price per seat"]) / total
    assert f"share {share:.0%} of {s0.us_name}'s total" in _texts(at)

    _goto(at, "screens/winwin.py")
    after = _table(at).values.tolist()
    expected = improve(s1, objective="maxmin", top=3)
    assert after == _expected_table(s1, expected)
    assert after != before


def test_objective_and_k_change_the_table() -> None:
    from optimizer.searches.improve import improve

    at = _app()
    _goto(at, "screens/winwin.py")
    at.selectbox(key="winwin_objective").set_value("welfare").run()
    at.number_input(key="winwin_top").set_value(2).run()
    assert not at.exception
    s = _scenario(at)
    result = improve(s, objective="welfare", top=2)
    table = _table(at)
    assert list(table.columns) == [views.ON_TABLE] + [
        f"Package {i + 1}" for i in range(len(result.packages))
    ]
    assert table.values.tolist() == _expected_table(s, result)


def test_status_change_on_progress_page_updates_summary_and_search() -> None:
    from optimizer.reports.summary import progress_summary
    from optimizer.searches.improve import improve

    at = _app()
    _goto(at, "screens/progress.py")
    s0 = _scenario(at)
    assert progress_summary(s0).text in _texts(at)

    for issue in ("support tier", "payment terms"):
        at.selectbox(key=wkey(at, "progress_status", issue)).set_value("agreed").run()
        assert not at.exception
    s1 = _scenario(at)
    assert s1.issue("support tier").status == "agreed"
    assert s1.issue("payment terms").status == "agreed"
    text = _texts(at)
    summary = progress_summary(s1)
    assert summary.text in text
    assert summary.text != progress_summary(s0).text
    assert "support tier" in summary.text and "payment terms" in summary.text
    assert "### Agreed (4)" in text
    best = improve(s1, objective="maxmin", top=1)
    for line in views.differences(s1, best.packages[0].package) if best.packages else []:
        assert line in text
    # The edit is the session's scenario: the win-win page sees it too.
    _goto(at, "screens/winwin.py")
    assert _table(at).values.tolist() == _expected_table(s1, improve(s1, top=3))


def test_marking_an_issue_without_value_agreed_settles_it() -> None:
    at = _app()
    data = copy.deepcopy(at.session_state[state.DATA])
    data["issues"][4].pop("value")  # support tier: nothing on the table
    at.session_state[state.DATA] = data
    at.session_state[state.SCENARIO] = scenario_from_data(data)
    _goto(at, "screens/progress.py")
    assert "nothing on the table" in _texts(at)
    at.selectbox(key=wkey(at, "progress_status", "support tier")).set_value("agreed").run()
    assert not at.exception
    s = _scenario(at)
    assert s.issue("support tier").status == "agreed"
    assert s.issue("support tier").value is not None


def test_option_scores_edited_in_the_score_grid() -> None:
    from optimizer.searches.improve import improve

    at = _app()
    before = _scenario(at)
    us = before.party_names.index(before.us_name)
    # Northwind now cares only for net 30 payment terms.
    at.text_input(key=wkey(at, "score", "payment terms", "net 30", us)).set_value("100").run()
    at.text_input(key=wkey(at, "score", "payment terms", "net 90", us)).set_value("0").run()
    assert not at.exception
    s = _scenario(at)
    scores = s.party(s.us_name).preferences.values["payment terms"]
    assert scores["net 30"] == 100 and scores["net 90"] == 0
    _goto(at, "screens/winwin.py")
    assert _table(at).values.tolist() == _expected_table(s, improve(s, top=3))


# --------------------------------------------------------------------------------------------
# Trade-off map
# --------------------------------------------------------------------------------------------


def test_tradeoff_selection_and_comparison() -> None:
    from optimizer.searches.frontier import frontier

    at = _app()
    _goto(at, "screens/tradeoff.py")
    s = _scenario(at)
    result = frontier(s)
    assert len(at.get("plotly_chart")) == 1
    n = len(result.packages)
    assert f"{n} frontier point(s)" in _texts(at)
    # A chart selection arrives as the chart's state: the page shows that package.
    pick = n - 1
    at.session_state["tradeoff_chart"] = {
        "selection": {"points": [{"customdata": pick, "point_index": 0}], "point_indices": []}
    }
    at.run()
    assert not at.exception
    assert f"#### Point {pick}" in _texts(at)
    table = _table(at)
    pkg = result.packages[pick]
    assert table[f"Point {pick}"].tolist()[: len(s.issues)] == [
        i.display(pkg.package[i.name]) for i in s.issues
    ]
    for d in views.differences(s, pkg.package):
        assert d in _texts(at)
    # Compare two packages side by side.
    at.session_state["tradeoff_pick_a"] = 0
    at.session_state["tradeoff_pick_b"] = 1
    at.run()
    assert not at.exception
    tables = [d.value for d in at.dataframe]
    assert [list(t.columns)[1] for t in tables] == ["Point 0", "Point 1"]
    for k, t in enumerate(tables):
        p = result.packages[k]
        assert t.iloc[len(s.issues), 1] == views.fmt_utility(p.utilities[s.party_names[0]])


# --------------------------------------------------------------------------------------------
# Scenario editing: invalid entries kept and flagged, YAML, blank, download
# --------------------------------------------------------------------------------------------


def test_invalid_entry_is_flagged_next_to_field_and_kept() -> None:
    at = _app()
    key = wkey(at, "issue", 0, "min")  # price per seat: 40..60
    at.text_input(key=key).set_value("70").run()
    assert not at.exception
    assert at.session_state[state.SCENARIO] is None
    assert at.session_state[state.DATA]["issues"][0]["min"] == 70
    flagged = [e.value for e in at.error]
    assert any("price per seat" in e and "is above max" in e for e in flagged)
    assert at.text_input(key=key).value == "70"
    # Result pages say what to fix instead of failing; the entry survives the round trip.
    for page in PAGES[1:]:
        _goto(at, page)
        assert "problem(s); fix them on the Scenario page" in _texts(at)
    _goto(at, "screens/scenario.py")
    assert at.text_input(key=key).value == "70"
    assert "min: 70" in state.dump_yaml(at.session_state[state.DATA])


def test_rename_issue_keeps_references() -> None:
    at = _app()
    at.text_input(key=wkey(at, "issue", 2, "name")).set_value("contract term").run()
    assert not at.exception
    s = _scenario(at)
    assert "contract term" in s.issue_names
    assert all("contract term" in p.preferences.weights for p in s.parties)
    # A name already taken is refused next to the field; the typed text stays, nothing is lost.
    key = wkey(at, "issue", 2, "name")
    at.text_input(key=key).set_value("seats").run()
    assert not at.exception
    assert any("another issue is already called 'seats'" in e.value for e in at.error)
    assert at.text_input(key=key).value == "seats"
    assert _scenario(at) == s


def test_yaml_tab_applies_and_keeps_bad_text() -> None:
    at = _app()
    key = wkey(at, "yaml")
    bad = "name: [broken\nparties: 1\n"
    at.text_area(key=key).set_value(bad)
    at.button(key="apply_yaml").click().run()
    assert not at.exception
    assert "not valid YAML" in _texts(at)
    assert at.session_state["dealopt_yaml_text"] == bad
    assert _scenario(at).name.startswith("SaaS")  # the scenario itself is untouched
    good = (
        (ROOT / "examples" / "saas_renewal.yaml")
        .read_text()
        .replace("name: SaaS renewal", "name: Edited renewal")
    )
    at.text_area(key=wkey(at, "yaml")).set_value(good)
    at.button(key="apply_yaml").click().run()
    assert not at.exception
    assert _scenario(at).name.startswith("Edited renewal")


def test_blank_scenario_and_adding_issues() -> None:
    at = _app()
    at.button(key="start_blank").click().run()
    s = _scenario(at)
    assert s.name == "New negotiation" and len(s.issues) == 1
    at.button(key=wkey(at, "add_num")).click().run()
    assert not at.exception
    s = _scenario(at)
    assert [i.kind for i in s.issues] == ["categorical", "numeric"]
    _goto(at, "screens/winwin.py")
    _goto(at, "screens/tradeoff.py")
    assert not at.error


def test_constraints_yaml_error_is_shown_and_kept() -> None:
    at = _app()
    key = wkey(at, "constraints_yaml")
    at.text_area(key=key).set_value("- type: acceptable\n  issue: nowhere\n  min: 3\n").run()
    assert not at.exception
    assert at.session_state[state.SCENARIO] is None
    assert any("constraint" in e.value and "nowhere" in e.value for e in at.error)
    at.text_area(key=key).set_value("- [unclosed\n").run()
    assert "not valid YAML" in _texts(at)
    assert at.text_area(key=key).value == "- [unclosed\n"


def test_upload_valid_invalid_and_unreadable_files() -> None:
    at = _app()
    house = ROOT / "examples" / "house_purchase.json"
    at.file_uploader(key="upload").upload(house.name, house.read_bytes(), "application/json")
    at.run()
    assert not at.exception
    assert _scenario(at) == Scenario.load(house)
    assert at.session_state[state.SOURCE] == "house_purchase.json"

    # A file that parses but breaks rules: kept as typed, every problem located.
    text = (ROOT / "examples" / "saas_renewal.yaml").read_text().replace("value: 56", "value: 61")
    at.file_uploader(key="upload").set_value(("mine.yaml", text.encode(), "text/yaml"))
    at.run()
    assert not at.exception
    assert at.session_state[state.SCENARIO] is None
    assert at.session_state[state.DATA]["issues"][0]["value"] == 61
    assert any("price per seat" in e.value and "61" in e.value for e in at.error)

    # Not YAML at all: a message, and the text waits in the YAML tab to be fixed.
    at.file_uploader(key="upload").set_value(("bad.yaml", b"name: [oops\n", "text/yaml"))
    at.run()
    assert not at.exception
    assert "not valid YAML" in _texts(at)
    assert at.session_state["dealopt_yaml_text"] == "name: [oops\n"
    assert at.session_state[state.DATA]["issues"][0]["value"] == 61  # previous data untouched


def test_no_win_win_package_shows_the_engines_explanation() -> None:
    from optimizer.searches.improve import improve

    at = _app()
    _goto(at, "screens/progress.py")
    for issue in [i.name for i in _scenario(at).issues if i.status != "agreed"]:
        at.selectbox(key=wkey(at, "progress_status", issue)).set_value("agreed").run()
        assert not at.exception
    s = _scenario(at)
    assert all(i.status == "agreed" for i in s.issues)
    result = improve(s, top=3)
    assert not result.packages and result.explanation
    assert result.explanation in _texts(at)
    _goto(at, "screens/winwin.py")
    assert not at.dataframe
    assert result.explanation in _texts(at)


# --------------------------------------------------------------------------------------------
# Engine failures and caching
# --------------------------------------------------------------------------------------------


def test_engine_failure_is_a_message_not_a_traceback(monkeypatch) -> None:
    import optimizer.searches.improve
    from optimizer.errors import SolverError

    def broken(*args, **kwargs):
        raise SolverError("HiGHS is not available on this machine")

    monkeypatch.setattr(optimizer.searches.improve, "improve", broken)
    at = _app()
    _goto(at, "screens/winwin.py")
    assert "HiGHS is not available on this machine" in _texts(at)

    def crash(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(optimizer.searches.improve, "improve", crash)
    st.cache_data.clear()
    at.run()
    assert not at.exception
    assert "Something went wrong (ZeroDivisionError): division by zero" in _texts(at)


def test_a_failing_page_shows_a_message(monkeypatch) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError("table layout failed")

    monkeypatch.setattr(views, "package_table", boom)
    at = _app()
    _goto(at, "screens/winwin.py")
    assert "Something went wrong (RuntimeError): table layout failed" in _texts(at)


def test_missing_engine_module_is_explained(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "optimizer.searches.frontier", None)
    at = _app()
    _goto(at, "screens/tradeoff.py")
    assert "not available in this installation yet" in _texts(at)


def test_rerender_does_not_recompute(monkeypatch) -> None:
    import optimizer.searches.improve

    calls: list[str] = []
    real = optimizer.searches.improve.improve

    def counting(scenario, **kwargs):
        calls.append(kwargs["objective"])
        return real(scenario, **kwargs)

    monkeypatch.setattr(optimizer.searches.improve, "improve", counting)
    at = _app()
    _goto(at, "screens/winwin.py")
    n = len(calls)
    assert n >= 1
    at.run()
    at.run()
    _goto(at, "screens/scenario.py")
    _goto(at, "screens/winwin.py")
    assert len(calls) == n


# --------------------------------------------------------------------------------------------
# Constraints through the form; ranges for estimates
# --------------------------------------------------------------------------------------------


def _add_through_form(at: AppTest, kind: str, widgets: list[tuple[str, tuple, object]]) -> None:
    """Pick the type, fill the form's widgets (kind, key parts, value), click Add."""
    at.selectbox(key=wkey(at, "newc", "type")).set_value(kind).run()
    for widget, parts, value in widgets:
        getattr(at, widget)(key=wkey(at, "newc", *parts)).set_value(value).run()
    at.button(key=wkey(at, "newc", "add")).click().run()
    assert not at.exception, [e.value for e in at.exception]


def _winwin_follows(at: AppTest) -> list:
    _goto(at, "screens/winwin.py")
    s = _scenario(at)
    _check_winwin(at, s)
    shown = [d.value.values.tolist() for d in at.dataframe] or _texts(at)
    _goto(at, "screens/scenario.py")
    return shown


def test_constraints_added_through_form_and_deleted() -> None:
    at = _app()
    n0 = len(_scenario(at).constraints)
    tables = [_winwin_follows(at)]
    _add_through_form(
        at,
        "acceptable",
        [
            ("selectbox", ("party",), "Northwind Ops"),
            ("selectbox", ("issue",), "payment terms"),
            ("multiselect", ("options", "payment terms"), ["net 60", "net 90"]),
        ],
    )
    c = _scenario(at).constraints[-1]
    assert (c.type, c.party, c.issue, c.options) == (
        "acceptable",
        "Northwind Ops",
        "payment terms",
        ["net 60", "net 90"],
    )
    tables.append(_winwin_follows(at))
    _add_through_form(
        at,
        "acceptable",
        [
            ("selectbox", ("issue",), "price per seat"),
            ("number_input", ("max", "price per seat"), 52),
        ],
    )
    c = _scenario(at).constraints[-1]
    assert (c.issue, c.min, c.max, c.party) == ("price per seat", None, 52, None)
    tables.append(_winwin_follows(at))
    _add_through_form(
        at,
        "forbidden",
        [("multiselect", ("pairs",), ["payment terms = net 90", "renewal price cap = 3%"])],
    )
    c = _scenario(at).constraints[-1]
    assert c.combination == {"payment terms": "net 90", "renewal price cap": "3%"}
    tables.append(_winwin_follows(at))
    _add_through_form(
        at,
        "implies",
        [
            ("multiselect", ("when",), ["renewal price cap = 3%"]),
            ("multiselect", ("then",), ["term = 3 years", "support tier = standard"]),
        ],
    )
    c = _scenario(at).constraints[-1]
    assert c.when == {"renewal price cap": "3%"}
    assert c.then == {"term": "3 years", "support tier": "standard"}
    tables.append(_winwin_follows(at))
    _add_through_form(
        at,
        "budget",
        [
            ("number_input", ("limit",), 40),
            ("text_input", ("unit",), "kUSD"),
            ("multiselect", ("cost_issues",), ["payment terms", "seats"]),
            ("number_input", ("cost", "payment terms", "net 90"), 30),
            ("number_input", ("per_unit", "seats"), 0.1),
            ("number_input", ("base", "seats"), 5),
        ],
    )
    c = _scenario(at).constraints[-1]
    assert (c.limit, c.unit) == (40, "kUSD")
    assert c.costs["payment terms"] == {"net 30": 0, "net 60": 0, "net 90": 30}
    assert (c.costs["seats"].per_unit, c.costs["seats"].base) == (0.1, 5)
    tables.append(_winwin_follows(at))
    assert len(_scenario(at).constraints) == n0 + 5
    assert len({str(t) for t in tables}) > 1  # the constraints changed what the engine suggests
    # Each constraint is listed in words; deleting the first one removes exactly it.
    assert "not both payment terms is net 90 and renewal price cap is 3%" in _texts(at)
    names = [c.name for c in _scenario(at).constraints]
    at.button(key=wkey(at, "constraint", 0, "remove")).click().run()
    assert not at.exception
    assert [c.name for c in _scenario(at).constraints] == names[1:]
    assert "vendor price floor" not in _texts(at)
    _winwin_follows(at)


def test_constraint_form_messages_keep_the_entries() -> None:
    at = _app()
    n0 = len(_scenario(at).constraints)
    _add_through_form(at, "forbidden", [("multiselect", ("pairs",), ["term = 1 year"])])
    assert any("at least two issue = value pairs" in e.value for e in at.error)
    assert at.multiselect(key=wkey(at, "newc", "pairs")).value == ["term = 1 year"]
    assert len(_scenario(at).constraints) == n0
    # What the validator rejects is added, flagged next to it, and kept until deleted.
    _add_through_form(
        at,
        "acceptable",
        [
            ("selectbox", ("issue",), "price per seat"),
            ("number_input", ("min", "price per seat"), 58),
            ("number_input", ("max", "price per seat"), 50),
        ],
    )
    assert at.session_state[state.SCENARIO] is None
    assert at.session_state[state.DATA]["constraints"][-1] == {
        "type": "acceptable",
        "issue": "price per seat",
        "min": 58,
        "max": 50,
    }
    assert any(f"constraint {n0 + 1}" in e.value and "is above max" in e.value for e in at.error)
    at.button(key=wkey(at, "constraint", n0, "remove")).click().run()
    assert _scenario(at) == Scenario.load(ROOT / "examples" / "saas_renewal.yaml")


def test_weight_range_gives_p_win_win_and_bad_range_is_kept() -> None:
    from optimizer.scenario.models import Range
    from optimizer.searches.uncertainty import has_ranges

    at = _app("job_offer")
    s = _scenario(at)
    assert not has_ranges(s)
    j = s.party_names.index(s.us_name)
    them = 1 - j
    other = s.party_names[them]
    issue = max(
        s.parties[them].preferences.weights,
        key=lambda k: float(s.parties[them].preferences.weights[k]),
    )
    w = float(s.parties[them].preferences.weights[issue])
    at.toggle(key=wkey(at, "uncertain", them, 0)).set_value(True).run()
    assert not at.exception
    weights = at.session_state[state.DATA]["parties"][them]["preferences"]["weights"]
    assert weights[issue] == [w, w, w]  # low = likely = high to start: nothing changes yet
    assert not has_ranges(_scenario(at))
    at.text_input(key=wkey(at, "range", them, issue, "low")).set_value(f"{w / 2:g}").run()
    at.text_input(key=wkey(at, "range", them, issue, "high")).set_value(f"{w * 2:g}").run()
    s = _scenario(at)
    assert s.party(other).preferences.weights[issue] == Range(low=w / 2, likely=w, high=w * 2)
    assert has_ranges(s)
    _goto(at, "screens/winwin.py")
    _check_winwin(
        at, s
    )  # the last row is P(win-win), as optimizer.searches.uncertainty.annotate says
    assert _table(at).index[-1].startswith("P(win-win)")
    # A low above the likely value is flagged with the validator's message and kept as typed.
    _goto(at, "screens/scenario.py")
    key = wkey(at, "range", them, issue, "low")
    at.text_input(key=key).set_value(f"{w * 3:g}").run()
    assert not at.exception
    assert at.session_state[state.SCENARIO] is None
    assert any("low <= likely <= high" in e.value for e in at.error)
    assert at.text_input(key=key).value == f"{w * 3:g}"
    weights = at.session_state[state.DATA]["parties"][them]["preferences"]["weights"]
    assert weights[issue] == [w * 3, w, w * 2]
    at.text_input(key=key).set_value(f"{w / 2:g}").run()  # fixed: valid again
    assert _scenario(at).party(other).preferences.weights[issue].low == w / 2
    # The walk-away point's range is edited in the same place.
    raw = at.session_state[state.DATA]["parties"][them]["reservation_value"]
    rv_key = wkey(at, "range", them, "reservation_value", "high")
    at.text_input(key=rv_key).set_value(f"{float(raw[1]) + 10:g}").run()
    rv = _scenario(at).party(other).reservation_value
    assert (rv.likely, rv.high) == (raw[1], raw[1] + 10)


# --------------------------------------------------------------------------------------------
# User-supplied names are shown as text, never as Markdown (issue 15)
# --------------------------------------------------------------------------------------------

HOSTILE = "![x](http://host.invalid/track.png)"


def _hostile_data() -> dict:
    data = Scenario.load(ROOT / "examples" / "saas_renewal.yaml").to_dict()
    old = data["parties"][1]["name"]
    text = json.dumps(data).replace(json.dumps(old)[1:-1], HOSTILE.replace('"', '\\"'))
    out = json.loads(text)
    out["name"] = "[click me](http://host.invalid/phish) :red[alarm]"
    return out


def test_hostile_names_render_as_escaped_text_on_every_page() -> None:
    import re

    from ui.text import md

    at = _app()
    at.file_uploader(key="upload").set_value(
        ("hostile.json", json.dumps(_hostile_data()).encode(), "application/json")
    )
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert _scenario(at).parties[1].name == HOSTILE
    link = re.compile(r"(?<!\\)\]\(|(?<!\\):red\[")  # an unescaped "](" or ":red["
    for page in PAGES:
        _goto(at, page)
        texts = _texts(at) + "\n" + "\n".join(str(e.label) for e in at.expander)
        texts += "\n" + "\n".join(str(c.value) for c in at.sidebar.caption)
        texts += "\n" + "\n".join(str(m.label) for m in at.metric)
        assert not link.search(texts), (page, link.search(texts))
    _goto(at, "screens/winwin.py")
    assert md(HOSTILE) in _texts(at)
    assert md("[click me](http://host.invalid/phish) :red[alarm]") in "\n".join(
        str(c.value) for c in at.sidebar.caption
    )


def test_the_escape_helper_keeps_plain_sentences_and_breaks_markup() -> None:
    from ui.text import html_text, md, safe_markdown

    assert md("B's price (at most 3): 5.") == "B's price (at most 3): 5."
    assert md(HOSTILE) == "!\\[x\\](http:\u200b//host.invalid/track.png)"  # no autolink
    assert md("a\nb") == "a b" and md("- x").startswith("\\-") and md("1. x") == "1\\. x"
    assert md("<img src=x>") == "\\<img src=x>" and md("a <= b") == "a <= b"
    assert "\\:red\\[" in md(":red[x]") and md("> q") == "\\> q"
    assert html_text('<a href="x">{y}</a>') == "&lt;a href=&quot;x&quot;&gt;&#123;y&#125;&lt;/a&gt;"
    doc = safe_markdown(f"# Proposal\n\n| Party | {HOSTILE} |\n\n**bold**")
    assert doc.startswith("# Proposal") and "**bold**" in doc and "\\](http:\u200b//" in doc


def test_a_memory_error_is_shown_with_advice() -> None:
    text = state.error_text(MemoryError())
    assert "too large" in text and "--max-points" in text and "MemoryError" not in text


def test_an_upload_past_the_size_cap_or_too_slow_is_refused_with_a_message() -> None:
    from ui.upload import MAX_UPLOAD_BYTES, parse_upload

    data, err = parse_upload(b"x" * (MAX_UPLOAD_BYTES + 1), "huge.yaml")
    assert data is None and "more than the 5.0 MB" in err
    slow = ("items:\n" + "".join(f"  - {{a: {i}, b: [1, 2]}}\n" for i in range(150_000))).encode()
    t0 = __import__("time").perf_counter()
    data, err = parse_upload(slow, "slow.yaml", seconds=0.5)
    assert data is None and "longer than 0.5 s" in err
    assert __import__("time").perf_counter() - t0 < 0.5 + 10
    data, err = parse_upload(b"name: [1, 2", "bad.yaml")
    assert data is None and "not valid YAML" in err
    house = ROOT / "examples" / "house_purchase.json"
    data, err = parse_upload(house.read_bytes(), house.name)
    assert err is None and Scenario.from_dict(data) == Scenario.load(house)


def _record_downloads(monkeypatch) -> dict[str, tuple[str, bytes]]:
    """Every download button's file name and bytes, by label (the app runs in this process)."""
    from streamlit.delta_generator import DeltaGenerator

    seen: dict[str, tuple[str, bytes]] = {}
    original = DeltaGenerator.download_button

    def spy(self, label, data, file_name=None, *args, **kwargs):
        raw = data.encode() if isinstance(data, str) else bytes(data)
        seen[label] = (file_name, raw)
        return original(self, label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", spy)
    return seen


def test_excel_upload_and_downloads(monkeypatch) -> None:
    import io

    from openpyxl import load_workbook

    from optimizer.scenario.files import dumps_scenario
    from optimizer.scenario.workbook import scenario_to_xlsx, xlsx_to_scenario

    seen = _record_downloads(monkeypatch)
    at = _app()
    solar = Scenario.load(ROOT / "examples" / "solar_bid.yaml")
    raw = scenario_to_xlsx(solar)
    at.file_uploader(key="upload").upload("solar.xlsx", raw, "application/octet-stream").run()
    assert not at.exception
    assert _scenario(at) == solar
    assert at.session_state[state.SOURCE] == "solar.xlsx"
    labels = [d.proto.label for d in at.download_button]
    assert "Download scenario (Excel)" in labels and "Download blank template (Excel)" in labels
    name, data = seen["Download scenario (Excel)"]
    assert name.endswith(".xlsx")
    back, _ = xlsx_to_scenario(data)
    assert dumps_scenario(back) == dumps_scenario(solar)
    name, data = seen["Download blank template (Excel)"]
    assert (
        name == "dealopt_template.xlsx"
        and "How to fill in" in load_workbook(io.BytesIO(data)).sheetnames
    )

    # A hand-edited workbook with a mistake: located message, the scenario stays as it was.
    wb = load_workbook(io.BytesIO(raw))
    wb["Issues"]["F2"] = "lots"
    buf = io.BytesIO()
    wb.save(buf)
    at.file_uploader(key="upload").set_value(
        ("bad.xlsx", buf.getvalue(), "application/octet-stream")
    )
    at.run()
    assert not at.exception
    assert 'sheet "Issues" row 2 column "max": must be a number, not text \'lots\'' in _texts(at)
    assert _scenario(at) == solar

    # Results out: win-win packages and the frontier as CSV and Excel.
    seen.clear()
    _goto(at, "screens/winwin.py")
    assert {"Download CSV", "Download Excel"} <= set(seen)
    name, data = seen["Download Excel"]
    assert name.endswith("win_win_packages.xlsx")
    rows = list(load_workbook(io.BytesIO(data))["Win-win packages"].iter_rows(values_only=True))
    assert rows[0][0] == "package" and rows[1][0] == "on the table" and rows[2][0] == 1
    seen.clear()
    _goto(at, "screens/tradeoff.py")
    name, data = seen["Download CSV"]
    assert name.endswith("pareto_frontier.csv")
    assert data.decode().startswith("package,")
