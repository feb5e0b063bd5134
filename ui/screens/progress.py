"""Progress: the issues grouped by status, the summary sentence, and what is left to gain.

Changing a status here changes the session's scenario, so the summary and the best win-win
package are recomputed at once (cached: switching back is instant).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from optimizer.scenario.models import STATUSES
from ui import state, views
from ui.text import md

PAGE_ORDER = 40
PAGE_TITLE = "Progress"
PAGE_ICON = ":material/checklist:"

HEADINGS = {
    "agreed": ("Agreed", ":material/verified:", "settled; never reopened"),
    "provisional": (
        "Provisional",
        ":material/pending:",
        "tentatively settled; reopened only for a clear gain",
    ),
    "open": ("Open", ":material/radio_button_unchecked:", "still to negotiate"),
}


def status_key(issue: str) -> str:
    """The widget key of an issue's status selector (tests set it through session_state)."""
    return state.wkey("progress_status", issue)


def _on_status(issue_name: str, key: str, fallback: Any) -> None:
    new = st.session_state[key]
    scenario = state.get_scenario()
    value = None
    if new != "open" and scenario is not None and scenario.issue(issue_name).value is None:
        value = fallback
    state.set_status(issue_name, new, value)


def _fallback_value(scenario, issue, best) -> Any:
    """A value to settle on when an issue without one is marked agreed: the best package's."""
    if best is not None and best.packages:
        return best.packages[0].package.get(issue.name)
    return issue.value_at(0)


def page() -> None:
    st.title("Progress")
    scenario = state.require_scenario()
    views.walkaway_warning(scenario)
    best_outcome = state.improve(scenario, "maxmin", top=1)
    best = best_outcome.value if best_outcome.ok else None

    with st.spinner("Summing up…"):
        summary_outcome = state.summary(scenario)
    summary = state.show(summary_outcome, "the progress summary")
    if summary is not None:
        text = summary.text
        if getattr(summary, "below_walkaway", None):
            text = text.replace(summary.below_walkaway, "", 1).strip()
        st.markdown(f"> {md(text)}")
    else:
        by = scenario.issues_by_status()
        parts = []
        if by["agreed"]:
            parts.append(f"We have agreed on {', '.join(i.name for i in by['agreed'])}.")
        if by["provisional"]:
            parts.append(f"{', '.join(i.name for i in by['provisional'])} still provisional.")
        if by["open"]:
            parts.append(f"Open: {', '.join(i.name for i in by['open'])}.")
        st.caption(md(" ".join(parts)))

    cols = st.columns(3)
    by = scenario.issues_by_status()
    for col, status in zip(cols, ("agreed", "provisional", "open"), strict=True):
        title, icon, help_ = HEADINGS[status]
        with col.container(border=True):
            st.markdown(f"### {title} ({len(by[status])})", help=help_)
            if not by[status]:
                st.caption("none")
            for issue in by[status]:
                shown = (
                    issue.display(issue.value)
                    if issue.value is not None
                    else "nothing on the table"
                )
                badge = ""
                if summary is not None and issue.name in (getattr(summary, "trouble", None) or []):
                    badge = " :red-badge[trouble]"
                elif summary is not None and issue.name in (
                    getattr(summary, "good_shape", None) or []
                ):
                    badge = " :green-badge[good shape]"
                left, right = st.columns([3, 2], vertical_alignment="center")
                left.markdown(f"**{md(issue.name)}** — {md(shown)}{badge}")
                k = status_key(issue.name)
                right.selectbox(
                    f"Status of {md(issue.name)}",
                    list(STATUSES),
                    index=list(STATUSES).index(issue.status),
                    key=k,
                    label_visibility="collapsed",
                    on_change=_on_status,
                    args=(issue.name, k, _fallback_value(scenario, issue, best)),
                )
    problems = state.get_problems()
    if problems:
        state.problems_box(problems)

    st.subheader("Best win-win package now")
    result = state.show(best_outcome, "the search")
    if result is None:
        return
    if not result.packages:
        st.info(
            md(
                result.explanation
                or "No package is better for one side without being worse for another: the deal "
                "on the table is already on the frontier."
            ),
            icon=":material/info:",
        )
        return
    pkg = result.packages[0]
    gains = pkg.gains or {
        p: pkg.utilities[p] - result.reference_utilities.get(p, 0.0) for p in result.parties
    }
    money = views.money_gains(scenario, pkg, result.reference_utilities) or {}
    mcols = st.columns(len(result.parties))
    for col, party in zip(mcols, result.parties, strict=True):
        col.metric(
            f"{md(party)} gains",
            views.fmt_gain(gains.get(party))
            + (f" (worth {money[party]})" if money.get(party, "-") != "-" else ""),
            help=f"{md(party)}'s utility {views.fmt_utility(pkg.utilities.get(party))} vs "
            f"{views.fmt_utility(result.reference_utilities.get(party))} for the deal on the table",
        )
    diffs = views.differences(scenario, pkg.package)
    st.markdown("\n".join(f"- {md(d)}" for d in diffs) if diffs else "No change needed.")
    st.page_link("screens/winwin.py", label="See all win-win packages", icon=":material/handshake:")


page()
