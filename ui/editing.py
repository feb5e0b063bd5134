"""Pure edits of raw scenario data (plain dicts as in a file), used by the Scenario page's form.

The form edits the raw data, never the validated model, so that whatever the user typed is kept
even while it breaks a rule; the validator then flags it. These functions keep the data's
cross-references consistent (renaming an issue renames it in weights, values, constraints and the
log; renaming options renames their scores) and never raise on malformed data.
"""

from __future__ import annotations

from typing import Any

from optimizer.scenario.models import format_number

SHAPES = ("increasing", "decreasing", "peak", "piecewise")


def as_list(x: Any) -> list[Any]:
    """``x`` when it is a list, else an empty list (malformed data is shown, not crashed on)."""
    return x if isinstance(x, list) else []


def as_dict(x: Any) -> dict[str, Any]:
    """``x`` when it is a dict, else an empty dict."""
    return x if isinstance(x, dict) else {}


def est_point(v: Any) -> float | None:
    """The point estimate of a raw number or range (``likely``); None when not a number."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, list | tuple) and len(v) == 3:
        return est_point(v[1])
    if isinstance(v, dict) and "likely" in v:
        return est_point(v["likely"])
    return None


def est_range(v: Any) -> tuple[float, float] | None:
    """(low, high) of a raw range estimate; None for a plain number."""
    if isinstance(v, list | tuple) and len(v) == 3:
        lo, hi = est_point(v[0]), est_point(v[2])
    elif isinstance(v, dict) and "likely" in v:
        lo, hi = est_point(v.get("low")), est_point(v.get("high"))
    else:
        return None
    if lo is None or hi is None:
        return None
    return lo, hi


def est_set(old: Any, new: float | None) -> Any:
    """Replace the point estimate, keeping a range's low and high (the validator checks order)."""
    if new is None:
        return None
    new = tidy(new)
    if isinstance(old, list | tuple) and len(old) == 3:
        return [old[0], new, old[2]]
    if isinstance(old, dict) and "likely" in old:
        return {**old, "likely": new}
    return new


def tidy(x: float) -> int | float:
    """20.0 -> 20 so the saved file reads as typed."""
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def party(data: dict[str, Any], idx: int) -> dict[str, Any]:
    """The raw party at ``idx`` (its preferences dicts created when missing)."""
    p = as_list(data.get("parties"))[idx]
    prefs = p.setdefault("preferences", {})
    if not isinstance(prefs, dict):
        prefs = p["preferences"] = {}
    if not isinstance(prefs.get("weights"), dict):
        prefs["weights"] = {}
    if not isinstance(prefs.get("values"), dict):
        prefs["values"] = {}
    return p


def _rename_keys(d: Any, old: str, new: str) -> None:
    if isinstance(d, dict) and old in d and old != new:
        items = list(d.items())
        d.clear()
        for k, v in items:
            d[new if k == old else k] = v


def rename_issue(data: dict[str, Any], old: str, new: str) -> None:
    """Rename an issue everywhere it is referred to (weights, values, synergies, constraints, log)."""
    if old == new:
        return
    for it in as_list(data.get("issues")):
        if isinstance(it, dict) and it.get("name") == old:
            it["name"] = new
    for p in as_list(data.get("parties")):
        prefs = as_dict(as_dict(p).get("preferences"))
        _rename_keys(prefs.get("weights"), old, new)
        _rename_keys(prefs.get("values"), old, new)
        for syn in as_list(prefs.get("synergies")):
            _rename_keys(as_dict(syn).get("when"), old, new)
        for field in ("reservation_value", "aspiration"):
            _rename_keys(as_dict(as_dict(p).get(field)).get("package"), old, new)
    for c in as_list(data.get("constraints")):
        c = as_dict(c)
        if c.get("issue") == old:
            c["issue"] = new
        for field in ("combination", "when", "then", "costs"):
            _rename_keys(c.get(field), old, new)
    for offer in as_list(data.get("history")):
        _rename_keys(as_dict(offer).get("package"), old, new)
        _rename_keys(as_dict(offer).get("status_changes"), old, new)


