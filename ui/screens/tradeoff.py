"""Trade-off map: the Pareto frontier of two parties, the deal on the table and the walk-aways.

Clicking a point selects its package (the chart's selection is copied into ``PICK_A``/``PICK_B``,
which tests set directly); two selected points are compared side by side.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from ui import state, views
from ui.text import html_text, md

PAGE_ORDER = 30
PAGE_TITLE = "Trade-off map"
PAGE_ICON = ":material/scatter_plot:"

CHART_KEY = "tradeoff_chart"
PICK_A = "tradeoff_pick_a"
PICK_B = "tradeoff_pick_b"
LAST_SEL = "tradeoff_last_selection"
NONE = -1

CONCEPT_SYMBOLS = {
    "utilitarian": "diamond",
    "egalitarian": "square",
    "nash": "star",
    "kalai_smorodinsky": "triangle-up",
}


def _choose_parties(scenario) -> list[str]:
    names = scenario.party_names
    us = scenario.us_name
    if len(names) == 2:
        return [us, next(n for n in names if n != us)]
    c1, c2 = st.columns(2)
    x = c1.selectbox("Horizontal axis", names, index=names.index(us), key="tradeoff_x")
    others = [n for n in names if n != x]
    y = c2.selectbox("Vertical axis", others, index=0, key="tradeoff_y")
    return [x, y]


def _hover(scenario, pkg, ref_u: dict[str, float] | None = None) -> str:
    diffs = views.differences(scenario, pkg.package)
    head = (
        "<br>".join(html_text(d) for d in diffs[:6]) if diffs else "same as the deal on the table"
    )
    if len(diffs) > 6:
        head += f"<br>… and {len(diffs) - 6} more"
    if pkg.p_win_win is not None:
        head += f"<br>P(win-win): {views.fmt_probability(pkg.p_win_win)}"
    money = views.money_gains(scenario, pkg, ref_u)
    if money:
        head += f"<br>gain in {html_text(views.money_issue_name(scenario))}: " + ", ".join(
            f"{html_text(p)} {html_text(t)}" for p, t in money.items()
        )
    return head


def _frontier_marker(result, order: list[int], picked: list[int]) -> dict:
    """Frontier markers: coloured by win-win probability when the scenario has estimate ranges."""
    probs = [result.packages[i].p_win_win for i in order]
    marker: dict = {
        "size": [14 if i in picked else 9 for i in order],
        "line": {"width": 1, "color": "white"},
    }
    if any(p is not None for p in probs):
        marker.update(
            color=[p if p is not None else 0.0 for p in probs],
            colorscale="RdYlGn",
            cmin=0.0,
            cmax=1.0,
            colorbar={"title": {"text": "P(win-win)"}, "tickformat": ".0%", "len": 0.6},
        )
    else:
        marker["color"] = [
            "rgb(214, 39, 40)" if i in picked else "rgb(31, 119, 180)" for i in order
        ]
    return marker


def build_figure(scenario, result, x: str, y: str, picked: list[int]) -> go.Figure:
    """The frontier chart: points (customdata = index), region, reference, walk-aways, concepts."""
    hx, hy = html_text(x), html_text(y)  # party names in plotly's HTML labels, escaped
    pts = [(p.utilities[x], p.utilities[y]) for p in result.packages]
    order = sorted(range(len(pts)), key=lambda i: (pts[i][0], -pts[i][1]))
    xs = [pts[i][0] for i in order]
    ys = [pts[i][1] for i in order]
    ref = result.reference_utilities or {}
    res = result.reservation or {}
    all_x = xs + [v for v in (ref.get(x), res.get(x)) if v is not None]
    all_y = ys + [v for v in (ref.get(y), res.get(y)) if v is not None]
    lo_x, hi_x = min(all_x, default=0.0), max(all_x, default=100.0)
    lo_y, hi_y = min(all_y, default=0.0), max(all_y, default=100.0)
    pad_x = max(2.0, 0.08 * (hi_x - lo_x))
    pad_y = max(2.0, 0.08 * (hi_y - lo_y))
    x_range = [lo_x - pad_x, hi_x + pad_x]
    y_range = [lo_y - pad_y, hi_y + pad_y]
    fig = go.Figure()
    if ref.get(x) is not None and ref.get(y) is not None:
        fig.add_shape(
            type="rect",
            x0=ref[x],
            y0=ref[y],
            x1=x_range[1],
            y1=y_range[1],
            fillcolor="rgba(46, 160, 67, 0.10)",
            line={"width": 0},
            layer="below",
        )
        fig.add_annotation(
            x=x_range[1],
            y=y_range[1],
            text="win-win region",
            showarrow=False,
            xanchor="right",
            yanchor="top",
            font={"color": "rgb(30, 120, 50)", "size": 12},
        )
    for party, axis in ((x, "x"), (y, "y")):
        r = res.get(party)
        if r is None:
            continue
        line = {"color": "rgba(200, 60, 60, 0.7)", "dash": "dash", "width": 1.5}
        label = f"{html_text(party)} walk-away {r:.0f}"
        if axis == "x":
            fig.add_vline(x=r, line=line, annotation_text=label, annotation_position="bottom right")
        else:
            fig.add_hline(y=r, line=line, annotation_text=label, annotation_position="top left")
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines+markers",
            name="Pareto frontier",
            line={"color": "rgba(31, 119, 180, 0.55)", "dash": "dot", "width": 1.5},
            marker=_frontier_marker(result, order, picked),
            customdata=order,
            hovertext=[
                _hover(scenario, result.packages[i], result.reference_utilities) for i in order
            ],
            hovertemplate=f"{hx}: %{{x:.1f}}<br>{hy}: %{{y:.1f}}<br>%{{hovertext}}<extra>point %{{customdata}}</extra>",
        )
    )
    if ref.get(x) is not None and ref.get(y) is not None:
        fig.add_trace(
            go.Scatter(
                x=[ref[x]],
                y=[ref[y]],
                mode="markers+text",
                name="Deal on the table",
                marker={"symbol": "x", "size": 13, "color": "black"},
                text=["deal on the table"],
                textposition="bottom left",
                hovertemplate=f"deal on the table<br>{hx}: %{{x:.1f}}<br>{hy}: %{{y:.1f}}<extra></extra>",
            )
        )
    by_point: dict[int, list[str]] = {}
    for concept, idx in (result.concepts or {}).items():
        if 0 <= idx < len(result.packages):
            by_point.setdefault(idx, []).append(concept)
    for n_label, (idx, concepts) in enumerate(sorted(by_point.items(), key=lambda kv: pts[kv[0]])):
        px, py = pts[idx]
        fig.add_trace(
            go.Scatter(
                x=[px],
                y=[py],
                mode="markers",
                name=views.concept_names(concepts),
                marker={
                    "symbol": CONCEPT_SYMBOLS.get(concepts[0], "circle"),
                    "size": 15,
                    "color": "rgba(255, 160, 0, 0.9)",
                    "line": {"width": 1, "color": "black"},
                },
                customdata=[idx],
                hovertemplate=f"{views.concept_names(concepts)}<br>{hx}: %{{x:.1f}}<br>{hy}: %{{y:.1f}}<extra>point %{{customdata}}</extra>",
            )
        )
        fig.add_annotation(
            x=px,
            y=py,
            text=views.concept_names(concepts),
            showarrow=True,
            arrowhead=0,
            ax=36 if n_label % 2 == 0 else -36,
            ay=-30 if n_label % 2 == 0 else 30,
            font={"size": 11},
            bgcolor="rgba(255, 255, 255, 0.75)",
        )
    for i in picked:
        if 0 <= i < len(pts):
            fig.add_trace(
                go.Scatter(
                    x=[pts[i][0]],
                    y=[pts[i][1]],
                    mode="markers",
                    name="selected",
                    showlegend=False,
                    marker={
                        "symbol": "circle-open",
                        "size": 24,
                        "color": "rgb(214, 39, 40)",
                        "line": {"width": 3},
                    },
                    customdata=[i],
                    hoverinfo="skip",
                )
            )
    # A click selects points; keep every marker fully visible (plotly dims unselected ones).
    fig.update_traces(
        selected={"marker": {"opacity": 1}},
        unselected={"marker": {"opacity": 1}},
    )
    fig.update_traces(
        unselected={"marker": {"opacity": 1}, "textfont": {"color": "rgb(60, 60, 60)"}},
        selector={"mode": "markers+text"},
    )
    fig.update_layout(
        xaxis={"title": f"{hx} utility", "range": x_range, "zeroline": False},
        yaxis={"title": f"{hy} utility", "range": y_range, "zeroline": False},
        height=520,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        clickmode="event+select",
        dragmode="pan",
        hovermode="closest",
    )
    return fig


def _picked_from_chart(event: Any) -> list[int] | None:
    """The frontier indices selected on the chart (None when the selection did not change)."""
    try:
        points = event.selection.points  # type: ignore[union-attr]
    except AttributeError:
        try:
            points = event["selection"]["points"]
        except (KeyError, TypeError):
            return None
    idx = []
    for p in points or []:
        cd = p.get("customdata")
        if isinstance(cd, list):
            cd = cd[0] if cd else None
        if isinstance(cd, int | float):
            idx.append(int(cd))
    sig = tuple(idx)
    if st.session_state.get(LAST_SEL) == sig:
        return None
    st.session_state[LAST_SEL] = sig
    return list(dict.fromkeys(idx))


def _package_view(scenario, result, idx: int, parties: list[str]) -> None:
    pkg = result.packages[idx]
    title = f"Point {idx}"
    if pkg.concepts:
        title += f" — {views.concept_names(pkg.concepts)}"
    st.markdown(f"#### {title}")
    ref = result.reference_utilities or {}
    # Every party's utility when the package carries them (three or more parties: not only the
    # two on the axes), ours first.
    parties = [
        *parties,
        *(p for p in scenario.party_names if p in pkg.utilities and p not in parties),
    ]
    metrics = st.columns(len(parties))
    for col, party in zip(metrics, parties, strict=True):
        u = pkg.utilities.get(party)
        d = None if u is None or party not in ref else u - ref[party]
        col.metric(md(party), views.fmt_utility(u), None if d is None else views.fmt_gain(d))
    cells, kinds = views.package_table(scenario, [pkg], [f"Point {idx}"], ref, parties)
    st.dataframe(views.styled(cells, kinds), width="stretch", height=35 * (len(cells) + 1) + 3)
    diffs = views.differences(scenario, pkg.package)
    if diffs:
        st.markdown(
            "**Differences to the deal on the table**\n" + "\n".join(f"- {md(d)}" for d in diffs)
        )
    else:
        st.markdown("Same as the deal on the table.")


def _label(result, x: str, y: str):
    def fmt(i: int) -> str:
        if i == NONE:
            return "(none)"
        p = result.packages[i]
        text = f"Point {i}: {x} {p.utilities[x]:.1f} / {y} {p.utilities[y]:.1f}"
        return text + (f" ({views.concept_names(p.concepts)})" if p.concepts else "")

    return fmt


def page() -> None:
    st.title("Trade-off map")
    st.caption(
        "Every point is a package no other package beats for both sides (the Pareto frontier). "
        "Click one to see it; shift-click a second (or pick below) to compare."
    )
    scenario = state.require_scenario()
    x, y = _choose_parties(scenario)
    with st.spinner("Computing the frontier…"):
        outcome = state.frontier(scenario, parties=[x, y] if len(scenario.parties) > 2 else None)
    result = state.show(outcome, "the frontier")
    if result is None:
        return
    n = len(result.packages)
    if n == 0:
        st.info(md(result.explanation or "No feasible package clears every walk-away point."))
        return
    if not result.exact:
        st.warning(
            f"This frontier is an approximation ({result.method or 'not proven exact'}; status "
            f"{result.status.termination.value}). " + md(result.status.message or ""),
            icon=":material/warning:",
        )
    for key in (PICK_A, PICK_B):
        v = st.session_state.get(key)
        if not isinstance(v, int) or not (v == NONE or 0 <= v < n):
            st.session_state[key] = NONE if key == PICK_B else result.concepts.get("nash", 0)
    # The chart's selection (a click in the browser, or set through session_state) picks a
    # package; read it before drawing so the chart marks the package shown below it.
    chosen = _picked_from_chart(st.session_state.get(CHART_KEY))
    if chosen:
        chosen = [i for i in chosen if 0 <= i < n]
        if chosen:
            st.session_state[PICK_A] = chosen[0]
            st.session_state[PICK_B] = chosen[1] if len(chosen) > 1 else NONE
    picked_now = [i for i in (st.session_state[PICK_A], st.session_state[PICK_B]) if i != NONE]
    fig = build_figure(scenario, result, x, y, picked_now)
    st.plotly_chart(
        fig,
        key=CHART_KEY,
        on_select="rerun",
        selection_mode="points",
        width="stretch",
        config={"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]},
    )
    st.caption(
        "Shaded: packages better for both sides than the deal on the table. The solution "
        "concepts are measured from the walk-away points, so they can lie outside that region."
    )
    st.caption(
        f"{n} frontier point(s) · {'exact' if result.exact else 'approximate'}"
        + (f" · {result.method}" if result.method else "")
        + f" · computed in {outcome.seconds:.2f} s"
    )
    state.result_downloads(scenario, result, key="frontier_download")
    fmt = _label(result, x, y)
    c1, c2 = st.columns(2)
    c1.selectbox("Selected package", list(range(n)), format_func=fmt, key=PICK_A)
    c2.selectbox("Compare with", [NONE, *range(n)], format_func=fmt, key=PICK_B)
    a, b = st.session_state[PICK_A], st.session_state[PICK_B]
    if b != NONE and b != a:
        left, right = st.columns(2)
        with left:
            _package_view(scenario, result, a, [x, y])
        with right:
            _package_view(scenario, result, b, [x, y])
    else:
        _package_view(scenario, result, a, [x, y])


page()
