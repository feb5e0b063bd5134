"""Number fields that keep what was typed: a text box, parsed on Enter or when leaving it.

Streamlit's number box filters keys in the browser ("56,5" became 565, "5x7" 57) and says
nothing. These fields take any text: a number (a decimal comma where unambiguous) is stored as a
number; anything else is stored *as typed* and flagged next to the field, so nothing is lost
(the validator also lists it) and the user sees what to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from ui import editing as ed
from ui import state
from ui.text import md


def _message_key(key: str) -> str:
    return key + ":message"


def sync(key: str, raw: Any, shown: Any) -> None:
    """Keep a keyed widget showing the data: when the data changed since the widget was last
    drawn (by this widget or anywhere else: the YAML tab, another page, undo), its value is set
    from the data before it is drawn again. Keys stay stable, so focus and typing are kept."""
    ss = st.session_state
    marker = key + ":from"
    token = repr(raw)
    if key not in ss or ss.get(marker) != token:
        ss[key] = shown
    ss[marker] = token


def _on_number(key: str, setter: Callable[[Any], None], minimum: float | None) -> None:
    text = st.session_state.get(key, "")
    parsed = ed.parse_number(text)
    if isinstance(parsed, str):
        st.session_state[_message_key(key)] = parsed
        setter(str(text).strip())  # kept as typed; the validator flags it too
    else:
        msg = None
        if parsed is not None and minimum is not None and parsed < minimum:
            msg = f"{ed.number_text(parsed)} is below the smallest allowed value, {ed.number_text(minimum)}"
        st.session_state[_message_key(key)] = msg
        setter(None if parsed is None else ed.tidy(parsed))
    state.commit()


def number_field(
    container: Any,
    label: str,
    raw: Any,
    key: str,
    setter: Callable[[Any], None],
    *,
    help: str | None = None,
    placeholder: str = "",
    minimum: float | None = None,
    label_visibility: str = "visible",
) -> None:
    """A number typed as text; ``setter`` gets the number, None (empty) or the text as typed."""
    sync(key, raw, ed.number_text(raw))
    container.text_input(
        md(label),  # names in labels come from the user's file: shown as text
        key=key,
        help=help,
        placeholder=placeholder,
        on_change=_on_number,
        args=(key, setter, minimum),
        label_visibility=label_visibility,
    )
    message(container, key, raw)


def message(container: Any, key: str, raw: Any) -> None:
    """The field's message: its own parse message, else 'not a number' for text in the data."""
    msg = st.session_state.get(_message_key(key))
    if not msg and isinstance(raw, str) and raw.strip():
        parsed = ed.parse_number(raw)
        msg = parsed if isinstance(parsed, str) else None
    if msg:
        container.error(msg, icon=":material/error:")


def _on_estimate(key: str, old: Any, setter: Callable[[Any], None]) -> None:
    text = st.session_state.get(key, "")
    parsed = ed.parse_estimate(text)
    if isinstance(parsed, ed.Invalid):
        st.session_state[_message_key(key)] = parsed.message
    else:
        parts = parsed if isinstance(parsed, list) else [parsed]
        neg = [x for x in parts if isinstance(x, int | float) and x < 0]
        st.session_state[_message_key(key)] = (
            f"{ed.number_text(neg[0])}: scores and weights cannot be negative (0 is the least)"
            if neg
            else None
        )
    setter(ed.set_estimate(old, parsed))
    state.commit()


def estimate_field(
    container: Any,
    label: str,
    raw: Any,
    key: str,
    setter: Callable[[Any], None],
    *,
    help: str | None = None,
    label_visibility: str = "collapsed",
) -> None:
    """A score or weight: one number or ``low / likely / high``; kept as typed when invalid."""
    sync(key, raw, ed.estimate_text(raw))
    container.text_input(
        md(label),  # names in labels come from the user's file: shown as text
        key=key,
        help=help or "A number, or a range as low / likely / high (e.g. 40 / 60 / 70) when unsure.",
        placeholder="-",
        on_change=_on_estimate,
        args=(key, raw, setter),
        label_visibility=label_visibility,
    )
    msg = st.session_state.get(_message_key(key))
    if not msg and isinstance(raw, str) and raw.strip():
        bad = ed.parse_estimate(raw)
        msg = bad.message if isinstance(bad, ed.Invalid) else None
    if msg:
        container.error(msg, icon=":material/error:")