def set_options(data: dict[str, Any], issue_idx: int, options: list[str]) -> None:
    """Set a categorical issue's options; renamed options (same position) keep their scores."""
    issue = as_list(data.get("issues"))[issue_idx]
    old = [str(o) for o in as_list(issue.get("options"))]
    renames = {}
    if len(old) == len(options):
        renames = {a: b for a, b in zip(old, options, strict=True) if a != b}
    issue["options"] = list(options)
    name = issue.get("name")
    if renames:
        if issue.get("value") in renames:
            issue["value"] = renames[issue["value"]]
        _rename_option_refs(data, str(name), renames)


def _rename_option_refs(data: dict[str, Any], name: str, renames: dict[str, str]) -> None:
    """Follow option renames of issue ``name`` in scores, synergies, constraints and the log."""

    def conv(v: Any) -> Any:
        if isinstance(v, list):
            return [conv(x) for x in v]
        return renames.get(v, v) if isinstance(v, str) else v

    def conv_in(d: Any) -> None:
        if isinstance(d, dict) and name in d:
            d[name] = conv(d[name])

    for p in as_list(data.get("parties")):
        prefs = as_dict(as_dict(p).get("preferences"))
        scores = as_dict(prefs.get("values")).get(name)
        if isinstance(scores, dict) and "shape" not in scores:
            new_scores = {renames.get(k, k): v for k, v in scores.items()}
            scores.clear()
            scores.update(new_scores)
        for syn in as_list(prefs.get("synergies")):
            conv_in(as_dict(syn).get("when"))
        for field in ("reservation_value", "aspiration"):
            conv_in(as_dict(as_dict(p).get(field)).get("package"))
    for c in as_list(data.get("constraints")):
        c = as_dict(c)
        if c.get("issue") == name and isinstance(c.get("options"), list):
            c["options"] = conv(c["options"])
        for field in ("combination", "when", "then"):
            conv_in(c.get(field))
        costs = as_dict(c.get("costs")).get(name)
        if isinstance(costs, dict) and "per_unit" not in costs:
            new_costs = {renames.get(k, k): v for k, v in costs.items()}
            costs.clear()
            costs.update(new_costs)
    for offer in as_list(data.get("history")):
        conv_in(as_dict(offer).get("package"))


def set_kind(data: dict[str, Any], issue_idx: int, kind: str) -> None:
    """Turn an issue categorical or numeric, with sensible starting fields; resets its values."""
    issue = as_list(data.get("issues"))[issue_idx]
    name = issue.get("name")
    if kind == "numeric":
        if "options" not in issue:
            return
        issue.pop("options", None)
        issue.update({"min": 0, "max": 100, "step": 1})
        shape: dict[str, Any] | None = {"shape": "increasing"}
    else:
        if "options" in issue:
            return
        for f in ("min", "max", "step", "unit"):
            issue.pop(f, None)
        issue["options"] = ["Option A", "Option B"]
        shape = None
    issue.pop("value", None)
    issue.pop("status", None)
    for p in as_list(data.get("parties")):
        values = as_dict(as_dict(as_dict(p).get("preferences")).get("values"))
        if shape is None:
            values.pop(name, None)
        else:
            values[name] = dict(shape)


def unique_name(existing: list[str], base: str) -> str:
    """``base`` or ``base 2``, ``base 3``... not in ``existing``."""
    if base not in existing:
        return base
    n = 2
    while f"{base} {n}" in existing:
        n += 1
    return f"{base} {n}"


def add_issue(data: dict[str, Any], kind: str = "categorical") -> str:
    """Append a new issue (weight 1 for every party) and return its name."""
    issues = data.setdefault("issues", [])
    names = [str(as_dict(i).get("name")) for i in as_list(issues)]
    name = unique_name(names, "New issue")
    if kind == "numeric":
        issues.append({"name": name, "min": 0, "max": 100, "step": 1})
    else:
        issues.append({"name": name, "options": ["Option A", "Option B"]})
    for j, p in enumerate(as_list(data.get("parties"))):
        if isinstance(p, dict):
            party(data, j)["preferences"]["weights"][name] = 1
    # A numeric issue gets no direction yet: the Issues tab asks each side's (with a guess once
    # its name or unit says money), instead of silently counting more as better for everyone.
    return name


