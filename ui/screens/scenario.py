"""Scenario page: start from an example, a file or blank; edit everything; download as YAML.

Every widget writes straight into the session's raw data (``state.get_data()``) through an
``on_change`` callback and re-validates; invalid entries stay as typed and the validator's located
message is shown next to the field concerned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st
import yaml

from optimizer.scenario.models import STATUSES, format_number
from ui import editing as ed
from ui import learning, state
from ui.components import fields, score_grid
from ui.text import md
from ui.upload import MAX_UPLOAD_BYTES, parse_upload

PAGE_ORDER = 10
PAGE_TITLE = "Scenario"
PAGE_ICON = ":material/edit_note:"

YAML_TEXT = "dealopt_yaml_text"  # kept text of the YAML editor while it does not parse
CONSTRAINTS_TEXT = "dealopt_constraints_text"
UPLOADED = "dealopt_uploaded_id"
WORKBOOK_ERROR = "dealopt_upload_workbook"
WORKBOOK_NOTES = "dealopt_workbook_notes"


# --------------------------------------------------------------------------------------------
# Small helpers: every edit is a callback that changes the raw data, then re-validates
# --------------------------------------------------------------------------------------------


def _apply(key: str, fn: Callable[[Any], None]) -> None:
    fn(st.session_state[key])
    state.commit()


def _run(fn: Callable[[], None], reset: bool = False) -> None:
    fn()
    state.set_data(state.get_data(), reset_widgets=reset)


def _loc_issue(idx: int, name: Any) -> Callable[[str], bool]:
    heads = (f'issue "{name}"', f"issue {idx + 1}")
    return lambda loc: any(loc == h or loc.startswith(h + " ") for h in heads)


def _loc_party(idx: int, name: Any, prefs: bool) -> Callable[[str], bool]:
    heads = (f'party "{name}"', f"party {idx + 1}")

    def match(loc: str) -> bool:
        if not any(loc == h or loc.startswith(h + " ") for h in heads):
            return False
        is_pref = any(w in loc for w in ("> weights", "> values", "> preferences", "> synergy"))
        return is_pref == prefs

    return match


def _rename(data: dict[str, Any], what: str, old: str, new: str, key: str) -> None:
    """Rename an issue or party everywhere; a name already taken is refused (and said so)."""
    items = ed.as_list(data.get("issues" if what == "issue" else "parties"))
    taken = [str(ed.as_dict(i).get("name")) for i in items if ed.as_dict(i).get("name") != old]
    if new in taken:
        st.session_state[key + ":error"] = (
            f"another {what} is already called {new!r}; choose a different name"
        )
        return
    st.session_state[key + ":error"] = None
    if what == "issue":
        ed.rename_issue(data, old, new)
    else:
        ed.rename_party(data, old, new)


def _field_error(key: str, container: Any = st) -> None:
    """The message a field's callback left (e.g. a refused rename), shown under the field."""
    msg = st.session_state.get(key + ":error")
    if msg:
        container.error(msg, icon=":material/error:")


# --------------------------------------------------------------------------------------------
# Start: example, upload, blank
# --------------------------------------------------------------------------------------------


def _load_example() -> None:
    name = st.session_state.get("example_choice")
    if name:
        state.load_example(name)
        st.session_state.pop(YAML_TEXT, None)
        st.session_state.pop(CONSTRAINTS_TEXT, None)


def _blank() -> None:
    state.new_blank()
    st.session_state.pop(YAML_TEXT, None)
    st.session_state.pop(CONSTRAINTS_TEXT, None)


def _start_section() -> None:
    exs = state.examples()
    c1, c2, c3 = st.columns([3, 3, 1.3], vertical_alignment="bottom")
    with c1:
        labels = {e.name: f"{e.title}  ({e.path.name})" for e in exs}
        st.selectbox(
            "Start from an example",
            list(labels),
            format_func=lambda n: labels.get(n, n),
            key="example_choice",
        )
        st.button(
            "Load example",
            key="load_example",
            on_click=_load_example,
            icon=":material/folder_open:",
        )
    with c2:
        up = st.file_uploader(
            "Or upload a scenario file (YAML, JSON or Excel)",
            type=["yaml", "yml", "json", "xlsx"],
            key="upload",
        )
    with c3:
        st.button("Start blank", key="start_blank", on_click=_blank, icon=":material/note_add:")
    if up is not None and st.session_state.get(UPLOADED) != up.file_id:
        st.session_state[UPLOADED] = up.file_id
        st.session_state[WORKBOOK_ERROR] = False
        st.session_state[WORKBOOK_NOTES] = []
        raw = up.getvalue()
        if up.name.lower().endswith(".xlsx"):
            _upload_workbook(up.name, raw)
            return
        with st.spinner(f"Reading {up.name}…"):
            # a size cap, then a worker process with time and memory limits (ui/upload.py)
            data, err = parse_upload(raw, up.name)
        if data is None and len(raw) > MAX_UPLOAD_BYTES:
            state.error_box(err or "")
            return
        if data is None and err and "not UTF-8" in err:
            state.error_box(err)
            return
        if data is not None:  # a new negotiation in the workspace: nothing is replaced
            state.start_negotiation(data, source=up.name, note=f"uploaded {up.name}")
            st.session_state[state.LOAD_ERROR] = None
        if err:
            st.session_state[YAML_TEXT] = raw.decode("utf-8-sig")  # kept to fix in the YAML tab
            st.session_state["dealopt_upload_error"] = err
        else:
            st.session_state.pop(YAML_TEXT, None)
            st.session_state.pop(CONSTRAINTS_TEXT, None)
            st.session_state["dealopt_upload_error"] = None
        st.rerun()
    if st.session_state.get("dealopt_upload_error"):
        state.error_box(
            st.session_state["dealopt_upload_error"]
            + (
                "\n\nFix the workbook and upload it again; the scenario below is unchanged."
                if st.session_state.get(WORKBOOK_ERROR)
                else "\n\nThe text is kept in the **YAML** tab below so you can fix it."
            )
        )
    if st.session_state.get(WORKBOOK_NOTES):
        st.info(
            "Read from the workbook, with notes:\n\n"
            + "\n".join(f"- {n}" for n in st.session_state[WORKBOOK_NOTES]),
            icon=":material/info:",
        )
    load_error = st.session_state.get(state.LOAD_ERROR)
    if load_error:
        state.error_box(load_error)


