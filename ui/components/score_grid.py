"""Option scores of a categorical issue as a grid of text boxes: options as rows, parties as
columns, each cell one number or a range ``low / likely / high``.

It replaces an ``st.data_editor`` table, which lost values typed in a burst (its cell editor
showed the number, the app never received it: reproduced with Playwright, 3 of 3 values lost with
no delay between keys, 2 of 3 at 0.3 s). Plain text boxes receive every key the browser gets,
commit on Enter or Tab, paste like any text field, show a range in full, and keep what was typed
when it is not a number, with the message next to the cell. The Scenario page also keeps the
height above its tabs constant: a warning appearing there after an edit moved the next cell
under a fast typist's cursor and its keystrokes went nowhere (seen with Playwright under load).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import editing as ed
from ui import state
from ui.components import fields
from ui.text import md


def _scores(data: dict[str, Any], j: int, iname: str) -> dict[str, Any]:
    values = ed.party(data, j)["preferences"]["values"]
    scores = values.get(iname)
    if not isinstance(scores, dict) or "shape" in scores:
        scores = values[iname] = {}
    return scores


def _setter(data: dict[str, Any], j: int, iname: str, opt: str):
    def set_score(v: Any) -> None:
        scores = _scores(data, j, iname)
        if v is None:
            scores.pop(opt, None)
        else:
            scores[opt] = v

    return set_score


def score_grid(data: dict[str, Any], parties: list[dict[str, Any]], issue: dict[str, Any]) -> None:
    """The grid of one issue's option scores (one text box per option and party)."""
    iname = str(issue.get("name"))
    options = [str(o) for o in ed.as_list(issue.get("options"))]
    widths = [1.4] + [1.0] * len(parties)
    head = st.columns(widths, vertical_alignment="bottom")
    head[0].markdown(f"**{md(iname)}**")
    for col, p in zip(head[1:], parties, strict=True):
        col.markdown(f"**{md(p.get('name', ''))}**")
    for opt in options:
        cols = st.columns(widths, vertical_alignment="top")
        cols[0].markdown(opt)
        for j, p in enumerate(parties):
            scores = ed.party(data, j)["preferences"]["values"].get(iname)
            raw = scores.get(opt) if isinstance(scores, dict) and "shape" not in scores else None
            fields.estimate_field(
                cols[j + 1],
                f"{p.get('name', '')}: {iname} = {opt}",
                raw,
                state.wkey("score", iname, opt, j),
                _setter(data, j, iname, opt),
            )