def remove_issue(data: dict[str, Any], issue_idx: int) -> None:
    """Delete an issue and its weights and values (constraints naming it are flagged, not cut)."""
    issues = as_list(data.get("issues"))
    name = as_dict(issues[issue_idx]).get("name")
    del issues[issue_idx]
    for p in as_list(data.get("parties")):
        prefs = as_dict(as_dict(p).get("preferences"))
        as_dict(prefs.get("weights")).pop(name, None)
        as_dict(prefs.get("values")).pop(name, None)


def add_party(data: dict[str, Any]) -> str:
    """Append a party (weight 1 on every issue) and return its name."""
    parties = data.setdefault("parties", [])
    names = [str(as_dict(p).get("name")) for p in as_list(parties)]
    name = unique_name(names, "Other party")
    issues = [as_dict(i) for i in as_list(data.get("issues"))]
    values = {str(i.get("name")): {"shape": "increasing"} for i in issues if "options" not in i}
    parties.append(
        {
            "name": name,
            "preferences": {"weights": {str(i.get("name")): 1 for i in issues}, "values": values},
        }
    )
    return name


def remove_party(data: dict[str, Any], party_idx: int) -> None:
    """Delete a party (``us`` is cleared when it named that party)."""
    parties = as_list(data.get("parties"))
    name = as_dict(parties[party_idx]).get("name")
    del parties[party_idx]
    if data.get("us") == name:
        data.pop("us", None)


def rename_party(data: dict[str, Any], old: str, new: str) -> None:
    """Rename a party everywhere (``us``, constraints, the log)."""
    for p in as_list(data.get("parties")):
        if isinstance(p, dict) and p.get("name") == old:
            p["name"] = new
    if data.get("us") == old:
        data["us"] = new
    for c in as_list(data.get("constraints")):
        if isinstance(c, dict) and c.get("party") == old:
            c["party"] = new
    for offer in as_list(data.get("history")):
        if isinstance(offer, dict) and offer.get("by") == old:
            offer["by"] = new


def apply_score_edits(
    data: dict[str, Any], issue_name: str, options: list[str], edited_rows: dict[Any, Any]
) -> None:
    """Apply a data_editor's ``edited_rows`` ({row: {"p<j>": score}}) to the option scores."""
    for row, cols in as_dict(edited_rows).items():
        r = int(row)
        if not 0 <= r < len(options):
            continue
        for col, val in as_dict(cols).items():
            if not str(col).startswith("p"):
                continue
            j = int(str(col)[1:])
            values = party(data, j)["preferences"]["values"]
            scores = values.get(issue_name)
            if not isinstance(scores, dict) or "shape" in scores:
                scores = values[issue_name] = {}
            opt = options[r]
            if val is None or (isinstance(val, float) and val != val):
                scores.pop(opt, None)
            else:
                scores[opt] = est_set(scores.get(opt), float(val))


def frame_changes(before: Any, after: Any, columns: list[str]) -> dict[int, dict[str, Any]]:
    """Cells of ``columns`` that differ between two data frames of the same rows, by row."""
    out: dict[int, dict[str, Any]] = {}
    if after is None or len(after) != len(before):
        return out
    for r in range(len(before)):
        for c in columns:
            a, b = before[c].iloc[r], after[c].iloc[r]
            a_na, b_na = a is None or a != a, b is None or b != b
            if a_na and b_na:
                continue
            if a_na != b_na or abs(float(a) - float(b)) > 1e-12:
                out.setdefault(r, {})[c] = None if b_na else float(b)
    return out


def parse_points(text: str) -> list[list[float]] | str:
    """Piecewise points typed as ``40:0, 50:80, 60:100``; an error message when unreadable."""
    pts = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if ":" not in part:
            return f"{part!r} is not value:score (e.g. 40:0, 50:80, 60:100)"
        a, b = part.split(":", 1)
        try:
            pts.append([tidy(float(a)), tidy(float(b))])
        except ValueError:
            return f"{part!r} is not value:score with two numbers"
    return pts