def _upload_workbook(name: str, raw: bytes) -> None:
    """An uploaded .xlsx workbook: loaded, or its located problems shown (nothing is replaced)."""
    if len(raw) > MAX_UPLOAD_BYTES:
        state.error_box(
            f"{name}: the file is larger than the {MAX_UPLOAD_BYTES / 1e6:.1f} MB an upload may be"
        )
        return
    err, notes = state.load_workbook_bytes(raw, name)
    st.session_state[WORKBOOK_NOTES] = notes
    if err:
        st.session_state["dealopt_upload_error"] = err
        st.session_state[WORKBOOK_ERROR] = True
    else:
        st.session_state.pop(YAML_TEXT, None)
        st.session_state.pop(CONSTRAINTS_TEXT, None)
        st.session_state["dealopt_upload_error"] = None
    st.rerun()


# --------------------------------------------------------------------------------------------
# Basics and parties
# --------------------------------------------------------------------------------------------


def _basics(data: dict[str, Any]) -> None:
    c1, c2 = st.columns([2, 1])
    k = state.wkey("name")
    c1.text_input(
        "Negotiation name",
        value=str(data.get("name", "")),
        key=k,
        on_change=_apply,
        args=(k, lambda v: data.__setitem__("name", v)),
    )
    names = [str(ed.as_dict(p).get("name", "")) for p in ed.as_list(data.get("parties"))]
    if names:
        us = data.get("us") if data.get("us") in names else names[0]
        k = state.wkey("us")
        c2.selectbox(
            "We are",
            names,
            index=names.index(us),
            key=k,
            on_change=_apply,
            args=(k, lambda v: data.__setitem__("us", v)),
        )
    k = state.wkey("description")
    st.text_area(
        "Description",
        value=str(data.get("description", "")),
        key=k,
        height=68,
        on_change=_apply,
        args=(
            k,
            lambda v: data.__setitem__("description", v) if v else data.pop("description", None),
        ),
    )
    state.problems_box(
        state.get_problems(), lambda loc: loc in ("name", "us", "description", "utility_scale")
    )


def _level_input(
    col: Any, data: dict[str, Any], j: int, field: str, label: str, help_: str
) -> None:
    p = ed.party(data, j)
    raw = p.get(field)
    if isinstance(raw, dict) and "package" in raw:
        col.caption(f"{label}: the utility of a given package (edit it on the YAML tab).")
        return
    rng = ed.est_range(raw)
    k = state.wkey("party", j, field)

    def setter(v: Any) -> None:
        if v is None:
            p.pop(field, None)
        elif isinstance(v, str):
            p[field] = v  # kept as typed; flagged
        else:
            p[field] = ed.est_set(raw, float(v))

    fields.number_field(
        col,
        label,
        ed.est_point(raw) if ed.is_range(raw) else raw,
        k,
        setter,
        help=help_,
        placeholder="none",
    )
    if rng is not None:
        col.caption(f"estimated range {format_number(rng[0])} to {format_number(rng[1])}")


def _parties(data: dict[str, Any]) -> None:
    parties = ed.as_list(data.get("parties"))
    problems = state.get_problems()
    us = data.get("us")
    for j, p in enumerate(parties):
        if not isinstance(p, dict):
            state.error_box(f"party {j + 1} is not a mapping; fix it on the YAML tab")
            continue
        name = p.get("name", "")
        with st.container(border=True):
            c1, c2, c3, c4 = st.columns([2, 1.3, 1.3, 0.6], vertical_alignment="top")
            k = state.wkey("party", j, "name")
            c1.text_input(
                "Party" + (" (us)" if name == us or (us is None and j == 0) else ""),
                value=str(name),
                key=k,
                on_change=_apply,
                args=(k, lambda v, old=name, k=k: _rename(data, "party", str(old), v, k)),
            )
            _field_error(k, c1)
            _level_input(
                c2,
                data,
                j,
                "reservation_value",
                "Walk-away point",
                "Reservation value (BATNA) on the 0-100 utility scale: a package below it is "
                "worse than no deal for this party. Leave empty for none.",
            )
            _level_input(
                c3,
                data,
                j,
                "aspiration",
                "Aspiration",
                "What this party hopes for (framing only, not a hard limit).",
            )
            c4.button(
                "",
                key=state.wkey("party", j, "remove"),
                icon=":material/delete:",
                help=f"Remove {name}",
                disabled=len(parties) <= 2,
                on_click=_run,
                args=(lambda j=j: ed.remove_party(data, j), True),
            )
            k = state.wkey("party", j, "description")
            st.text_input(
                "Notes",
                value=str(p.get("description", "")),
                key=k,
                on_change=_apply,
                args=(k, lambda v, p=p: p.__setitem__("description", v)),
            )
            state.problems_box(problems, _loc_party(j, name, prefs=False))
    st.button(
        "Add a party",
        key=state.wkey("add_party"),
        icon=":material/person_add:",
        on_click=_run,
        args=(lambda: ed.add_party(data), True),
    )


