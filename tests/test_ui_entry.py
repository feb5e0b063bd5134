"""AppTest of guided entry and of "the app never loses work": number fields that keep what was
typed (decimal comma, messages), typed weights, range scores as low / likely / high, each side's
direction on a new numeric issue, undo/redo, the workspace's versions and the app's own words."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ui import state  # noqa: E402
from ui.workspace import Workspace  # noqa: E402

APP = str(ROOT / "ui" / "app.py")


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_data.clear()
    yield


def _app(example: str = "saas_renewal") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if at.session_state[state.SOURCE] != f"{example}.yaml":
        at.session_state["example_choice"] = example
        at.button(key="load_example").click().run()
    return at


def wkey(at: AppTest, *parts) -> str:
    return f"w{at.session_state[state.REV]}:" + ":".join(str(p) for p in parts)


def _data(at: AppTest) -> dict:
    return at.session_state[state.DATA]


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def _type(at: AppTest, key: str, text: str) -> None:
    at.text_input(key=key).set_value(text).run()
    assert not at.exception, [e.value for e in at.exception]


# --------------------------------------------------------------------------------------------
# Number fields
# --------------------------------------------------------------------------------------------


def test_decimal_comma_is_read_and_nonsense_is_kept_and_flagged() -> None:
    at = _app()
    key = wkey(at, "issue", 0, "value")  # price per seat on the table: 56
    _type(at, key, "56,5")
    assert _data(at)["issues"][0]["value"] == 56.5
    assert at.text_input(key=key).value == "56.5"
    _type(at, key, "5x7")
    assert _data(at)["issues"][0]["value"] == "5x7"  # kept as typed, not 57
    assert at.text_input(key=key).value == "5x7"
    assert any("'5x7' is not a number" in e for e in _errors(at))
    assert at.session_state[state.SCENARIO] is None  # and the scenario says it needs fixing
    _type(at, key, "1,250")
    assert any("ambiguous" in e for e in _errors(at))
    _type(at, key, "57")
    assert _data(at)["issues"][0]["value"] == 57
    assert at.session_state[state.SCENARIO] is not None
    assert not any("not a number" in e or "ambiguous" in e for e in _errors(at))


def test_walk_away_point_typed_and_its_problems_in_the_forms_words() -> None:
    at = _app()
    key = wkey(at, "party", 0, "reservation_value")
    _type(at, key, "150")
    assert _data(at)["parties"][0]["reservation_value"] == 150
    shown = " ".join(w.value for w in at.warning)
    assert "walk-away point" in shown
    assert "reservation_value" not in shown and "reservation value" not in shown


# --------------------------------------------------------------------------------------------
# Weights typed and slid
# --------------------------------------------------------------------------------------------


def test_weights_typed_as_numbers_and_slid_show_each_other() -> None:
    at = _app()
    typed = wkey(at, "weight_typed", 0, "term")
    slider = wkey(at, "weight", 0, "term")
    _type(at, typed, "30")
    assert _data(at)["parties"][0]["preferences"]["weights"]["term"] == 30
    assert at.slider(key=slider).value == 30
    at.slider(key=slider).set_value(12.0).run()
    assert _data(at)["parties"][0]["preferences"]["weights"]["term"] == 12
    assert at.text_input(key=typed).value == "12"
    _type(at, typed, "-3")
    assert any("below the smallest allowed value" in e for e in _errors(at))
    assert _data(at)["parties"][0]["preferences"]["weights"]["term"] == -3  # kept, flagged
    _type(at, typed, "ten")
    assert any("'ten' is not a number" in e for e in _errors(at))
    assert _data(at)["parties"][0]["preferences"]["weights"]["term"] == "ten"


# --------------------------------------------------------------------------------------------
# Range scores
# --------------------------------------------------------------------------------------------


def test_range_scores_shown_and_edited_as_low_likely_high() -> None:
    at = _app("leather_reorder")
    j = [p["name"] for p in _data(at)["parties"]].index("Department store")
    key = wkey(at, "score", "price protection", "90-day notice", j)
    assert at.text_input(key=key).value == "30 / 50 / 70"  # the whole range, not its middle
    _type(at, key, "20 / 45 / 60")
    scores = _data(at)["parties"][j]["preferences"]["values"]["price protection"]
    assert scores["90-day notice"] == [20, 45, 60]
    s = at.session_state[state.SCENARIO]
    est = s.party("Department store").preferences.values["price protection"]["90-day notice"]
    assert (est.low, est.likely, est.high) == (20, 45, 60)
    _type(at, key, "60 / 45 / 20")  # wrong order: kept, and the validator's message is shown
    assert scores["90-day notice"] == [60, 45, 20]
    assert any("low <= likely <= high" in e for e in _errors(at))
    _type(at, key, "40")  # a plain number again
    assert scores["90-day notice"] == 40
    _type(at, key, "30 / x / 50")
    assert any("likely" in e and "not a number" in e for e in _errors(at))
    _type(at, key, "-5")
    assert any("cannot be negative" in e for e in _errors(at))
    assert scores["90-day notice"] == -5


# --------------------------------------------------------------------------------------------
# Guided entry of a numeric issue
# --------------------------------------------------------------------------------------------


def _direction_key(at: AppTest, issue_idx: int, party_idx: int) -> str:
    prefix = wkey(at, "direction", issue_idx, party_idx) + ":"
    keys = [s.key for s in at.selectbox if s.key and s.key.startswith(prefix)]
    assert len(keys) == 1, keys
    return keys[0]


def test_new_numeric_issue_asks_each_sides_direction_with_a_guess_from_the_unit() -> None:
    at = _app()
    at.button(key="start_blank").click().run()
    at.button(key=wkey(at, "add_num")).click().run()
    assert not at.exception
    data = _data(at)
    assert [p["preferences"]["values"].get("New issue") for p in data["parties"]] == [None, None]
    captions = " ".join(c.value for c in at.caption)
    assert "more or less is better" in captions
    assert at.selectbox(key=_direction_key(at, 1, 0)).value is None  # asked, not assumed
    # Naming the unit as money: the payer (us) prefers less, the other side more.
    _type(at, wkey(at, "issue", 1, "unit"), "USD")
    us, them = (p["preferences"]["values"]["New issue"] for p in _data(at)["parties"])
    assert (us, them) == ({"shape": "decreasing"}, {"shape": "increasing"})
    assert "Guessed from the unit 'USD'" in " ".join(c.value for c in at.caption)
    assert at.selectbox(key=_direction_key(at, 1, 0)).value == "decreasing"
    # The guess is only a start: each side's answer is the user's.
    at.selectbox(key=_direction_key(at, 1, 1)).set_value("peak").run()
    them = _data(at)["parties"][1]["preferences"]["values"]["New issue"]
    assert them == {"shape": "peak", "peak": 50}
    # Renaming it to a salary flips the guess only for sides without an answer: none left here.
    at.text_input(key=wkey(at, "issue", 1, "name")).set_value("salary").run()
    assert _data(at)["parties"][1]["preferences"]["values"]["salary"]["shape"] == "peak"


def test_guess_for_money_earned() -> None:
    from ui import editing as ed

    data = {"us": "Me", "parties": [{"name": "Employer"}, {"name": "Me"}]}
    guess, why = ed.guess_directions(data, {"name": "base salary", "unit": "kEUR"})
    assert guess == {"Me": "increasing", "Employer": "decreasing"} and "Me prefers more" in why
    guess, _ = ed.guess_directions(data, {"name": "licence fee", "unit": "per seat"})
    assert guess == {"Me": "decreasing", "Employer": "increasing"}
    assert ed.guess_directions(data, {"name": "delivery", "unit": "weeks"}) is None


# --------------------------------------------------------------------------------------------
# Undo, versions, negotiations
# --------------------------------------------------------------------------------------------


def test_every_change_is_a_version_and_undo_redo_walk_back_and_forth() -> None:
    at = _app()
    ws = Workspace()
    nid = at.session_state[state.NEGOTIATION]
    first = ws.latest(nid)
    key = wkey(at, "issue", 0, "value")
    _type(at, key, "50")
    _type(at, key, "52")
    assert ws.latest(nid) == first + 2
    assert ws.load(nid)["issues"][0]["value"] == 52
    at.button(key="undo").click().run()
    assert _data(at)["issues"][0]["value"] == 50
    assert at.text_input(key=wkey(at, "issue", 0, "value")).value == "50"
    at.button(key="undo").click().run()
    assert _data(at)["issues"][0]["value"] == 56
    at.button(key="redo").click().run()
    assert _data(at)["issues"][0]["value"] == 50
    assert ws.load(nid)["issues"][0]["value"] == 50  # undo and redo are saved too
    notes = [v.note for v in ws.versions(nid)]
    assert notes[:3] == ["redo", "undo", "undo"]


def test_load_example_and_start_blank_start_new_negotiations() -> None:
    at = _app()
    ws = Workspace()
    first = at.session_state[state.NEGOTIATION]
    _type(at, wkey(at, "issue", 0, "value"), "50")
    at.button(key="start_blank").click().run()
    second = at.session_state[state.NEGOTIATION]
    at.session_state["example_choice"] = "job_offer"
    at.button(key="load_example").click().run()
    third = at.session_state[state.NEGOTIATION]
    assert len({first, second, third}) == 3
    assert [n.id for n in ws.negotiations()][:3] == [third, second, first]
    assert ws.load(first)["issues"][0]["value"] == 50  # the edited one is all there
    # Switching back in the sidebar opens it as it was.
    at.button(key=f"workspace_open:{first}").click().run()
    assert at.session_state[state.NEGOTIATION] == first
    assert _data(at)["issues"][0]["value"] == 50
    # A new session (a reload, a restart) comes back to the last one opened.
    again = AppTest.from_file(APP, default_timeout=120)
    again.run()
    assert again.session_state[state.NEGOTIATION] == first
    assert again.session_state[state.DATA]["issues"][0]["value"] == 50


def test_versions_page_compares_and_restores() -> None:
    at = _app()
    nid = at.session_state[state.NEGOTIATION]
    _type(at, wkey(at, "issue", 0, "value"), "50")
    at.selectbox(key=wkey(at, "issue", 2, "status")).set_value("agreed").run()
    at.switch_page("screens/versions.py").run()
    assert not at.exception, [e.value for e in at.exception]
    ws = Workspace()
    latest = ws.latest(nid)
    at.selectbox(key="versions_a").set_value(1).run()
    frames = [d.value for d in at.dataframe]
    changes = next(f for f in frames if "what" in f.columns)
    rows = {
        (r["part"], r["what"]): (r["version 1"], r[f"version {latest}"])
        for _, r in changes.iterrows()
    }
    assert rows[("Issues", "price per seat: on the table")] == ("56", "50")
    assert rows[("Statuses", "term")] == ("provisional", "agreed")
    best = next(f for f in frames if "Version 1" in f.columns)
    assert list(best.columns) == ["Version 1", f"Version {latest}"]
    at.button(key="versions_restore").click().run()
    assert _data(at)["issues"][0]["value"] == 56
    assert ws.latest(nid) == latest + 1
    assert ws.versions(nid)[0].note == "restored version 1"


def test_unusable_workspace_is_said_and_the_app_still_works(tmp_path, monkeypatch) -> None:
    bad = tmp_path / "broken.sqlite"
    junk = b"definitely not sqlite" * 50
    bad.write_bytes(junk)
    monkeypatch.setenv("DEALOPT_WORKSPACE", str(bad))
    at = _app()
    assert at.session_state[state.SCENARIO] is not None  # the app starts on the example
    warned = " ".join(w.value for w in at.warning)
    assert "damaged" in warned and str(bad) in warned
    _type(at, wkey(at, "issue", 0, "value"), "50")  # and editing works (in the session)
    assert _data(at)["issues"][0]["value"] == 50
    at.button(key="undo").click().run()
    assert _data(at)["issues"][0]["value"] == 56
    assert bad.read_bytes() == junk  # the damaged file is left as it was