def points_text(points: Any) -> str:
    """Piecewise points as ``40:0, 50:80`` text."""
    out = []
    for p in as_list(points):
        if isinstance(p, list | tuple) and len(p) == 2:
            out.append(f"{_num(p[0])}:{_num(p[1])}")
    return ", ".join(out)


def _num(x: Any) -> str:
    return format_number(float(x)) if isinstance(x, int | float) else str(x)


def _cond(v: Any) -> str:
    if isinstance(v, list):
        return " or ".join(_cond(x) for x in v)
    if isinstance(v, dict):
        lo, hi = v.get("min"), v.get("max")
        if lo is not None and hi is not None:
            return f"between {_num(lo)} and {_num(hi)}"
        return f"at least {_num(lo)}" if lo is not None else f"at most {_num(hi)}"
    return _num(v) if isinstance(v, int | float) else str(v)


def _conds(d: Any) -> str:
    return " and ".join(f"{k} is {_cond(v)}" for k, v in as_dict(d).items())


def describe_constraint(c: Any) -> str:
    """One constraint in words ("CloudDesk: price per seat at least 44")."""
    c = as_dict(c)
    who = f"{c['party']}: " if c.get("party") else ""
    kind = c.get("type")
    if kind == "acceptable":
        if c.get("options") is not None:
            body = f"{c.get('issue')} must be {_cond(list(c['options']))}"
        else:
            body = f"{c.get('issue')} {_cond({'min': c.get('min'), 'max': c.get('max')})}"
    elif kind == "forbidden":
        body = f"not both {_conds(c.get('combination'))}"
    elif kind == "implies":
        body = f"if {_conds(c.get('when'))} then {_conds(c.get('then'))}"
    elif kind == "budget":
        body = f"total cost of {', '.join(as_dict(c.get('costs')))} at most {_num(c.get('limit'))} {c.get('unit', '')}".rstrip()
    else:
        body = f"unknown constraint type {kind!r}"
    name = f"**{c['name']}** — " if c.get("name") else ""
    return f"{name}{who}{body}"


# --------------------------------------------------------------------------------------------
# Estimate ranges (low / likely / high)
# --------------------------------------------------------------------------------------------

RANGE_PARTS = ("low", "likely", "high")


def est_parts(v: Any) -> tuple[float | None, float | None, float | None]:
    """(low, likely, high) of a raw estimate; a plain number is its own low and high."""
    if isinstance(v, list | tuple) and len(v) == 3:
        return est_point(v[0]), est_point(v[1]), est_point(v[2])
    if isinstance(v, dict) and "likely" in v:
        return est_point(v.get("low")), est_point(v.get("likely")), est_point(v.get("high"))
    p = est_point(v)
    return p, p, p


def range_set(old: Any, part: str, new: float | None) -> Any:
    """Set one of ``low``/``likely``/``high``, turning a plain number into ``[low, likely, high]``.

    The order is not forced here: the validator flags ``low > likely`` so the typed value is kept.
    """
    if new is None:
        return old
    new = tidy(new)
    if isinstance(old, dict) and "likely" in old:
        return {**old, part: new}
    parts = list(old) if isinstance(old, list | tuple) and len(old) == 3 else [old, old, old]
    parts[RANGE_PARTS.index(part)] = new
    return parts


def is_range(v: Any) -> bool:
    """True when a raw estimate is written as a range (list of three or low/likely/high)."""
    return (isinstance(v, list | tuple) and len(v) == 3) or (isinstance(v, dict) and "likely" in v)


def party_uncertain(data: dict[str, Any], idx: int) -> bool:
    """True when any of the party's weights or its reservation value is written as a range."""
    p = party(data, idx)
    weights = p["preferences"]["weights"]
    return any(is_range(w) for w in weights.values()) or is_range(p.get("reservation_value"))


def set_uncertain(data: dict[str, Any], idx: int, on: bool) -> None:
    """Turn a party's weights and reservation value into ranges (low = likely = high to start)
    or back into their likely values."""
    p = party(data, idx)
    weights = p["preferences"]["weights"]

    def conv(v: Any) -> Any:
        if on:
            return v if is_range(v) or est_point(v) is None else [v, v, v]
        if is_range(v):
            likely = v[1] if isinstance(v, list | tuple) else v.get("likely")
            return likely
        return v

    for k in list(weights):
        weights[k] = conv(weights[k])
    rv = p.get("reservation_value")
    if rv is not None and not (isinstance(rv, dict) and "package" in rv):
        p["reservation_value"] = conv(rv)