# --------------------------------------------------------------------------------------------
# Issues
# --------------------------------------------------------------------------------------------


def _set_options_text(data: dict[str, Any], j: int, text: str) -> None:
    opts = [line.strip() for line in text.splitlines() if line.strip()]
    ed.set_options(data, j, opts)


def _issue(data: dict[str, Any], j: int, issue: dict[str, Any], problems: list[Any]) -> None:
    name = issue.get("name", "")
    numeric = "options" not in issue
    with st.container(border=True):
        c1, c2, c3, c4 = st.columns([2.2, 1.2, 1.2, 0.5], vertical_alignment="top")
        k = state.wkey("issue", j, "name")
        c1.text_input(
            "Issue",
            value=str(name),
            key=k,
            on_change=_apply,
            args=(k, lambda v, old=name, k=k: _rename(data, "issue", str(old), v, k)),
        )
        _field_error(k, c1)
        k = state.wkey("issue", j, "kind")
        c2.selectbox(
            "Kind",
            ["categorical", "numeric"],
            index=1 if numeric else 0,
            key=k,
            on_change=lambda k=k: _run(lambda: ed.set_kind(data, j, st.session_state[k]), True),
        )
        status = issue.get("status", "open")
        k = state.wkey("issue", j, "status")
        c3.selectbox(
            "Status",
            list(STATUSES),
            index=list(STATUSES).index(status) if status in STATUSES else 0,
            key=k,
            help="open: free to change; provisional: tentatively settled, reopened only for a "
            "clear gain; agreed: settled, never reopened.",
            on_change=_apply,
            args=(
                k,
                lambda v: (
                    issue.__setitem__("status", v) if v != "open" else issue.pop("status", None)
                ),
            ),
        )
        c4.button(
            "",
            key=state.wkey("issue", j, "remove"),
            icon=":material/delete:",
            help=f"Remove {name}",
            disabled=len(ed.as_list(data.get("issues"))) <= 1,
            on_click=_run,
            args=(lambda: ed.remove_issue(data, j), True),
        )
        if numeric:
            c1, c2, c3, c4, c5 = st.columns(5)
            for col, field, label in (
                (c1, "min", "From"),
                (c2, "max", "To"),
                (c3, "step", "Step"),
            ):
                fields.number_field(
                    col,
                    label,
                    issue.get(field),
                    state.wkey("issue", j, field),
                    lambda v, f=field: (
                        issue.__setitem__(f, v) if v is not None else issue.pop(f, None)
                    ),
                    placeholder="1" if field == "step" else "",
                )
            k = state.wkey("issue", j, "unit")
            c4.text_input(
                "Unit",
                value=str(issue.get("unit", "")),
                key=k,
                on_change=_apply,
                args=(k, lambda v: issue.__setitem__("unit", v) if v else issue.pop("unit", None)),
            )
            value = issue.get("value")
            fields.number_field(
                c5,
                "On the table",
                value,
                state.wkey("issue", j, "value"),
                lambda v: (
                    issue.__setitem__("value", v) if v is not None else issue.pop("value", None)
                ),
                placeholder="no value",
                help="The value currently on the table (needed for provisional and agreed issues).",
            )
            _directions(data, j, issue)
        else:
            c1, c2 = st.columns([2, 1])
            options = [str(o) for o in ed.as_list(issue.get("options"))]
            k = state.wkey("issue", j, "options")
            c1.text_area(
                "Options (one per line)",
                value="\n".join(options),
                key=k,
                height=44 + 24 * min(max(len(options), 2), 8),
                on_change=_apply,
                args=(k, lambda v: _set_options_text(data, j, v)),
            )
            value = issue.get("value")
            choices = ["(none)", *options]
            shown = str(value) if value is not None and str(value) in options else "(none)"
            if value is not None and str(value) not in options:
                choices.append(str(value))
                shown = str(value)
            k = state.wkey("issue", j, "value", len(options))
            c2.selectbox(
                "On the table",
                choices,
                index=choices.index(shown),
                key=k,
                help="The option currently on the table (needed for provisional and agreed issues).",
                on_change=_apply,
                args=(
                    k,
                    lambda v: (
                        issue.__setitem__("value", v) if v != "(none)" else issue.pop("value", None)
                    ),
                ),
            )
        state.problems_box(problems, _loc_issue(j, name))


