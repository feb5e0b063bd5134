"""Scenario page component: set a party's preferences by comparing packages, or learn them from
its offers in the negotiation log (issue 13).

"Set by comparing packages" asks one question at a time (the comparison ``next_question`` finds
most informative), records the answer as a statement on the party, and shows the weights forming
as low / likely / high ranges; the user stops whenever they like and keeps the estimate.
"Learn from their offers" fits the party's preferences to its offers and shows how each weight
would change before the user adopts it. Everything is written back through ``state.set_data``.
"""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd
import streamlit as st

from optimizer.errors import DealoptError
from optimizer.scenario.models import Scenario, format_number
from ui import state
from ui.text import md

COMPARE = "Set by comparing packages"
OFFERS = "Learn from their offers"
MODE = "dealopt_learn_mode"
PARTY = "dealopt_learn_party:"


@st.cache_data(show_spinner=False, max_entries=32)
def _fit(key: str, party: str, _scenario: Scenario) -> Any:
    from optimizer.searches.estimate import estimate

    return estimate(_scenario, party)


@st.cache_data(show_spinner=False, max_entries=32)
def _question(key: str, party: str, _scenario: Scenario) -> Any:
    from optimizer.searches.estimate import next_question

    return next_question(_scenario, party, est=_fit(key, party, _scenario))


def _party_data(data: dict[str, Any], party: str) -> dict[str, Any] | None:
    for p in data.get("parties") or []:
        if isinstance(p, dict) and p.get("name") == party:
            return p
    return None


def _current_shares(s: Scenario, party: str) -> dict[str, float]:
    from optimizer.scenario.utility import weight_shares

    shares = weight_shares(s, s.party(party))
    return {i.name: float(v) for i, v in zip(s.issues, shares, strict=True)}


def _weights_table(est: Any, before: dict[str, float] | None = None) -> pd.DataFrame:
    rows = []
    for k, r in est.weights.items():
        row = {
            "issue": k,
            "low": round(r.low * 100, 1),
            "likely": round(r.likely * 100, 1),
            "high": round(r.high * 100, 1),
            "how sure": _sureness(r.high - r.low),
        }
        if before is not None:
            row = {
                "issue": k,
                "before": round(before.get(k, 0.0) * 100, 1),
                **{c: row[c] for c in ("low", "likely", "high")},
                "change": f"{(r.likely - before.get(k, 0.0)) * 100:+.1f}",
                "how sure": row["how sure"],
            }
        rows.append(row)
    return pd.DataFrame(rows)


def _sureness(width: float) -> str:
    if width <= 0.05:
        return "settled"
    if width <= 0.2:
        return "fairly sure"
    if width <= 0.5:
        return "rough"
    return "open"


def _adopt(data: dict[str, Any], s: Scenario, est: Any) -> None:
    """Replace the party's weights and values by the estimated ranges (statements kept)."""
    from optimizer.searches.estimate import apply_estimate

    fitted = apply_estimate(s, est)
    new = copy.deepcopy(data)
    pd_new = _party_data(new, est.party)
    if pd_new is not None:
        pd_new["preferences"] = fitted.to_dict()["parties"][s.party_names.index(est.party)][
            "preferences"
        ]
        state.set_data(new, reset_widgets=True)
        st.session_state["dealopt_learn_note"] = (
            f"{est.party}'s weights and values are now the estimated ranges."
        )


def _answer(data: dict[str, Any], party: str, statement: dict[str, Any]) -> None:
    new = copy.deepcopy(data)
    p = _party_data(new, party)
    if p is None:
        return
    p.setdefault("statements", []).append(statement)
    state.set_data(new)


def _undo(data: dict[str, Any], party: str) -> None:
    new = copy.deepcopy(data)
    p = _party_data(new, party)
    if p and p.get("statements"):
        p["statements"].pop()
        if not p["statements"]:
            del p["statements"]
        state.set_data(new)


def _package_card(col: Any, title: str, pkg: dict[str, Any], s: Scenario) -> None:
    with col.container(border=True):
        st.markdown(f"**{title}**")
        for k, v in pkg.items():
            st.markdown(f"- {md(k)}: **{md(s.issue(k).display(v))}**")


