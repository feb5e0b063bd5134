"""Estimates & risk: how likely each package is a win-win, the robust alternative, what to ask
next, and how far each weight can move before the recommendation changes (a tornado chart).

Everything comes from ``optimizer.searches.uncertainty`` through ``state.engine_call`` (cached on the
scenario and the settings, so moving back to earlier settings is instant).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from optimizer.scenario.models import format_percent
from ui import state, views
from ui.text import html_text, md

PAGE_ORDER = 60
PAGE_TITLE = "Estimates & risk"
PAGE_ICON = ":material/query_stats:"

OBJECTIVE_KEY = "uncertainty_objective"
TOP_KEY = "uncertainty_top"
ALPHA_KEY = "uncertainty_alpha"
SAMPLES_KEY = "uncertainty_samples"
SEED_KEY = "uncertainty_seed"

MODULE = "optimizer.searches.uncertainty"
WIN_WIN_ROW = "Chance of a win-win"


def _pct(x: float | None) -> str:
    return "-" if x is None else format_percent(x)


def probability_rows(packages: list[Any], names: list[str], parties: list[str]) -> pd.DataFrame:
    """P(win-win), P(accepts) per party and the 10th-90th percentile gain band, one column each."""
    index = [WIN_WIN_ROW] + [f"Chance {p} accepts" for p in parties]
    index += [f"{p}'s gain (likely range)" for p in parties]
    cols: dict[str, list[str]] = {}
    for name, pkg in zip(names, packages, strict=True):
        band = pkg.extra.get("gain_band", {})
        col = [_pct(pkg.p_win_win)]
        col += [_pct((pkg.acceptance or {}).get(p)) for p in parties]
        col += [
            f"{views.fmt_gain(band[p][0])} to {views.fmt_gain(band[p][1])}" if p in band else "-"
            for p in parties
        ]
        cols[name] = col
    return pd.DataFrame(cols, index=index)


def _probability_styles(frame: pd.DataFrame, packages: list[Any]) -> pd.DataFrame:
    """Colour the P(win-win) row from red (unlikely) to green (near certain)."""
    css = pd.DataFrame("", index=frame.index, columns=frame.columns)
    for name, pkg in zip(frame.columns, packages, strict=True):
        p = pkg.p_win_win
        if p is None:
            continue
        red, green = int(220 * (1 - p)), int(170 * p)
        css.loc[WIN_WIN_ROW, name] = (
            f"background-color: rgba({red}, {green}, 60, 0.30); font-weight: 600"
        )
    return css


def _packages_section(scenario, objective: str, top: int, samples: int, seed: int) -> None:
    st.subheader("How likely is each package a win-win?")
    with st.spinner("Searching and sampling the estimate ranges…"):
        outcome = state.engine_call(
            MODULE,
            "annotated_improve",
            scenario,
            objective=objective,
            top=top,
            samples=samples,
            seed=seed,
        )
    result = state.show(outcome, "the search")
    if result is None:
        return
    if not result.packages:
        st.info(md(result.explanation or "No win-win package at the best guess."))
        return
    names = [f"Package {i + 1}" for i in range(len(result.packages))]
    cells, kinds = views.package_table(
        scenario, result.packages, names, result.reference_utilities, result.parties
    )
    st.dataframe(
        views.styled(cells, kinds),
        key="uncertainty_packages",
        width="stretch",
        height=min(35 * (len(cells) + 1) + 3, 900),
    )
    probs = probability_rows(result.packages, names, result.parties)
    styles = _probability_styles(probs, result.packages)
    st.dataframe(
        probs.style.apply(lambda _: styles, axis=None),
        key="uncertainty_probabilities",
        width="stretch",
    )
    st.caption(
        f"The chances come from {samples:,} draws of every range (most of them near the likely "
        "value, none outside low and high). A win-win: every side at least as well off as with "
        f"the {'deal on the table' if result.reference is not None else 'walk-away points'}, "
        "and one better. The likely range of a gain leaves out the 10% most extreme draws at "
        "each end."
    )


def _robust_section(scenario, alpha: float, samples: int, seed: int) -> None:
    st.subheader("A safer package")
    st.caption(
        f"The package best for us among those that leave everyone better off in at least "
        f"{alpha:.0%} of {samples} tried estimates, and the package that does so most often."
    )
    with st.spinner("Searching for robust packages…"):
        outcome = state.engine_call(
            MODULE, "robust_improve", scenario, alpha=alpha, samples=samples, seed=seed
        )
    result = state.show(outcome, "the robust search")
    if result is None:
        return
    if result.packages:
        names = [f"{i + 1}: {p.extra.get('role', '')}" for i, p in enumerate(result.packages)]
        cells, kinds = views.package_table(
            scenario, result.packages, names, result.reference_utilities, result.parties
        )
        st.dataframe(
            views.styled(cells, kinds),
            key="uncertainty_robust",
            width="stretch",
            height=min(35 * (len(cells) + 1) + 3, 900),
        )
        rows = {
            name: [
                f"{p.extra['in_sample']['win_win']} of {p.extra['in_sample']['samples']}",
                _pct(p.p_win_win),
            ]
            for name, p in zip(names, result.packages, strict=True)
        }
        st.dataframe(
            pd.DataFrame(rows, index=[TRIED_ROW, CHECKED_ROW]),
            key="uncertainty_robust_check",
            width="stretch",
        )
        st.caption(
            "Checked again on fresh draws the search did not see, so the chance is not "
            "flattered by the draws it was chosen on."
        )
    else:
        st.info(
            f"No package leaves everyone better off in {alpha:.0%} of the tried estimates "
            "(with the hard rules). Lower the share, or narrow the ranges by asking the "
            "questions below.",
            icon=":material/info:",
        )
    if result.status.termination.value != "optimal":
        st.warning(
            "The search stopped before it could prove these are the best: treat them as good "
            "candidates.",
            icon=":material/warning:",
        )


TRIED_ROW = "win-win in the tried estimates"
CHECKED_ROW = "chance of a win-win (fresh draws)"


def _question_packages(scenario: Any, q: Any) -> None:
    """The packages a question mentions, side by side, so every number it names can be seen."""
    cols: dict[str, list[str]] = {}
    for number, pkg, role in (
        (q.recommended_number, q.recommended, "recommended"),
        (q.alternative_number, q.alternative, "best if the estimate is off"),
    ):
        if pkg:
            label = f"Package {number} ({role})" if number else role.capitalize()
            cols[label] = [i.display(pkg.get(i.name)) for i in scenario.issues]
    if not cols:
        return
    frame = pd.DataFrame(cols, index=[i.name for i in scenario.issues])
    changed = frame.nunique(axis=1) > 1
    css = pd.DataFrame("", index=frame.index, columns=frame.columns)
    css.loc[changed, :] = "background-color: rgba(46, 160, 67, 0.22); font-weight: 600"
    with st.expander(f"The packages this question is about ({', '.join(cols)})"):
        st.dataframe(
            frame.style.apply(lambda _: css, axis=None),
            key=f"uncertainty_question_{q.parameter}",
            width="stretch",
        )


def _questions_section(scenario, objective: str) -> None:
    st.subheader("What to ask next")
    with st.spinner("Ranking the estimates…"):
        outcome = state.engine_call(MODULE, "questions", scenario, k=3, objective=objective)
    qs = state.show(outcome, "the question ranking")
    if qs is None:
        return
    if not qs:
        st.success(
            "None of the ranges changes the recommended package anywhere within it: "
            "no question needed before proposing it.",
            icon=":material/check_circle:",
        )
        return
    for n, q in enumerate(qs, start=1):
        st.markdown(f"**{n}.** {md(q.text)}")
        _question_packages(scenario, q)
    st.caption(
        "Each estimate is tried across its range with the others at their likely values; the "
        "questions come first whose answer most often changes which package is best. The "
        "packages each question mentions are shown under it."
    )


def tornado_figure(items: list[Any]) -> Any:
    """A plotly tornado chart: per weight, the share interval where the recommendation holds."""
    import plotly.graph_objects as go

    items = sorted(items, key=lambda it: it.high_share - it.low_share, reverse=True)
    labels = [html_text(f"{it.party}: {it.issue}") for it in items]
    fig = go.Figure()
    fig.add_bar(
        y=labels,
        x=[100 * (it.high_share - it.low_share) for it in items],
        base=[100 * it.low_share for it in items],
        orientation="h",
        name="recommendation stays best",
        marker_color="rgba(46, 160, 67, 0.6)",
        customdata=[[100 * it.low_share, 100 * it.high_share] for it in items],
        hovertemplate="%{y}<br>stays best from %{customdata[0]:.0f}% to %{customdata[1]:.0f}%"
        "<extra></extra>",
    )
    fig.add_scatter(
        y=labels,
        x=[100 * it.share for it in items],
        mode="markers",
        name="weight now",
        marker={"symbol": "line-ns-open", "size": 18, "color": "black", "line": {"width": 3}},
        hovertemplate="%{y}<br>now %{x:.0f}%<extra></extra>",
    )
    fig.update_layout(
        xaxis={"title": "share of the party's total weight (%)", "range": [0, 100]},
        height=max(260, 28 * len(items) + 120),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": 1.08},
    )
    return fig


def _sensitivity_section(scenario, objective: str) -> None:
    st.subheader("How far can each weight move?")
    with st.spinner("Scanning every weight…"):
        outcome = state.engine_call(MODULE, "sensitivity", scenario, objective=objective)
    res = state.show(outcome, "the sensitivity analysis")
    if res is None:
        return
    if res.recommended is None or not res.items:
        st.info("No recommendation to test: no package improves on the deal on the table.")
        return
    st.plotly_chart(tornado_figure(res.items), key="uncertainty_tornado", width="stretch")
    rows = []
    for it in res.items:
        rows.append(
            {
                "party": it.party,
                "issue": it.issue,
                "weight now": views.number(it.weight),
                "share now": _pct(it.share),
                "stays best": f"{_pct(it.low_share)} to {_pct(it.high_share)}",
                "weight from": views.number(it.low_weight),
                "weight to": "no limit" if it.high_weight is None else views.number(it.high_weight),
            }
        )
    with st.expander("The numbers"):
        st.dataframe(pd.DataFrame(rows), key="uncertainty_sensitivity", hide_index=True)
    st.caption(
        "Each weight is moved as a share of its side's total weight, the other weights keeping "
        "their proportions; the bar is where the recommended package stays the best. The "
        "narrowest bars are the estimates to be surest of."
    )


def page() -> None:
    st.title("Estimates & risk")
    st.caption(
        "What we know about the other side is a set of estimates. Where an estimate is given as "
        "a range (low / likely / high on the Scenario page) instead of one number, this page "
        "shows how likely each package is to leave everyone better off, a safer package when "
        "the best one is risky, which estimate to check first across the table, and how far "
        "each weight could be off before the advice changes."
    )
    scenario = state.require_scenario()
    from optimizer.searches.sampling import has_ranges, uncertain_parameters

    c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
    objective = c1.selectbox(
        "Recommend by", list(state.OBJECTIVES), format_func=state.OBJECTIVES.get, key=OBJECTIVE_KEY
    )
    top = int(c2.number_input("Packages", 1, 10, 3, key=TOP_KEY))
    alpha = (
        int(
            c3.slider(
                "Safer package: a win-win in at least",
                50,
                100,
                80,
                5,
                format="%d%%",
                key=ALPHA_KEY,
                help="How often (over the tried estimates) the safer package must leave "
                "everyone better off.",
            )
        )
        / 100
    )
    samples = int(
        c4.number_input(
            "Estimates tried",
            20,
            2000,
            200,
            20,
            key=SAMPLES_KEY,
            help="How many draws of the ranges the safer-package search tries (more: slower, "
            "surer).",
        )
    )
    seed = int(st.session_state.get(SEED_KEY, 0))
    if has_ranges(scenario):
        unc = uncertain_parameters(scenario)
        with st.expander(f"{len(unc)} estimate(s) are ranges"):
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "estimate": p.label,
                            "low": views.number(p.low),
                            "likely": views.number(p.likely),
                            "high": views.number(p.high),
                        }
                        for p in unc
                    ]
                ),
                key="uncertainty_ranges",
                hide_index=True,
                width="stretch",
            )
        _packages_section(scenario, objective, top, 10000, seed)
        _robust_section(scenario, alpha, samples, seed)
        _questions_section(scenario, objective)
    else:
        st.info(
            "This scenario gives every estimate as a single number, so every package's win-win "
            "probability is 0 or 1 and there is nothing uncertain to ask about. The sensitivity "
            "chart below still shows how far each weight can move.",
            icon=":material/info:",
        )
    _sensitivity_section(scenario, objective)


page()
