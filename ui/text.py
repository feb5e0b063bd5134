"""User-supplied text on screen, escaped (issue 15): names never render as Markdown or HTML.

A scenario file is shared: a party named ``![x](http://host/track.png)`` must not make the browser
fetch that URL, and a name must not plant a link, a heading, a colour directive (``:red[...]``),
an icon shortcode or LaTeX. Every display site passes user text through one of these:

* ``md(text)``: for Streamlit's Markdown (``st.markdown``, captions, alert boxes, expander and tab
  labels, widget labels): every ASCII punctuation character is backslash-escaped (CommonMark
  allows exactly that, and it also breaks ``http://`` / ``www.`` autolinks, ``:shortcodes:`` and
  ``$math$``); ``<``/``>``/``&`` become entities, line breaks become spaces (a newline in a name
  would start a new block).
* ``html_text(text)``: for HTML contexts (plotly hover and annotation text, which renders a subset
  of HTML including ``<a href>``): entities, line breaks as spaces.
* ``safe_markdown(document)``: for a whole Markdown document built from user names (the proposal
  preview): headings, lists, tables and emphasis stay, but no link, image, raw HTML or autolink
  can form.
"""

from __future__ import annotations

import html
import re
from typing import Any

_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_ENTITIES = {"<": "&lt;", ">": "&gt;"}
_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def md(text: Any) -> str:
    """``text`` as literal characters inside Streamlit Markdown."""
    s = _BREAKS.sub(" ", str(text))
    return _PUNCT.sub(lambda m: _ENTITIES.get(m.group(1), "\\" + m.group(1)), s)


def html_text(text: Any) -> str:
    """``text`` as literal characters inside HTML (plotly labels and hover text)."""
    s = html.escape(_BREAKS.sub(" ", str(text)), quote=True)
    return s.replace("{", "&#123;").replace("}", "&#125;")  # no plotly %{...} template


def safe_markdown(document: str) -> str:
    """A Markdown document with its structure kept but no link, image, HTML or autolink."""
    s = document.replace("\\", "\\\\")
    s = re.sub(r"([\[\]<>`$])", r"\\\1", s)
    s = s.replace("://", r":\/\/").replace("www.", r"www\.")
    s = re.sub(r"(\S)@(\S)", r"\1\\@\2", s)  # e-mail autolinks
    return re.sub(r":([A-Za-z_/]+):", r"\\:\1\\:", s)  # icon and emoji shortcodes
