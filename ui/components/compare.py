"""What changed between two versions of a scenario, in a negotiator's words (pure data, no
Streamlit): issues, statuses, estimates (weights, scores, walk-away points), parties and rules.

``changes(before, after)`` compares two raw scenarios (dicts as in a file) and returns one
``Change`` per difference, grouped by ``section``; the Versions page shows them side by side with
the best packages of both versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ui import editing as ed

SECTIONS = ("Issues", "Statuses", "Estimates", "Parties", "Constraints", "Other")


@dataclass(frozen=True)
class Change:
    """One difference: which part (``section``), what, and the text before and after."""

    section: str
    what: str
    before: str
    after: str


def show_value(v: Any) -> str:
    """A raw value as short text: numbers plainly, ranges as low / likely / high, none as "-"."""
    if v is None:
        return "-"
    if ed.is_range(v):
        lo, li, hi = ed.est_parts(v)
        return " / ".join(show_value(x) for x in (lo, li, hi))
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int | float):
        return ed._num(v)
    if isinstance(v, dict):
        if "shape" in v:
            rest = ", ".join(f"{k} {show_value(x)}" for k, x in v.items() if k != "shape")
            return str(v["shape"]) + (f" ({rest})" if rest else "")
        return ", ".join(f"{k}: {show_value(x)}" for k, x in v.items())
    if isinstance(v, list):
        return ", ".join(show_value(x) for x in v)
    return str(v)


def _by_name(items: Any) -> dict[str, dict[str, Any]]:
    out = {}
    for i, x in enumerate(ed.as_list(items)):
        x = ed.as_dict(x)
        out[str(x.get("name", f"#{i + 1}"))] = x
    return out


def _diff(out: list[Change], section: str, what: str, a: Any, b: Any) -> None:
    if a != b:
        out.append(Change(section, what, show_value(a), show_value(b)))


def _issue_changes(out: list[Change], a: dict[str, Any], b: dict[str, Any]) -> None:
    ia, ib = _by_name(a.get("issues")), _by_name(b.get("issues"))
    for name in ia.keys() - ib.keys():
        out.append(Change("Issues", name, "an issue", "removed"))
    for name in [n for n in ib if n not in ia]:
        out.append(Change("Issues", name, "-", "added"))
    for name in [n for n in ib if n in ia]:
        x, y = ia[name], ib[name]
        _diff(out, "Issues", f"{name}: options", x.get("options"), y.get("options"))
        for f, label in (("min", "from"), ("max", "to"), ("step", "step"), ("unit", "unit")):
            _diff(out, "Issues", f"{name}: {label}", x.get(f), y.get(f))
        _diff(out, "Issues", f"{name}: on the table", x.get("value"), y.get("value"))
        _diff(out, "Statuses", name, x.get("status", "open"), y.get("status", "open"))


def _party_changes(out: list[Change], a: dict[str, Any], b: dict[str, Any]) -> None:
    pa, pb = _by_name(a.get("parties")), _by_name(b.get("parties"))
    for name in pa.keys() - pb.keys():
        out.append(Change("Parties", name, "a party", "removed"))
    for name in [n for n in pb if n not in pa]:
        out.append(Change("Parties", name, "-", "added"))
    for name in [n for n in pb if n in pa]:
        x, y = pa[name], pb[name]
        _diff(
            out,
            "Estimates",
            f"{name}: walk-away point",
            x.get("reservation_value"),
            y.get("reservation_value"),
        )
        _diff(out, "Estimates", f"{name}: aspiration", x.get("aspiration"), y.get("aspiration"))
        px, py = ed.as_dict(x.get("preferences")), ed.as_dict(y.get("preferences"))
        wx, wy = ed.as_dict(px.get("weights")), ed.as_dict(py.get("weights"))
        for issue in dict.fromkeys([*wx, *wy]):
            _diff(out, "Estimates", f"{name}: weight of {issue}", wx.get(issue), wy.get(issue))
        vx, vy = ed.as_dict(px.get("values")), ed.as_dict(py.get("values"))
        for issue in dict.fromkeys([*vx, *vy]):
            sx, sy = vx.get(issue), vy.get(issue)
            scored = isinstance(sx, dict) and isinstance(sy, dict)
            if scored and "shape" not in sx and "shape" not in sy:
                for opt in dict.fromkeys([*sx, *sy]):
                    _diff(out, "Estimates", f"{name}: {issue} = {opt}", sx.get(opt), sy.get(opt))
            else:
                _diff(out, "Estimates", f"{name}: values of {issue}", sx, sy)
        _diff(out, "Estimates", f"{name}: synergies", px.get("synergies"), py.get("synergies"))
        _diff(out, "Parties", f"{name}: notes", x.get("description"), y.get("description"))


def changes(before: Any, after: Any) -> list[Change]:
    """Every difference between two raw scenarios, grouped in ``SECTIONS`` order."""
    a, b = ed.as_dict(before), ed.as_dict(after)
    out: list[Change] = []
    _diff(out, "Other", "negotiation name", a.get("name"), b.get("name"))
    _diff(out, "Parties", "we are", a.get("us"), b.get("us"))
    _issue_changes(out, a, b)
    _party_changes(out, a, b)
    ca, cb = ed.as_list(a.get("constraints")), ed.as_list(b.get("constraints"))
    for c in ca:
        if c not in cb:
            out.append(Change("Constraints", ed.describe_constraint(c), "a rule", "removed"))
    for c in cb:
        if c not in ca:
            out.append(Change("Constraints", ed.describe_constraint(c), "-", "added"))
    _diff(out, "Other", "description", a.get("description"), b.get("description"))
    ha, hb = ed.as_list(a.get("history")), ed.as_list(b.get("history"))
    if ha != hb:
        out.append(Change("Other", "negotiation log", f"{len(ha)} entries", f"{len(hb)} entries"))
    known = {"name", "us", "issues", "parties", "constraints", "description", "history"}
    for key in dict.fromkeys([*a, *b]):
        if key not in known:
            _diff(out, "Other", str(key), a.get(key), b.get(key))
    order = {s: i for i, s in enumerate(SECTIONS)}
    return sorted(out, key=lambda c: order.get(c.section, len(order)))