# --------------------------------------------------------------------------------------------
# Constraints built from form fields
# --------------------------------------------------------------------------------------------

CONSTRAINT_TYPES = {
    "acceptable": "Acceptable options or range",
    "forbidden": "Forbidden combination",
    "implies": "If ... then ...",
    "budget": "Budget",
}


def condition_pairs(data: dict[str, Any], grid_limit: int = 60) -> list[tuple[str, Any]]:
    """Every ``(issue, value)`` a form may offer: each option, and each value of a numeric issue
    with at most ``grid_limit`` values (wider ones are written on the YAML editor)."""
    out: list[tuple[str, Any]] = []
    for it in as_list(data.get("issues")):
        it = as_dict(it)
        name = str(it.get("name"))
        if "options" in it:
            out += [(name, str(o)) for o in as_list(it.get("options"))]
            continue
        lo, hi = est_point(it.get("min")), est_point(it.get("max"))
        step = est_point(it.get("step")) or 1.0
        if lo is None or hi is None or step <= 0 or (hi - lo) / step + 1 > grid_limit:
            continue
        n = int(round((hi - lo) / step))
        out += [(name, tidy(float(lo + k * step))) for k in range(n + 1) if lo + k * step <= hi]
    return out


def pair_label(pair: tuple[str, Any]) -> str:
    """``term = 1 year`` as shown in a pick list."""
    return f"{pair[0]} = {_num(pair[1])}"