def _directions(data: dict[str, Any], j: int, issue: dict[str, Any]) -> None:
    """Ask each side's direction on a numeric issue (more / less is better / a best value), with
    a guess from its name and unit applied while no side has one."""
    iname = str(issue.get("name"))
    current = ed.directions(data, iname)
    guess = ed.guess_directions(data, issue)
    guessed = state.wkey("guessed", j)  # set while the directions shown are our guess
    if guess is not None and all(v is None for v in current.values()):
        for party_name, shape in guess[0].items():
            ed.set_direction(data, issue, party_name, shape)
        state.commit(note=f"guessed the directions of {iname}")
        current = ed.directions(data, iname)
        st.session_state[guessed] = True

    def answer(v: Any, party_name: str) -> None:
        st.session_state.pop(guessed, None)  # the user's own answer from now on
        ed.set_direction(data, issue, party_name, v)

    choices = [None, *ed.DIRECTIONS]
    cols = st.columns(max(len(current), 1))
    for n, (col, (party_name, shape)) in enumerate(zip(cols, current.items(), strict=False)):
        k = state.wkey("direction", j, n, str(shape))
        col.selectbox(
            f"For {md(party_name)}",
            choices,
            index=choices.index(shape) if shape in choices else 0,
            format_func=lambda v: (
                "choose: more or less is better?" if v is None else ed.DIRECTIONS[v]
            ),
            key=k,
            on_change=_apply,
            args=(k, lambda v, party_name=party_name: answer(v, party_name)),
            help="How this side values the number: more is better (e.g. the seller on a price), "
            "less is better (the buyer on a price), or best at one value.",
        )
    if guess is not None and st.session_state.get(guessed):
        st.caption(f":material/lightbulb: {md(guess[1])}")
    elif guess is not None and any(
        current.get(p) not in (g, "peak", "piecewise") for p, g in guess[0].items()
    ):
        st.caption(
            f":material/lightbulb: Usually {guess[1].split(': ', 1)[1].removesuffix(' Check each side.')} "
            "The directions above differ: check them."
        )
    elif any(v is None for v in current.values()):
        st.caption(
            ":material/help: Say for each side whether more or less is better; "
            "until then this issue adds nothing to that side's utility."
        )


def _issues(data: dict[str, Any]) -> None:
    problems = state.get_problems()
    for j, issue in enumerate(ed.as_list(data.get("issues"))):
        if not isinstance(issue, dict):
            state.error_box(f"issue {j + 1} is not a mapping; fix it on the YAML tab")
            continue
        _issue(data, j, issue, problems)
    c1, c2, _ = st.columns([1.4, 1.4, 2])
    c1.button(
        "Add a categorical issue",
        key=state.wkey("add_cat"),
        icon=":material/add:",
        on_click=_run,
        args=(lambda: ed.add_issue(data, "categorical"), True),
    )
    c2.button(
        "Add a numeric issue",
        key=state.wkey("add_num"),
        icon=":material/add:",
        on_click=_run,
        args=(lambda: ed.add_issue(data, "numeric"), True),
    )
    state.problems_box(problems, lambda loc: loc == "issues" or loc.startswith("issues "))


# --------------------------------------------------------------------------------------------
# Preferences: weights (sliders with the normalised share) and values
# --------------------------------------------------------------------------------------------


def _weights(
    data: dict[str, Any], parties: list[dict[str, Any]], issues: list[dict[str, Any]]
) -> None:
    st.markdown("**Weights** — how much each issue matters to each side (only ratios count).")
    cols = st.columns(len(parties))
    for j, (col, p) in enumerate(zip(cols, parties, strict=True)):
        weights = ed.party(data, j)["preferences"]["weights"]
        points = {
            str(i.get("name")): ed.est_point(weights.get(i.get("name"))) or 0.0 for i in issues
        }
        total = sum(max(0.0, v) for v in points.values())
        big = max(points.values(), default=0.0)
        top = (
            1.0
            if big <= 1.0 and any(0 < v < 1 for v in points.values())
            else max(100.0, float(big))
        )
        with col.container(border=True):
            st.markdown(f"**{md(p.get('name', ''))}**")
            uncertain = ed.party_uncertain(data, j)
            k = state.wkey("uncertain", j, int(uncertain))
            st.toggle(
                "Uncertain (low / likely / high)",
                value=uncertain,
                key=k,
                help="Give a range for each weight and the walk-away point: the slider sets the "
                "likely value, the boxes below it the low and high ends. The win-win table then "
                "shows how likely each package is a win for everyone. Turning it off keeps the "
                "likely values.",
                on_change=lambda k=k, j=j: _run(
                    lambda: ed.set_uncertain(data, j, bool(st.session_state[k])), True
                ),
            )
            if uncertain:
                _range_inputs(data, j, "reservation_value", "Walk-away point")
                state.problems_box(
                    state.get_problems(),
                    lambda loc, j=j, p=p: (
                        _loc_party(j, p.get("name"), prefs=False)(loc) and "reservation" in loc
                    ),
                )
            for i in issues:
                iname = str(i.get("name"))
                raw = weights.get(iname)
                v = points[iname]
                # Slid or typed: each shows the other's edit (fields.sync).
                k = state.wkey("weight", j, iname)
                fields.sync(k, raw, float(min(max(v, 0.0), top)))

                def setter(
                    x: Any, iname: str = iname, raw: Any = raw, weights: dict = weights
                ) -> None:
                    if x is None:
                        weights.pop(iname, None)
                    elif isinstance(x, str):
                        weights[iname] = x  # kept as typed; flagged
                    else:
                        weights[iname] = ed.est_set(raw, float(x))

                c_slide, c_type = st.columns([3, 1], vertical_alignment="bottom")
                c_slide.slider(
                    md(iname),
                    format="%g",
                    min_value=0.0,
                    max_value=float(top),
                    step=float(top) / 100.0,
                    key=k,
                    on_change=_apply,
                    args=(k, setter),
                )
                fields.number_field(
                    c_type,
                    f"Weight of {iname} for {p.get('name', '')}",
                    v if ed.is_range(raw) else raw,
                    state.wkey("weight_typed", j, iname),
                    setter,
                    minimum=0.0,
                    label_visibility="collapsed",
                    help="Type the weight (any number; only ratios between weights count).",
                )
                if uncertain:
                    _range_inputs(data, j, iname, None)
                share = v / total if total > 0 else 0.0
                rng = ed.est_range(raw)
                extra = (
                    f" · estimate range {format_number(rng[0])}-{format_number(rng[1])}"
                    if rng and not uncertain
                    else ""
                )
                st.caption(f"share {share:.0%} of {md(p.get('name', ''))}'s total{extra}")
            state.problems_box(state.get_problems(), _loc_party(j, p.get("name"), prefs=True))


