"""The validator's locations and messages in the app's own words.

The library speaks the file format (``party "CloudDesk" > reservation_value``); the app's form
says "walk-away point". Every problem shown in the app goes through ``location`` / ``message`` so
a negotiator reads the words of the field next to it. Pure text, no Streamlit.
"""

from __future__ import annotations

import re

from ui.text import md

# Field names of the file format -> the form's labels (longest first when replacing).
TERMS = {
    "reservation_value": "walk-away point",
    "reservation value": "walk-away point",
    "utility_scale": "utility scale",
    "per_unit": "cost per unit",
    "status_changes": "status changes",
    "aspiration": "aspiration",
    "weights": "weights",
    "values": "scores",
    "synergies": "synergies",
    "synergy": "synergy",
    "history": "negotiation log",
    "constraints": "constraints",
    "description": "notes",
}
_LOCATION_PARTS = {
    "reservation_value": "walk-away point",
    "values": "scores",
    "weights": "weight",
    "utility_scale": "utility scale",
    "per_unit": "cost per unit",
    "status_changes": "status changes",
    "history": "negotiation log",
    "us": "we are",
    "name": "negotiation name",
    "min": "from",
    "max": "to",
    "value": "on the table",
    "options": "options",
}
_MESSAGE_PATTERNS = [
    (re.compile(r"\breservation[_ ]values?\b"), "walk-away point"),
    (re.compile(r"\butility_scale\b"), "utility scale"),
    (re.compile(r"\bper_unit\b"), "cost per unit"),
    (re.compile(r"\bstatus_changes\b"), "status changes"),
    (re.compile(r"\(set value\)"), "(fill in 'On the table')"),
    (re.compile(r"\bset value\b"), "fill in 'On the table'"),
]


def location(loc: str) -> str:
    """``party "X" > reservation_value`` -> ``X › walk-away point``; ``issue "price"`` -> ``price``."""
    if not loc:
        return loc
    parts = [p.strip() for p in loc.split(" > ")]
    out = []
    for i, part in enumerate(parts):
        m = re.fullmatch(r'(party|issue|option|constraint) "(.*)"', part)
        if m:
            out.append(m.group(2) if m.group(1) != "constraint" else f"rule “{m.group(2)}”")
            continue
        if len(part) >= 2 and part[0] == part[-1] == '"':
            out.append(part[1:-1])
            continue
        if i == 0 and part in ("name", "us", "description"):
            out.append(_LOCATION_PARTS.get(part, part) if part != "description" else "description")
            continue
        out.append(_LOCATION_PARTS.get(part, part.replace("_", " ")))
    return " › ".join(out)


def message(text: str) -> str:
    """A validator message with the file format's field names replaced by the form's labels."""
    for pattern, words in _MESSAGE_PATTERNS:
        text = pattern.sub(words, text)
    return text


def problem(loc: str, msg: str) -> str:
    """``**where**: what`` for one problem, in the app's words (markdown)."""
    where = location(loc)
    text = md(message(msg))  # names come from the user's file: never markdown or links
    return f"**{md(where)}**: {text}" if where else text