def conditions(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Picked ``(issue, value)`` pairs as a constraint's condition mapping; two values of the same
    issue become a list ("any of")."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name not in out:
            out[name] = value
        elif isinstance(out[name], list):
            if value not in out[name]:
                out[name].append(value)
        elif out[name] != value:
            out[name] = [out[name], value]
    return out


def new_constraint(kind: str, fields: dict[str, Any]) -> dict[str, Any] | str:
    """A raw constraint from an add-constraint form's fields, or a message saying what to pick.

    Anything the validator checks (unknown names, ``min > max``, negative costs...) is left to it,
    so the constraint is kept and flagged like every other entry.
    """
    c: dict[str, Any] = {"type": kind}
    if fields.get("name"):
        c["name"] = str(fields["name"]).strip()
    if fields.get("party"):
        c["party"] = fields["party"]
    if kind == "acceptable":
        if not fields.get("issue"):
            return "pick the issue"
        c["issue"] = fields["issue"]
        if fields.get("numeric"):
            for f in ("min", "max"):
                if fields.get(f) is not None:
                    c[f] = tidy(float(fields[f]))
            if "min" not in c and "max" not in c:
                return "give a lowest or a highest acceptable value (or both)"
        else:
            if not fields.get("options"):
                return "pick at least one acceptable option"
            c["options"] = list(fields["options"])
    elif kind == "forbidden":
        combo = conditions(as_list(fields.get("pairs")))
        if len(combo) < 2:
            return "pick at least two issue = value pairs, from different issues"
        c["combination"] = combo
    elif kind == "implies":
        when, then = (
            conditions(as_list(fields.get("when"))),
            conditions(as_list(fields.get("then"))),
        )
        if not when or not then:
            return "pick at least one 'when' and one 'then' issue = value pair"
        c["when"], c["then"] = when, then
    elif kind == "budget":
        costs = as_dict(fields.get("costs"))
        if not costs:
            return "pick at least one issue that costs something"
        if fields.get("limit") is None:
            return "give the budget limit"
        c["costs"] = costs
        c["limit"] = tidy(float(fields["limit"]))
        if fields.get("unit"):
            c["unit"] = str(fields["unit"]).strip()
    else:
        return f"unknown constraint type {kind!r}"
    return c


def add_constraint(data: dict[str, Any], constraint: dict[str, Any]) -> None:
    """Append a constraint to the raw data."""
    cons = data.get("constraints")
    if not isinstance(cons, list):
        cons = data["constraints"] = []
    cons.append(constraint)


def remove_constraint(data: dict[str, Any], idx: int) -> None:
    """Delete the constraint at ``idx`` (the key goes when none are left)."""
    cons = as_list(data.get("constraints"))
    if 0 <= idx < len(cons):
        del cons[idx]
    if not cons:
        data.pop("constraints", None)


# --------------------------------------------------------------------------------------------
# Typed numbers (a text field that keeps what was typed and says what is wrong)
# --------------------------------------------------------------------------------------------


def parse_number(text: Any) -> float | None | str:
    """A typed number: the float, None when empty, or a message saying why it is not a number.

    A decimal comma is accepted when it cannot be a thousands separator ("56,5" -> 56.5,
    "1.250,5" -> 1250.5, "1,250.5" -> 1250.5); "1,250" alone is ambiguous and refused with a
    message, as is anything that is not a number ("5x7")."""
    if text is None:
        return None
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    s = str(text).strip().replace("\u2009", "").replace("\u00a0", "").replace(" ", "")
    if not s:
        return None
    shown = str(text).strip()
    if s.count(",") and s.count("."):
        if s.rfind(",") > s.rfind("."):  # 1.250,5: dot thousands, comma decimal
            s = s.replace(".", "").replace(",", ".")
        else:  # 1,250.5
            s = s.replace(",", "")
    elif s.count(",") == 1:
        head, tail = s.split(",")
        if len(tail) == 3 and head.lstrip("+-").isdigit() and head.lstrip("+-") != "0":
            return (
                f"{shown!r} is ambiguous: write {head}{tail} for {head} thousand "
                f"or {head}.{tail} for a decimal"
            )
        s = head + "." + tail
    elif s.count(",") > 1:
        s = s.replace(",", "")  # 1,250,000
    try:
        x = float(s)
    except ValueError:
        return f"{shown!r} is not a number (e.g. 56.5 or 56,5)"
    if x != x or x in (float("inf"), float("-inf")):
        return f"{shown!r} is not a finite number"
    return x


def number_text(v: Any) -> str:
    """A raw number as the text a number field starts with ("" for none; kept text as is)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int | float):
        return format_number(float(v))
    return str(v)


def parse_estimate(text: Any) -> Any:
    """A typed score or weight: a number, a range ``low / likely / high`` (as a list of three),
    None when empty, or an ``Invalid`` carrying the message (the text is kept as typed)."""
    if text is None or not str(text).strip():
        return None
    parts = [p.strip() for p in str(text).split("/")]
    if len(parts) == 1:
        x = parse_number(parts[0])
        return Invalid(str(text).strip(), x) if isinstance(x, str) else tidy(x)
    if len(parts) != 3:
        return Invalid(
            str(text).strip(), f"{str(text).strip()!r}: write one number or low / likely / high"
        )
    out = []
    for name, p in zip(RANGE_PARTS, parts, strict=True):
        x = parse_number(p)
        if x is None:
            return Invalid(str(text).strip(), f"the {name} value is missing (low / likely / high)")
        if isinstance(x, str):
            return Invalid(str(text).strip(), f"{name}: {x}")
        out.append(tidy(x))
    return out


class Invalid(str):
    """Text typed into a number field that is not a number; ``message`` says why."""

    message: str

    def __new__(cls, text: str, message: str) -> Invalid:
        obj = super().__new__(cls, text)
        obj.message = message
        return obj


def estimate_text(v: Any) -> str:
    """A raw estimate as the text of its field: ``40``, ``30 / 40 / 60`` for a range."""
    if is_range(v):
        return " / ".join(number_text(x) for x in est_parts_raw(v))
    return number_text(v)


def est_parts_raw(v: Any) -> list[Any]:
    """The three raw parts of a range (as stored, even when not numbers)."""
    if isinstance(v, dict):
        return [v.get(p) for p in RANGE_PARTS]
    return list(v)


def set_estimate(old: Any, new: Any) -> Any:
    """The value to store for a typed estimate: a number, a range keeping ``old``'s form (a
    low/likely/high mapping stays one), or the invalid text as typed (the validator flags it)."""
    if isinstance(new, list) and isinstance(old, dict) and "likely" in old:
        return {**old, **dict(zip(RANGE_PARTS, new, strict=True))}
    return str(new) if isinstance(new, Invalid) else new


# --------------------------------------------------------------------------------------------
# Guided entry: each side's direction on a numeric issue
# --------------------------------------------------------------------------------------------

DIRECTIONS = {
    "increasing": "more is better",
    "decreasing": "less is better",
    "peak": "a best value",
    "piecewise": "points (value:score)",
}
_MONEY = ("price", "cost", "fee", "rate", "rent", "charge", "tariff", "budget", "premium", "spend")
_MONEY_UNITS = ("$", "€", "£", "¥", "usd", "eur", "gbp", "chf", "dollar", "euro", "kusd", "k€")
_EARNED = ("salary", "wage", "bonus", "commission", "income", "revenue", "compensation")


def _words(text: str) -> list[str]:
    return [w for w in "".join(c if c.isalnum() else " " for c in text.lower()).split() if w]


def guess_directions(
    data: dict[str, Any], issue: dict[str, Any]
) -> tuple[dict[str, str], str] | None:
    """Each party's likely direction on a numeric issue, from its name and unit, and the reason
    in words; None when the name and unit say nothing (then the user is asked, not guessed for).

    Money paid (a price, a cost, a fee, a unit like USD): the payer -- taken to be us, the side
    preparing the negotiation -- prefers less and the other sides more. Money earned (a salary,
    a bonus): we prefer more, the payer less."""
    name, unit = str(issue.get("name", "")), str(issue.get("unit", ""))
    words = _words(name) + _words(unit)
    money_unit = any(u in unit.lower() for u in _MONEY_UNITS)
    earned = any(w.startswith(e) for w in words for e in _EARNED)
    paid = any(w.startswith(m) for w in words for m in _MONEY) or money_unit
    if not (earned or paid):
        return None
    names = [str(as_dict(p).get("name", "")) for p in as_list(data.get("parties"))]
    if not names:
        return None
    us = data.get("us") if data.get("us") in names else names[0]
    ours, theirs = ("increasing", "decreasing") if earned else ("decreasing", "increasing")
    what = "money we earn" if earned else "a price or cost"
    reason = (
        f"Guessed from {'the unit ' + repr(unit) if money_unit and not earned else repr(name)}: "
        f"{what} — {us} prefers {'more' if earned else 'less'}, "
        f"the other side{'s' if len(names) > 2 else ''} {'less' if earned else 'more'}. "
        "Check each side."
    )
    return {n: (ours if n == us else theirs) for n in names}, reason


def directions(data: dict[str, Any], issue_name: str) -> dict[str, str | None]:
    """Each party's current shape on a numeric issue (None when not given)."""
    out: dict[str, str | None] = {}
    for p in as_list(data.get("parties")):
        p = as_dict(p)
        spec = as_dict(as_dict(as_dict(p.get("preferences")).get("values")).get(issue_name))
        out[str(p.get("name", ""))] = spec.get("shape") if spec else None
    return out


def set_direction(
    data: dict[str, Any], issue: dict[str, Any], party_name: str, shape: str | None
) -> None:
    """Set one party's direction on a numeric issue (a peak starts mid-range, points at the ends)."""
    iname = str(issue.get("name"))
    for j, p in enumerate(as_list(data.get("parties"))):
        if as_dict(p).get("name") != party_name:
            continue
        values = party(data, j)["preferences"]["values"]
        if shape is None:
            values.pop(iname, None)
            return
        old = as_dict(values.get(iname))
        if old.get("shape") == shape:
            return
        lo, hi = est_point(issue.get("min")) or 0.0, est_point(issue.get("max")) or 0.0
        if shape == "peak":
            values[iname] = {"shape": "peak", "peak": tidy((lo + hi) / 2)}
        elif shape == "piecewise":
            values[iname] = {"shape": "piecewise", "points": [[tidy(lo), 0], [tidy(hi), 100]]}
        else:
            values[iname] = {"shape": shape}