def _range_inputs(data: dict[str, Any], j: int, field: str, label: str | None) -> None:
    """Low and high number inputs of one weight (``label`` None) or of the walk-away point.

    The likely value of a weight is its slider; the walk-away point gets all three boxes. Any
    order is accepted as typed; the validator says when low <= likely <= high does not hold.
    """
    p = ed.party(data, j)
    holder = p if label is not None else p["preferences"]["weights"]
    raw = holder.get(field)
    if label is not None and (raw is None or (isinstance(raw, dict) and "package" in raw)):
        return
    parts = ("low", "likely", "high") if label is not None else ("low", "high")
    if label is not None:
        st.caption(label)
    values = dict(
        zip(ed.RANGE_PARTS, ed.est_parts_raw(raw) if ed.is_range(raw) else [raw] * 3, strict=True)
    )
    cols = st.columns(len(parts))
    for col, part in zip(cols, parts, strict=True):
        # The walk-away point is also edited on the Basics tab: its keys follow the data.
        k = state.wkey("range", j, field, part)

        def setter(v: Any, part: str = part, holder: dict = holder, field: str = field) -> None:
            holder[field] = ed.range_set(holder.get(field), part, v)

        fields.number_field(col, part, values[part], k, setter)


def _scores_editor(
    data: dict[str, Any], parties: list[dict[str, Any]], issue: dict[str, Any]
) -> None:
    with st.container(border=True):
        score_grid.score_grid(data, parties, issue)
        iname = str(issue.get("name"))
        state.problems_box(
            state.get_problems(),
            lambda loc: any(
                loc.startswith(f'party "{p.get("name")}" > values > "{iname}"') for p in parties
            ),
        )


def _shape_editor(
    data: dict[str, Any], parties: list[dict[str, Any]], issue: dict[str, Any]
) -> None:
    iname = str(issue.get("name"))
    st.markdown(
        f"**{md(iname)}** ({format_number(float(issue.get('min') or 0))} to "
        f"{format_number(float(issue.get('max') or 0))} {md(issue.get('unit', ''))})"
    )
    cols = st.columns(len(parties))
    for j, (col, p) in enumerate(zip(cols, parties, strict=True)):
        values = ed.party(data, j)["preferences"]["values"]
        spec = values.get(iname)
        spec = spec if isinstance(spec, dict) and "shape" in spec else None
        shape = spec.get("shape") if spec else "(no value)"
        k = state.wkey("shape", j, iname, str(shape))  # also set on the Issues tab
        choices = ["(no value)", *ed.SHAPES]

        def set_shape(v: Any, iname: str = iname, values: dict = values, issue=issue) -> None:
            if v == "(no value)":
                values.pop(iname, None)
            elif v == "peak":
                lo, hi = (
                    ed.est_point(issue.get("min")) or 0.0,
                    ed.est_point(issue.get("max")) or 0.0,
                )
                values[iname] = {"shape": "peak", "peak": ed.tidy((lo + hi) / 2)}
            elif v == "piecewise":
                lo, hi = (
                    ed.est_point(issue.get("min")) or 0.0,
                    ed.est_point(issue.get("max")) or 0.0,
                )
                values[iname] = {
                    "shape": "piecewise",
                    "points": [[ed.tidy(lo), 0], [ed.tidy(hi), 100]],
                }
            else:
                values[iname] = {"shape": v}

        col.selectbox(
            md(p.get("name", "")),
            choices,
            index=choices.index(shape) if shape in choices else 0,
            key=k,
            help="increasing: more is better; decreasing: less is better; peak: best at one "
            "value; piecewise: value:score points, linear in between.",
            on_change=_apply,
            args=(k, set_shape),
        )
        if spec and spec.get("shape") == "peak":
            fields.number_field(
                col,
                "best value",
                spec.get("peak"),
                state.wkey("peak", j, iname),
                lambda v, spec=spec: (
                    spec.__setitem__("peak", v) if v is not None else spec.pop("peak", None)
                ),
            )
        if spec and spec.get("shape") == "piecewise":
            k2 = state.wkey("points", j, iname)
            err_key = k2 + ":error"

            def set_points(v: Any, spec: dict = spec, err_key: str = err_key) -> None:
                pts = ed.parse_points(v)
                if isinstance(pts, str):
                    st.session_state[err_key] = pts
                else:
                    st.session_state[err_key] = None
                    spec["points"] = pts

            col.text_input(
                "points (value:score, ...)",
                value=ed.points_text(spec.get("points")),
                key=k2,
                on_change=_apply,
                args=(k2, set_points),
            )
            if st.session_state.get(err_key):
                col.error(st.session_state[err_key], icon=":material/error:")


