"""Scenario page, "Learn preferences" (issue 13): answers become statements, the fitted ranges
are shown and can be kept; offers in the log update the other side's ranges."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from optimizer.searches.estimate import estimate, next_question
from ui import learning, state

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_data.clear()
    yield


def _scenario_page(example: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    if at.session_state[state.SOURCE] != f"{example}.yaml":
        at.session_state["example_choice"] = example
        at.button(key="load_example").click().run()
    at.switch_page("screens/scenario.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _wkey(at: AppTest, *parts) -> str:
    return f"w{at.session_state[state.REV]}:" + ":".join(str(p) for p in parts)


def test_answering_a_question_adds_a_statement_and_keeping_applies_ranges() -> None:
    at = _scenario_page("saas_renewal")
    s0 = at.session_state[state.SCENARIO]
    us = s0.us_name
    q = next_question(s0, us)
    texts = "\n".join(str(m.value) for m in at.markdown)
    assert f"Which would {us} rather have?" in texts
    for k, v in q.prefers.items():
        assert f"{k}: **{s0.issue(k).display(v)}**" in texts
    at.button(key=_wkey(at, "learn", us, 0) + ":a").click().run()
    assert not at.exception
    s1 = at.session_state[state.SCENARIO]
    assert [st_.model_dump(exclude_defaults=True) for st_ in s1.party(us).statements] == [
        {"prefers": q.prefers, "over": q.over}
    ]
    weights_table = at.dataframe[-1].value
    est = estimate(s1, us)
    got = dict(zip(weights_table["issue"], weights_table["likely"], strict=True))
    assert got == {k: round(r.likely * 100, 1) for k, r in est.weights.items()}
    at.button(key=_wkey(at, "learn", us, "keep")).click().run()
    assert not at.exception
    s2 = at.session_state[state.SCENARIO]
    w = s2.party(us).preferences.weights
    assert all(w[k].likely == pytest.approx(r.likely) for k, r in est.weights.items())
    assert s2.party(us).statements  # the evidence stays with the party


def test_learn_from_offers_shows_the_change() -> None:
    at = _scenario_page("leather_reorder")
    s = at.session_state[state.SCENARIO]
    at.radio(key=_wkey(at, "learn", "mode")).set_value(learning.OFFERS).run()
    assert not at.exception
    other = next(n for n in s.party_names if n != s.us_name)
    assert at.selectbox(key=_wkey(at, "learn", "party", learning.OFFERS)).value == other
    table = at.dataframe[-1].value
    assert list(table.columns) == ["issue", "before", "low", "likely", "high", "change", "how sure"]
    est = estimate(s, other)
    assert dict(zip(table["issue"], table["high"], strict=True)) == {
        k: round(r.high * 100, 1) for k, r in est.weights.items()
    }
    at.button(key=_wkey(at, "learn", other, "use_offers")).click().run()
    assert not at.exception
    fitted = at.session_state[state.SCENARIO].party(other).preferences.weights
    assert {k: r.likely for k, r in fitted.items()} == {k: r.likely for k, r in est.weights.items()}
