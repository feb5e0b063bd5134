"""The Streamlit app: ``streamlit run ui/app.py`` (``make app`` opens it on the SaaS example).

Pages
-----
Every ``*.py`` file in ``ui/screens/`` is a page of the sidebar navigation; adding a page is adding
one file, nothing else to register. A page file may declare, as plain module-level constants (read
with ``ast`` without running the file):

* ``PAGE_ORDER = 40`` -- its position (lower first; default 100, then by file name). The built-in
  pages use 10 (Scenario), 20 (Win-win packages), 30 (Trade-off map), 40 (Progress); later pages
  take 50, 60, ... A numeric file-name prefix (``55_notes.py``) works too when PAGE_ORDER is absent.
* ``PAGE_TITLE = "Proposals"`` -- its name in the sidebar (default: from the file name).
* ``PAGE_ICON = ":material/description:"`` -- an optional icon.

The folder is deliberately not called ``pages/``: Streamlit treats a ``pages/`` folder beside the
main script as its legacy multipage mode, which would run a deep-linked page file on its own,
outside this navigation. Page files run inside ``app.py``'s process, so ``from ui import state``
works in them.

A page reads and changes the session's scenario through ``ui/state.py`` (see its docstring):
``state.require_scenario()`` for the validated scenario, ``state.improve(...)`` and friends for
cached engine calls, ``state.show(outcome)`` / ``state.error_box(exc)`` for messages. The lowest
PAGE_ORDER page opens first. ``$DEALOPT_SCENARIO`` names the scenario file loaded at start when the
workspace has no negotiation yet; ``$DEALOPT_WORKSPACE`` the workspace file (see ui/workspace.py).
Streamlit's settings (toolbar without the Deploy button and developer menu) are in
``.streamlit/config.toml``, read when the app is started from the repository root.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from pathlib import Path

UI_DIR = Path(__file__).resolve().parent
if str(UI_DIR.parent) not in sys.path:  # `from ui import state` works under `streamlit run`
    sys.path.insert(0, str(UI_DIR.parent))

import streamlit as st  # noqa: E402

from ui import state  # noqa: E402
from ui.components import workspace_panel  # noqa: E402
from ui.navigation import discover_pages  # noqa: E402
from ui.text import md  # noqa: E402


def main() -> None:
    st.set_page_config(page_title="Deal optimizer", page_icon=":handshake:", layout="wide")
    state.init_session()
    state.sync_url()
    specs = discover_pages()
    pages = [
        st.Page(
            spec.path,
            title=spec.title,
            icon=spec.icon,
            url_path=re.sub(r"[^a-z0-9_]+", "_", spec.path.stem.lower()).strip("_") or None,
            default=(i == 0),
        )
        for i, spec in enumerate(specs)
    ]
    nav = st.navigation(pages)
    with st.sidebar:
        s = state.get_scenario()
        name = s.name if s is not None else str(state.get_data().get("name", "(unnamed)"))
        st.caption(f"Scenario: **{md(name)}**")
        if s is None:
            st.caption(f":red[{len(state.get_problems())} problem(s) to fix]")
        else:
            st.caption(s.summary_line())
        state.download_button(st.sidebar, key="download_scenario_sidebar")
    workspace_panel.panel(st.sidebar)
    t0, cpu0 = time.perf_counter(), time.thread_time()
    state.start_run()
    try:
        nav.run()
    except Exception as e:  # noqa: BLE001 - the app shows messages, never tracebacks
        logging.getLogger("dealopt.ui").exception("page %s failed", nav.title)
        state.error_box(e)
        st.caption("The details are in the server log. Your scenario is kept in this session.")
    logging.getLogger("dealopt.ui").debug(
        "page %s drawn in %.3f s (%.3f s CPU), %d result(s) pending",
        nav.title,
        time.perf_counter() - t0,
        time.thread_time() - cpu0,
        len(state.pending()),
    )
    waiting = state.pending()
    if waiting:
        _redraw_when_ready(waiting)
    s = state.get_scenario()
    if s is not None:
        state.precompute(state.page_calls(s))


@st.fragment(run_every=0.5)
def _redraw_when_ready(keys: list[tuple]) -> None:
    """While a page waits for background results: redraw it as soon as they are all in."""
    if state.results_ready(keys):
        st.rerun(scope="app")


main()