def _compare(data: dict[str, Any], s: Scenario, party: str, key: str) -> None:
    pdata = _party_data(data, party) or {}
    n_said = len(pdata.get("statements") or [])
    est = _fit(key, party, s)
    st.caption(
        "Answer as many questions as you like: each answer narrows the ranges below. Stop "
        "whenever the weights look settled enough, then keep them."
    )
    if n_said:
        st.markdown(f"{n_said} answer(s) / statement(s) so far.")
    if est.inconsistencies:
        st.warning(
            "Some answers contradict each other; the fit keeps them with the least change:\n\n"
            + "\n".join(f"- {md(i.location)}: {md(i.text)}" for i in est.inconsistencies),
            icon=":material/warning:",
        )
    q = _question(key, party, s)
    if q.informative:
        st.markdown(f"**Which would {md(party)} rather have?**")
        others = [n for n in s.issue_names if n not in q.prefers]
        if others:
            st.caption("Everything else is the same in both: " + md(", ".join(others)) + ".")
        a, b = st.columns(2)
        _package_card(a, "Package A", q.prefers, s)
        _package_card(b, "Package B", q.over, s)
        c1, c2, c3, c4 = st.columns(4)
        kq = state.wkey("learn", party, n_said)
        c1.button(
            "Package A",
            key=kq + ":a",
            on_click=_answer,
            args=(data, party, q.answer("first")),
            use_container_width=True,
            help="Package A is better",
        )
        c2.button(
            "About equal",
            key=kq + ":eq",
            on_click=_answer,
            args=(data, party, q.answer("equal")),
            use_container_width=True,
        )
        c3.button(
            "Package B",
            key=kq + ":b",
            on_click=_answer,
            args=(data, party, q.answer("second")),
            use_container_width=True,
            help="Package B is better",
        )
        c4.button(
            "Undo last",
            key=kq + ":undo",
            on_click=_undo,
            args=(data, party),
            disabled=not n_said,
            use_container_width=True,
        )
    else:
        st.success(
            "No comparison can narrow the ranges further: every answer would agree with what "
            f"{md(party)} already said.",
            icon=":material/check_circle:",
        )
    st.markdown("**Weights forming** (share of the total, %; low / likely / high)")
    st.dataframe(_weights_table(est), hide_index=True, key=state.wkey("learn", party, "weights"))
    st.button(
        f"I've had enough: keep these as {md(party)}'s weights and values",
        key=state.wkey("learn", party, "keep"),
        on_click=_adopt,
        args=(data, s, est),
        type="primary",
    )


def _offers(data: dict[str, Any], s: Scenario, party: str, key: str) -> None:
    n = sum(o.by == party for o in s.history)
    if not n:
        st.info(
            f"The negotiation log has no offers by {md(party)} yet. Record them on the Progress page; "
            "each offer it makes instead of accepting ours, and each concession, is evidence.",
            icon=":material/info:",
        )
        return
    est = _fit(key, party, s)
    st.markdown(
        f"Fitted to {n} offer(s) by {md(party)}"
        + (f" and {est.evidence['statements']} statement(s)" if est.evidence["statements"] else "")
        + ": an offer made instead of accepting the other side's says it prefers its own; each "
        "later offer is a concession, no better for it than the one before."
    )
    if est.inconsistencies:
        st.warning(
            "Some offers do not fit the rest (the fit changes them as little as it can):\n\n"
            + "\n".join(f"- {md(i.location)}: {md(i.text)}" for i in est.inconsistencies),
            icon=":material/warning:",
        )
    st.markdown("**Weights before and after** (share of the total, %)")
    st.dataframe(
        _weights_table(est, _current_shares(s, party)),
        hide_index=True,
        key=state.wkey("learn", party, "offers"),
    )
    if est.assumed_order:
        st.caption(
            "The offers do not yet say which option is best for: "
            + ", ".join(
                f"{k} (assumed {format_number(v) if not isinstance(v, str) else v})"
                for k, v in est.best.items()
                if k in est.assumed_order
            )
        )
    st.button(
        f"Use these ranges for {md(party)}",
        key=state.wkey("learn", party, "use_offers"),
        on_click=_adopt,
        args=(data, s, est),
        type="primary",
    )


def section(data: dict[str, Any]) -> None:
    """The "learn preferences" block of the Scenario page's Preferences tab."""
    s = state.get_scenario()
    st.divider()
    st.subheader("Learn preferences")
    if s is None:
        st.info("Fix the problems above first; the estimates need a valid scenario.")
        return
    note = st.session_state.pop("dealopt_learn_note", None)
    if note:
        st.success(note, icon=":material/check_circle:")
    modes = [COMPARE, OFFERS]
    mode = st.radio(
        "How",
        modes,
        index=modes.index(st.session_state.get(MODE, COMPARE)),
        horizontal=True,
        key=state.wkey("learn", "mode"),
        label_visibility="collapsed",
    )
    st.session_state[MODE] = mode  # kept when adopting an estimate rebuilds the form
    names = s.party_names
    # comparing: usually our own preferences; offers: the other side's
    default = names.index(s.us_name)
    if mode == OFFERS:
        default = next((k for k, n in enumerate(names) if n != s.us_name), default)
    chosen = st.session_state.get(PARTY + mode)
    if chosen in names:
        default = names.index(chosen)
    party = st.selectbox(
        "Party",
        names,
        index=default,
        key=state.wkey("learn", "party", mode),
        help="Whose preferences to learn",
    )
    st.session_state[PARTY + mode] = party
    key = state.scenario_key(s)
    try:
        if mode == COMPARE:
            _compare(data, s, party, key)
        else:
            _offers(data, s, party, key)
    except DealoptError as e:
        state.error_box(e)