def _preferences(data: dict[str, Any]) -> None:
    parties = [p for p in ed.as_list(data.get("parties")) if isinstance(p, dict)]
    issues = [i for i in ed.as_list(data.get("issues")) if isinstance(i, dict)]
    if len(parties) != len(ed.as_list(data.get("parties"))) or not parties:
        state.error_box("The parties cannot be shown as a form; fix them on the YAML tab.")
        return
    _weights(data, parties, issues)
    st.markdown(
        "**Values** — how much each side likes each option (any non-negative scores, the best "
        "counts as 1; when unsure, a range: low / likely / high, e.g. 30 / 50 / 70)."
    )
    cats = [i for i in issues if "options" in i]
    nums = [i for i in issues if "options" not in i]
    for i in cats:
        _scores_editor(data, parties, i)
    for i in nums:
        with st.container(border=True):
            _shape_editor(data, parties, i)


# --------------------------------------------------------------------------------------------
# Constraints and the whole file as YAML
# --------------------------------------------------------------------------------------------


NEW_CONSTRAINT_ERROR = "dealopt_new_constraint_error"


def _loc_constraint(idx: int) -> Callable[[str], bool]:
    head = f"constraint {idx + 1}"
    return lambda loc: loc == head or loc.startswith(head + " ")


def _constraint_list(data: dict[str, Any]) -> None:
    """Each constraint in plain words, with a delete button and its validator messages."""
    cons = ed.as_list(data.get("constraints"))
    problems = state.get_problems()
    if not cons:
        st.caption("No constraints: every combination of options is allowed.")
    for i, c in enumerate(cons):
        with st.container(border=True):
            c1, c2 = st.columns([12, 1], vertical_alignment="center")
            c1.markdown(md(ed.describe_constraint(c)))
            c2.button(
                "",
                key=state.wkey("constraint", i, "remove"),
                icon=":material/delete:",
                help="Delete this constraint",
                on_click=_run,
                args=(lambda i=i: _drop_constraint(data, i), True),
            )
            state.problems_box(problems, _loc_constraint(i))


def _drop_constraint(data: dict[str, Any], idx: int) -> None:
    ed.remove_constraint(data, idx)
    st.session_state.pop(CONSTRAINTS_TEXT, None)


def _pair_picker(label: str, key: str, pairs: dict[str, tuple[str, Any]], help_: str) -> None:
    st.multiselect(label, list(pairs), key=key, help=help_, placeholder="issue = value")


def _new_fields(data: dict[str, Any], kind: str, pairs: dict[str, tuple[str, Any]]) -> dict:
    """The add-constraint form's current entries (read from the widgets' session values)."""
    ss = st.session_state
    issues = {str(ed.as_dict(i).get("name")): ed.as_dict(i) for i in ed.as_list(data.get("issues"))}
    party = ss.get(state.wkey("newc", "party"))
    fields: dict[str, Any] = {
        "name": ss.get(state.wkey("newc", "name")) or "",
        "party": None if party in (None, "(any party)") else party,
    }
    if kind == "acceptable":
        issue = ss.get(state.wkey("newc", "issue"))
        numeric = "options" not in issues.get(str(issue), {})
        fields.update(issue=issue, numeric=numeric)
        if numeric:
            fields["min"] = ss.get(state.wkey("newc", "min", issue))
            fields["max"] = ss.get(state.wkey("newc", "max", issue))
        else:
            fields["options"] = ss.get(state.wkey("newc", "options", issue)) or []
    elif kind == "forbidden":
        fields["pairs"] = [
            pairs[x] for x in ss.get(state.wkey("newc", "pairs")) or [] if x in pairs
        ]
    elif kind == "implies":
        for f in ("when", "then"):
            fields[f] = [pairs[x] for x in ss.get(state.wkey("newc", f)) or [] if x in pairs]
    elif kind == "budget":
        costs: dict[str, Any] = {}
        for name in ss.get(state.wkey("newc", "cost_issues")) or []:
            it = issues.get(name, {})
            if "options" in it:
                costs[name] = {
                    str(o): ed.tidy(float(ss.get(state.wkey("newc", "cost", name, str(o))) or 0))
                    for o in ed.as_list(it.get("options"))
                }
            else:
                spec = {
                    "per_unit": ed.tidy(float(ss.get(state.wkey("newc", "per_unit", name)) or 0))
                }
                base = ss.get(state.wkey("newc", "base", name))
                if base:
                    spec["base"] = ed.tidy(float(base))
                costs[name] = spec
        fields.update(
            costs=costs,
            limit=ss.get(state.wkey("newc", "limit")),
            unit=ss.get(state.wkey("newc", "unit")) or "",
        )
    return fields


