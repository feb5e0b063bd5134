"""Versions: every saved state of the open negotiation, to open, compare side by side and
restore (restoring adds a new version: history is never cut)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from optimizer.errors import WorkspaceError
from ui import state
from ui.components import compare
from ui.components.workspace_panel import when
from ui.text import md

PAGE_ORDER = 70
PAGE_TITLE = "Versions"
PAGE_ICON = ":material/history:"

PICK_A = "versions_a"
PICK_B = "versions_b"


def _best(data: Any) -> tuple[dict[str, str] | None, dict[str, float], str]:
    """A version's best package (max-min gain), its utilities, or why there is none."""
    scenario, problems = state._validate(data)
    if scenario is None:
        return None, {}, f"{len(problems)} problem(s) in this version: no search"
    result = state.show(state.improve(scenario, "maxmin", top=1), "the search", st.empty())
    if result is None:
        return None, {}, "the search failed"
    if not result.packages:
        return None, {}, "no package improves on the deal on the table"
    pkg = result.packages[0]
    shown = {i.name: i.display(pkg.package.get(i.name)) for i in scenario.issues}
    return shown, dict(pkg.utilities), ""


def _best_packages(a: int, b: int, data_a: Any, data_b: Any) -> None:
    st.subheader("How the best package changed")
    pa, ua, why_a = _best(data_a)
    pb, ub, why_b = _best(data_b)
    issues = list(dict.fromkeys([*(pa or {}), *(pb or {})]))
    parties = list(dict.fromkeys([*ua, *ub]))
    if not issues:
        st.info(f"Version {a}: {why_a}. Version {b}: {why_b}.")
        return
    rows = {
        f"Version {a}": [(pa or {}).get(i, "-") for i in issues]
        + [f"{ua[p]:.1f}" if p in ua else "-" for p in parties],
        f"Version {b}": [(pb or {}).get(i, "-") for i in issues]
        + [f"{ub[p]:.1f}" if p in ub else "-" for p in parties],
    }
    index = issues + [f"Utility: {p}" for p in parties]
    frame = pd.DataFrame(rows, index=index)
    changed = [
        i
        for i in index
        if rows[f"Version {a}"][index.index(i)] != rows[f"Version {b}"][index.index(i)]
    ]
    css = pd.DataFrame("", index=frame.index, columns=frame.columns)
    for i in changed:
        css.loc[i, :] = "background-color: rgba(46, 160, 67, 0.22); font-weight: 600"
    st.dataframe(frame.style.apply(lambda _: css, axis=None), key="versions_best", width="stretch")
    notes = [f"version {v}: {w}" for v, w in ((a, why_a), (b, why_b)) if w]
    st.caption(
        "The best package by max-min gain (the fairest win-win) in each version; changed rows "
        "are green." + (" " + "; ".join(notes) + "." if notes else "")
    )


def page() -> None:
    st.title("Versions")
    ws, nid = state.workspace(), state.negotiation_id()
    if ws is None or nid is None:
        st.warning(
            state.workspace_error() or "This negotiation is not saved in a workspace.",
            icon=":material/warning:",
        )
        return
    try:
        versions = ws.versions(nid)
    except WorkspaceError as e:
        state.error_box(e)
        return
    name = str(state.get_data().get("name", "")) if isinstance(state.get_data(), dict) else ""
    st.caption(
        f"Every change to **{md(name)}** is saved automatically as a version. Compare any two, see "
        "what changed and how the best package moved, and restore an earlier one (that adds a "
        "new version, so nothing is ever lost)."
    )
    table = pd.DataFrame(
        [{"version": v.number, "saved": when(v.created), "change": v.note} for v in versions]
    )
    st.dataframe(
        table,
        key="versions_table",
        hide_index=True,
        width="stretch",
        height=min(36 * (len(table) + 1) + 3, 320),
    )
    numbers = [v.number for v in versions]
    labels = {v.number: f"{v.number} · {v.note} · {when(v.created)}" for v in versions}
    c1, c2 = st.columns(2)
    a = c1.selectbox(
        "Compare version",
        numbers,
        index=min(1, len(numbers) - 1),
        format_func=labels.get,
        key=PICK_A,
    )
    b = c2.selectbox("with version", numbers, index=0, format_func=labels.get, key=PICK_B)
    try:
        data_a, data_b = ws.load(nid, a), ws.load(nid, b)
    except WorkspaceError as e:
        state.error_box(e)
        return
    c1, c2 = st.columns(2)
    c1.button(
        f"Restore version {a}",
        key="versions_restore",
        icon=":material/restore:",
        disabled=a == numbers[0],
        on_click=state.restore_version,
        args=(a,),
        help="Make this version the current scenario again (saved as a new version).",
    )
    with c2.expander(f"Open version {a} (as a file)"):
        st.code(state.dump_yaml(data_a), language="yaml")
    st.subheader(f"What changed from version {a} to version {b}")
    diffs = compare.changes(data_a, data_b)
    if not diffs:
        st.info("The two versions are the same scenario.", icon=":material/info:")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "part": d.section,
                        "what": d.what,
                        f"version {a}": d.before,
                        f"version {b}": d.after,
                    }
                    for d in diffs
                ]
            ),
            key="versions_changes",
            hide_index=True,
            width="stretch",
        )
    _best_packages(a, b, data_a, data_b)


page()
