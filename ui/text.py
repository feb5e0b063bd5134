"""User-supplied text on screen, escaped (issue 15): names never render as Markdown or HTML.

A scenario file is shared: a party named ``![x](http://host/track.png)`` must not make the browser
fetch that URL, and a name must not plant a link, a heading, a colour directive (``:red[...]``),
an icon shortcode or LaTeX. Every display site passes user text through one of these:

* ``md(text)``: for Streamlit's Markdown (``st.markdown``, captions, alert boxes, expander and tab
  labels, widget labels): the characters that can make structure are backslash-escaped
  (CommonMark allows escaping any ASCII punctuation; Streamlit shows raw HTML as text anyway),
  ``://`` / ``www.`` / ``:word`` are broken up (autolinks, colour directives, icon shortcodes)
  and line breaks become spaces (a newline in a name would start a new block).
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

_ALWAYS = re.compile(r"([\\`*_\[\]#|~${}]|<(?=[A-Za-z/!?]))")  # links, images, tags, math...
_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def md(text: Any) -> str:
    """``text`` as literal characters inside Streamlit Markdown.

    Escaped: the characters that open a link, image, HTML tag, emphasis, code, table, heading,
    math or ``:directive[...]``; ``://``, ``www.`` and ``:word`` (autolinks and shortcodes); a
    list marker at the start. Plain sentences ("B's price (at most 3): 5.") stay as written."""
    s = _BREAKS.sub(" ", str(text))
    s = _ALWAYS.sub(r"\\\1", s)
    s = _no_autolink(s)
    s = re.sub(r":(?=[A-Za-z])", r"\\:", s)  # :red[...], :material/icon:, :smile:
    s = re.sub(r"^(\s*)([-+>])", r"\1\\\2", s)  # not a list item or a quote
    return re.sub(r"^(\s*\d+)([.)])", r"\1\\\2", s)


#: Invisible, zero-width: breaks what the GFM autolink extension would turn into a link.
ZWSP = "\u200b"


def _no_autolink(s: str) -> str:
    """Break ``scheme://``, ``www.`` and ``x@y`` so no autolink can form.

    Streamlit's Markdown links bare URLs *after* escapes are resolved (the autolink step works on
    the parsed text), so backslashes do not stop it: a zero-width space does."""
    s = re.sub(r"(?i)([a-z][a-z0-9+.-]*):(?=//)", lambda m: m.group(1) + ":" + ZWSP, s)
    s = re.sub(r"(?i)www\.", lambda m: m.group(0)[:3] + ZWSP + ".", s)
    return s.replace("@", ZWSP + "@")


def html_text(text: Any) -> str:
    """``text`` as literal characters inside HTML (plotly labels and hover text)."""
    s = html.escape(_BREAKS.sub(" ", str(text)), quote=True)
    return s.replace("{", "&#123;").replace("}", "&#125;")  # no plotly %{...} template


def safe_markdown(document: str) -> str:
    """A Markdown document with its structure kept but no link, image, HTML or autolink."""
    s = document.replace("\\", "\\\\")
    s = re.sub(r"([\[\]<>`$])", r"\\\1", s)
    s = _no_autolink(s)
    return re.sub(r":([A-Za-z_/]+):", r"\\:\1\\:", s)  # icon and emoji shortcodes
