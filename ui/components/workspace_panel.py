"""The sidebar's workspace panel: which negotiation is open, that it is saved (and as which
version), Undo / Redo, and the list of saved negotiations (one button each) to switch to.

Nothing here replaces the open scenario without keeping it: switching opens another saved
negotiation, the one left stays in the list with all its versions.
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from optimizer.errors import WorkspaceError
from ui import state

OPEN = "workspace_open"
SHOWN = 6


def when(t: float) -> str:
    """A saved time as people read it ("just now", "5 min ago", "2026-11-29 14:05")."""
    age = time.time() - t
    if age < 60:
        return "just now"
    if age < 3600:
        return f"{int(age // 60)} min ago"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


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
        current = state.negotiation_id()
        st.markdown(f"**Saved negotiations** ({len(items)})")
        shown = items if len(items) <= SHOWN else items[:SHOWN]
        _buttons(shown, current)
        if len(items) > SHOWN:
            with st.expander(f"{len(items) - SHOWN} older"):
                _buttons(items[SHOWN:], current)


def _buttons(items: list[Any], current: str | None) -> None:
    """One button per negotiation (the open one marked); a click opens it as it was saved."""
    for n in items:
        is_open = n.id == current
        st.button(
            f"{n.name} · {when(n.updated)}",
            key=f"{OPEN}:{n.id}",
            icon=":material/folder_open:" if is_open else ":material/description:",
            type="primary" if is_open else "secondary",
            disabled=is_open,
            on_click=state.open_negotiation,
            args=(n.id,),
            width="stretch",
            help="Open now" if is_open else "Open this negotiation (the one open now stays saved).",
        )
