"""The sidebar's workspace panel: which negotiation is open, that it is saved (and as which
version), Undo / Redo, and the list of saved negotiations to switch to.

Nothing here replaces the open scenario without keeping it: switching opens another saved
negotiation, the one left stays in the list with all its versions.
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from optimizer.errors import WorkspaceError
from ui import state

PICK = "workspace_pick"


def when(t: float) -> str:
    """A saved time as people read it ("just now", "5 min ago", "2026-11-29 14:05")."""
    age = time.time() - t
    if age < 60:
        return "just now"
    if age < 3600:
        return f"{int(age // 60)} min ago"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def _switch() -> None:
    nid = st.session_state.get(PICK)
    if nid and nid != state.negotiation_id():
        state.open_negotiation(nid)


def panel(container: Any = st.sidebar) -> None:
    """The panel (in the sidebar): save state, Undo / Redo and the negotiation list."""
    ws = state.workspace()
    err = state.workspace_error()
    with container:
        if err:
            st.warning(err, icon=":material/warning:")
        if ws is not None and state.negotiation_id() is not None:
            saved = state.version()
            st.caption(
                f":material/cloud_done: Saved automatically · version {saved}"
                if not err
                else f"Last saved: version {saved}"
            )
        c1, c2 = st.columns(2)
        c1.button(
            "Undo",
            key="undo",
            icon=":material/undo:",
            disabled=not state.can_undo(),
            on_click=state.undo,
            width="stretch",
            help="Take back the last change (the versions keep everything).",
        )
        c2.button(
            "Redo",
            key="redo",
            icon=":material/redo:",
            disabled=not state.can_redo(),
            on_click=state.redo,
            width="stretch",
        )
        if ws is None:
            return
        try:
            items = ws.negotiations()
        except WorkspaceError as e:
            st.warning(str(e), icon=":material/warning:")
            return
        if not items:
            return
        labels = {n.id: f"{n.name} · {when(n.updated)}" for n in items}
        current = state.negotiation_id()
        ids = list(labels)
        if current not in labels:
            current = ids[0]
        st.session_state[PICK] = current  # always show the open one (another tab may switch)
        st.selectbox(
            f"Saved negotiations ({len(items)})",
            ids,
            format_func=lambda i: labels.get(i, i),
            key=PICK,
            on_change=_switch,
            help="Every negotiation is kept in the workspace with all its versions; pick one to "
            "open it. 'Start blank' and 'Load example' add a new one.",
        )
