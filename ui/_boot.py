"""Page-file bootstrap: ``import _boot`` first, ``_boot.leave_legacy_pages_mode()`` after the imports.

Streamlit runs page files with ``ui/`` on ``sys.path``; importing this module puts the repository root
there too, so ``from ui import state`` works. ``leave_legacy_pages_mode()`` hands a run that Streamlit
started in its legacy ``pages/``-folder mode (a fresh server whose first visitor opens a deep link
such as ``/tradeoff``; every ``AppTest`` run) over to ``ui/app.py``'s ``st.navigation``, so the page
always runs inside the app (sidebar, error guard) and never on its own.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def leave_legacy_pages_mode() -> None:
    """Re-run through ``ui/app.py``'s navigation when Streamlit is in legacy pages mode."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        import streamlit as st

        PagesManager.uses_pages_directory = False
        st.rerun()