def _add_constraint(data: dict[str, Any], kind: str, pairs: dict[str, tuple[str, Any]]) -> None:
    built = ed.new_constraint(kind, _new_fields(data, kind, pairs))
    if isinstance(built, str):
        st.session_state[NEW_CONSTRAINT_ERROR] = built  # the form keeps what was typed
        return
    st.session_state[NEW_CONSTRAINT_ERROR] = None
    st.session_state.pop(CONSTRAINTS_TEXT, None)
    ed.add_constraint(data, built)
    state.set_data(data, reset_widgets=True)


def _constraint_form(data: dict[str, Any]) -> None:
    """Add one constraint of a chosen type; the validator checks it like any other entry."""
    issues = [ed.as_dict(i) for i in ed.as_list(data.get("issues"))]
    names = [str(i.get("name")) for i in issues]
    parties = [str(ed.as_dict(p).get("name")) for p in ed.as_list(data.get("parties"))]
    pairs = {ed.pair_label(pr): pr for pr in ed.condition_pairs(data)}
    st.markdown("**Add a constraint**")
    c1, c2, c3 = st.columns([1.4, 1, 1.4])
    kind = c1.selectbox(
        "Type",
        list(ed.CONSTRAINT_TYPES),
        format_func=ed.CONSTRAINT_TYPES.get,
        key=state.wkey("newc", "type"),
    )
    c2.selectbox(
        "Whose limit",
        ["(any party)", *parties],
        key=state.wkey("newc", "party"),
        help="The party that insists on it (optional; used in explanations).",
    )
    c3.text_input(
        "Name (optional)", key=state.wkey("newc", "name"), placeholder="e.g. vendor price floor"
    )
    if kind == "acceptable":
        c1, c2 = st.columns([1, 2])
        issue = c1.selectbox("Issue", names, key=state.wkey("newc", "issue"))
        it = issues[names.index(issue)] if issue in names else {}
        if "options" in it:
            c2.multiselect(
                "Acceptable options",
                [str(o) for o in ed.as_list(it.get("options"))],
                key=state.wkey("newc", "options", issue),
            )
        else:
            a, b = c2.columns(2)
            a.number_input(
                "Lowest acceptable",
                value=None,
                format="%g",
                key=state.wkey("newc", "min", issue),
                placeholder="no lower limit",
            )
            b.number_input(
                "Highest acceptable",
                value=None,
                format="%g",
                key=state.wkey("newc", "max", issue),
                placeholder="no upper limit",
            )
    elif kind == "forbidden":
        _pair_picker(
            "These cannot all hold together",
            state.wkey("newc", "pairs"),
            pairs,
            "Pick two or more issue = value pairs from different issues; two values of one issue "
            "mean 'either of them'.",
        )
    elif kind == "implies":
        c1, c2 = st.columns(2)
        with c1:
            _pair_picker(
                "When", state.wkey("newc", "when"), pairs, "All of these hold (any of two values)."
            )
        with c2:
            _pair_picker("Then", state.wkey("newc", "then"), pairs, "...these must hold too.")
    elif kind == "budget":
        c1, c2, c3 = st.columns([1, 1, 2])
        c1.number_input("Limit", value=None, format="%g", key=state.wkey("newc", "limit"))
        c2.text_input("Unit", key=state.wkey("newc", "unit"), placeholder="e.g. kUSD")
        chosen = c3.multiselect(
            "Issues that cost something", names, key=state.wkey("newc", "cost_issues")
        )
        for name in chosen:
            it = issues[names.index(name)]
            if "options" in it:
                opts = [str(o) for o in ed.as_list(it.get("options"))]
                cols = st.columns(max(len(opts), 1))
                for col, o in zip(cols, opts, strict=True):
                    col.number_input(
                        md(f"{name}: {o}"),
                        value=0.0,
                        format="%g",
                        key=state.wkey("newc", "cost", name, o),
                    )
            else:
                a, b, _ = st.columns(3)
                a.number_input(
                    f"{name}: cost per unit",
                    value=0.0,
                    format="%g",
                    key=state.wkey("newc", "per_unit", name),
                )
                b.number_input(
                    f"{name}: fixed cost",
                    value=0.0,
                    format="%g",
                    key=state.wkey("newc", "base", name),
                )
    st.button(
        "Add constraint",
        key=state.wkey("newc", "add"),
        icon=":material/add:",
        on_click=_add_constraint,
        args=(data, kind, pairs),
    )
    msg = st.session_state.get(NEW_CONSTRAINT_ERROR)
    if msg:
        st.error(md(msg), icon=":material/error:")


def _constraints_yaml(data: dict[str, Any]) -> None:
    cons = ed.as_list(data.get("constraints"))
    current = state.dump_yaml(cons) if cons else ""
    kept = st.session_state.get(CONSTRAINTS_TEXT)
    k = state.wkey("constraints_yaml")

    def apply(v: str) -> None:
        try:
            parsed = yaml.safe_load(v) if v.strip() else []
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            st.session_state[CONSTRAINTS_TEXT] = (
                v,
                f"not valid YAML{where}: {getattr(e, 'problem', e)}",
            )
            return
        if parsed is None:
            parsed = []
        if not isinstance(parsed, list):
            st.session_state[CONSTRAINTS_TEXT] = (
                v,
                "write a list of constraints (each starts with '- type: ...')",
            )
            return
        st.session_state[CONSTRAINTS_TEXT] = None
        if parsed:
            data["constraints"] = parsed
        else:
            data.pop("constraints", None)

    with st.expander("Advanced: constraints as YAML", expanded=bool(kept)):
        st.text_area(
            "Constraints (YAML list; press Ctrl+Enter or click outside to apply)",
            value=kept[0] if kept else current,
            key=k,
            height=240,
            help="Types: acceptable (issue, options or min/max), forbidden (combination), implies "
            "(when, then), budget (costs per option or per_unit, limit). Optional: name, party. "
            "Conditions may also be numeric intervals {min, max}.\n\n"
            "Example:\n\n- type: acceptable\n  party: Them\n  issue: price\n  min: 40",
            on_change=_apply,
            args=(k, apply),
        )
        if kept:
            state.error_box(kept[1])


def _constraints(data: dict[str, Any]) -> None:
    _constraint_list(data)
    cons = ed.as_list(data.get("constraints"))
    state.problems_box(
        state.get_problems(),
        lambda loc: (
            loc.startswith("constraint")
            and not any(_loc_constraint(i)(loc) for i in range(len(cons)))
        ),
    )
    with st.container(border=True):
        _constraint_form(data)
    _constraints_yaml(data)


def _yaml_tab() -> None:
    st.caption(
        "The whole scenario as a file: edit anything here (synergies, ranges, history...) and "
        "apply. It always shows the scenario as the form has it now; text that does not parse "
        "is kept so you can fix it."
    )
    kept = st.session_state.get(YAML_TEXT)
    k = state.wkey("yaml")
    # Any edit elsewhere (form, tables, other pages, undo) redraws the box from the current
    # data, so it never shows, nor applies back, an older scenario.
    fields.sync(
        k,
        (state.data_revision(), kept),
        kept if kept is not None else state.scenario_yaml(),
    )
    text = st.text_area("Scenario YAML", key=k, height=420)

    def apply() -> None:
        v = st.session_state[k]
        err = state.apply_text(v, "edited.yaml")
        if err:
            st.session_state[YAML_TEXT] = v
            st.session_state["dealopt_yaml_error"] = err
        else:
            st.session_state.pop(YAML_TEXT, None)
            st.session_state["dealopt_yaml_error"] = None

    st.button("Apply YAML", key="apply_yaml", on_click=apply, icon=":material/check:")
    if st.session_state.get("dealopt_yaml_error") and kept is not None and text == kept:
        state.error_box(st.session_state["dealopt_yaml_error"])


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


def page() -> None:
    st.title("Scenario")
    _start_section()
    data = state.get_data()
    s = state.get_scenario()
    problems = state.get_problems()
    src = state.source()
    # Above the tabs: always one banner and one folded line, whatever they hold, so nothing
    # below moves while the user types (a field that moved under the cursor lost keystrokes).
    with st.container():
        if s is not None:
            st.success(
                f"**{md(s.name)}** — {s.summary_line()}" + (f" · from {md(src)}" if src else ""),
                icon=":material/check_circle:",
            )
            warnings = state.get_warnings()
            with st.expander(
                f"{len(warnings)} warning(s)" if warnings else "No warnings",
                icon=":material/warning:" if warnings else ":material/check:",
            ):
                state.problems_box(warnings)
        else:
            st.error(
                f"{len(problems)} problem(s) to fix — each is shown next to its field below. "
                "Your entries are kept.",
                icon=":material/error:",
            )
            with st.expander(f"All problems ({len(problems)})", icon=":material/error:"):
                for p in problems:
                    st.markdown(f"- {state.problem_text(p)}")
    tabs = st.tabs(
        ["Basics & parties", "Issues & status", "Preferences", "Constraints", "YAML"],
        key="scenario_tabs",
        on_change="rerun",
    )
    if isinstance(data, dict):
        try:
            with tabs[0]:
                _basics(data)
                _parties(data)
            with tabs[1]:
                _issues(data)
            with tabs[2]:
                _preferences(data)
                learning.section(data)
            with tabs[3]:
                _constraints(data)
        except Exception as e:  # noqa: BLE001 - malformed data: never a traceback
            state.error_box(
                f"The form cannot show this scenario ({type(e).__name__}: {e}); "
                "edit it on the YAML tab."
            )
    else:
        state.error_box("The scenario is not a mapping; edit it on the YAML tab.")
    with tabs[4]:
        _yaml_tab()
    st.divider()
    state.download_button(st, key="download_scenario")
    state.workbook_download_buttons(st, key="download_xlsx")


page()
