"""Proposals: turn a package (or equivalent offers) into a document, and keep the negotiation log.

Choose what to propose (a win-win package in the chosen ranking, a point clicked on the trade-off
map, a package typed in, a package that reaches our walk-away when the table is below it, or K
equivalent offers), for whom (the counterpart: no preference numbers; or our internal brief).
A package below our walk-away point or worse for us than our latest offer is refused unless the
user overrides (the brief records it). The document is an editable Markdown draft; the downloads
(Markdown, Word, PDF) use the edited text. The log section records offers and counter-offers into the scenario (so they
are saved with it) and shows each side's utility over the rounds.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import streamlit as st

from optimizer.errors import DealoptError
from ui import state, views
from ui.text import md, safe_markdown

PAGE_ORDER = 50
PAGE_TITLE = "Proposals"
PAGE_ICON = ":material/description:"

MODE_KEY = "proposals_mode"
RANK_KEY = "proposals_rank"
OBJECTIVE_KEY = "proposals_objective"
MAP_KEY = "proposals_map_point"
WALK_KEY = "proposals_walkaway_pick"
MESO_KEY = "proposals_meso"
TOL_KEY = "proposals_tolerance"
AUDIENCE_KEY = "proposals_audience"
OVERRIDE_KEY = "proposals_override"
DRAFT_KEY = "proposals_draft"
RECORD_PROPOSED_KEY = "proposals_record_proposed"
LOG_FORM_KEY = "proposals_log_form"
#: The Win-win packages page's ranking and the Trade-off map's clicked point (their widget keys).
WINWIN_OBJECTIVE_KEY = "winwin_objective"
MAP_PICK_KEY = "tradeoff_pick_a"

MODES = {
    "package": "A win-win package",
    "map": "A point on the trade-off map",
    "typed": "A package I type in",
    "walkaway": "A package that reaches our walk-away",
    "meso": "Equivalent offers (MESOs)",
}
AUDIENCES = {
    "counterpart": "Counterpart: a proposal to send (never shows our numbers)",
    "internal": "Internal brief: for our team (utilities, walk-away points, risks)",
}
MIME = {
    "md": "text/markdown",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
NOT_OFFERED = "(not in this offer)"
NO_CHANGE = "no change"


@st.cache_data(show_spinner=False, max_entries=32)
def render(doc_json: str, fmt: str) -> bytes:
    """The document in one format, cached on its content."""
    from optimizer.reports.proposal import ProposalDocument

    return ProposalDocument.model_validate_json(doc_json).render(fmt)


def _file_stem(scenario: Any, audience: str) -> str:
    slug = "".join(c if c.isalnum() else "_" for c in scenario.name.lower()).strip("_")
    while "__" in slug:
        slug = slug.replace("__", "_")
    kind = "proposal" if audience == "counterpart" else "brief"
    return f"{slug[:50] or 'scenario'}_{kind}"


def _winwin_package(scenario: Any, c2: Any, c3: Any, table_below: bool) -> Any:
    """The N-th win-win package in the chosen ranking (default: the Win-win page's)."""
    if OBJECTIVE_KEY not in st.session_state:
        chosen = st.session_state.get(WINWIN_OBJECTIVE_KEY, "maxmin")
        st.session_state[OBJECTIVE_KEY] = chosen if chosen in state.OBJECTIVES else "maxmin"
    objective = c2.selectbox(
        "Ranking",
        list(state.OBJECTIVES),
        format_func=state.OBJECTIVES.get,
        key=OBJECTIVE_KEY,
        help="The ranking of the Win-win packages page (the one chosen there by default).",
    )
    rank = int(
        c3.number_input(
            "Package number",
            1,
            10,
            1,
            key=RANK_KEY,
            help="1 is the best win-win package in this ranking, 2 the next best, ...",
        )
    )
    result = state.show(state.improve(scenario, objective, top=rank), "the search")
    if result is None:
        return None
    if len(result.packages) >= rank:
        return dict(result.packages[rank - 1].package)
    if result.packages:
        st.warning(
            f"There {'is' if len(result.packages) == 1 else 'are'} only "
            f"{len(result.packages)} win-win package(s) in this ranking; choose a number up to "
            f"{len(result.packages)}.",
            icon=":material/warning:",
        )
        return None
    if table_below:
        st.info(
            "No win-win package: propose a package that reaches our walk-away instead "
            "(see above), or type one in.",
            icon=":material/info:",
        )
        return None
    st.info(
        (result.explanation or "No package is better for everyone than the deal on the table.")
        + " The proposal settles on the terms on the table.",
        icon=":material/info:",
    )
    return scenario.reference()


def _map_package(scenario: Any, c2: Any) -> Any:
    """The point clicked on the Trade-off map (or chosen here among the frontier points)."""
    names = scenario.party_names
    parties = None
    if len(names) > 2:
        x = st.session_state.get("tradeoff_x", scenario.us_name)
        y = st.session_state.get("tradeoff_y", next(n for n in names if n != x))
        parties = [x, y]
    result = state.show(state.frontier(scenario, parties), "the frontier")
    if result is None or not result.packages:
        if result is not None:
            st.info(result.explanation or "No feasible package clears every walk-away point.")
        return None
    n = len(result.packages)
    picked = st.session_state.get(MAP_PICK_KEY)
    if MAP_KEY not in st.session_state or (
        isinstance(picked, int)
        and 0 <= picked < n
        and st.session_state.get("_proposals_map_seen") != picked
    ):
        st.session_state[MAP_KEY] = picked if isinstance(picked, int) and 0 <= picked < n else 0
        st.session_state["_proposals_map_seen"] = picked
    if not 0 <= int(st.session_state[MAP_KEY]) < n:
        st.session_state[MAP_KEY] = 0
    shown = result.parties

    def label(i: int) -> str:
        u = result.packages[i].utilities
        return f"Point {i}: " + ", ".join(f"{p} {views.fmt_utility(u.get(p))}" for p in shown)

    i = c2.selectbox(
        "Point on the map",
        list(range(n)),
        format_func=label,
        key=MAP_KEY,
        help="The point clicked on the Trade-off map is chosen here.",
    )
    return dict(result.packages[int(i)].package)


def _typed_package(scenario: Any) -> dict[str, Any]:
    """A package typed in, issue by issue (the deal on the table to start with)."""
    out: dict[str, Any] = {}
    with st.expander("The package", expanded=True):
        cols = st.columns(2)
        for n, issue in enumerate(scenario.issues):
            col = cols[n % 2]
            start = issue.value if issue.value is not None else issue.value_at(0)
            if issue.status == "agreed":
                col.text_input(
                    f"{issue.name} (agreed)",
                    issue.display(issue.value),
                    disabled=True,
                    key=state.wkey("proposals_typed_agreed", issue.name),
                )
                out[issue.name] = issue.value
            elif issue.size <= 500:
                values = [issue.value_at(k) for k in range(issue.size)]
                out[issue.name] = col.selectbox(
                    issue.name,
                    values,
                    index=issue.index_of(start) or 0,
                    format_func=issue.display,
                    key=state.wkey("proposals_typed", issue.name),
                )
            else:
                x = col.number_input(
                    f"{issue.name} ({issue.unit})" if issue.unit else issue.name,
                    float(issue.min),
                    float(issue.max),
                    float(start),
                    step=float(issue.step_size),
                    key=state.wkey("proposals_typed_num", issue.name),
                )
                k = issue.index_of(x)
                if k is None:
                    k = int(round((x - float(issue.min)) / float(issue.step_size)))
                out[issue.name] = issue.value_at(max(0, min(issue.size - 1, k)))
    return out


def _walkaway_package(scenario: Any, check: Any, c2: Any) -> Any:
    """One of the packages that reach our walk-away point (when the table is below it)."""
    from optimizer.reports.guards import accept_text

    if check is None or not check.below:
        st.info("The deal on the table reaches our walk-away point: choose a win-win package.")
        return None
    if not check.packages:
        st.info("No package reaches our walk-away point within the rules.")
        return None
    n = len(check.packages)
    i = c2.selectbox(
        "Package",
        list(range(n)),
        format_func=lambda k: f"Package {k + 1}",
        key=WALK_KEY,
    )
    st.caption(accept_text(scenario, check.packages[int(i)]))
    return dict(check.packages[int(i)].package)


def _guarded(scenario: Any, package: dict[str, Any]) -> bool | None:
    """Check the guards; returns the override flag to pass on, or None to stop (blocked)."""
    from optimizer.reports.guards import check_package

    try:
        problems = check_package(scenario, package)
    except DealoptError as e:
        state.error_box(e)
        return None
    if not problems:
        return False
    for p in problems:
        st.error(f"Not proposed: {p.text}.", icon=":material/block:")
    override = st.checkbox(
        "Override: propose this package anyway (the internal brief records the override)",
        key=OVERRIDE_KEY,
    )
    return True if override else None


def _draft(scenario: Any, doc: Any) -> Any:
    """The document as an editable Markdown draft; returns the edited document."""
    import hashlib

    from optimizer.reports.proposal import ProposalDocument

    md = doc.to_markdown()
    key = f"{DRAFT_KEY}_{hashlib.sha1(md.encode('utf-8')).hexdigest()[:12]}"
    edited = st.text_area(
        "Draft (edit it here: the downloads use your edited text)",
        value=md,
        height=460,
        key=key,
    )
    if edited == md:
        return doc
    if st.button("Discard my edits", key="proposals_discard", icon=":material/undo:"):
        del st.session_state[key]
        st.rerun()
    try:
        return ProposalDocument.from_markdown(
            edited,
            audience=doc.audience,
            packages=doc.packages,
            author=doc.author,
            date=doc.date,
        )
    except (ValueError, DealoptError) as e:  # pydantic's ValidationError is a ValueError
        state.error_box(e)
        return doc


def _document_section(scenario: Any) -> Any:
    """The choices, the guards, the editable draft and the downloads; returns the document."""
    check = views.walkaway_warning(scenario)
    c1, c2, c3 = st.columns([2, 2, 1])
    modes = list(MODES)
    mode = c1.radio("What to propose", modes, format_func=MODES.get, key=MODE_KEY)
    kwargs: dict[str, Any] = {}
    if mode == "meso":
        k = int(c2.number_input("How many offers", 2, 4, 3, key=MESO_KEY))
        tol = float(
            c3.number_input(
                "Tolerance (points)",
                0.0,
                20.0,
                1.0,
                step=0.5,
                key=TOL_KEY,
                help="How far apart the offers may be in our utility.",
            )
        )
        kwargs["meso"] = k
        kwargs["tolerance"] = tol
    else:
        if mode == "package":
            package = _winwin_package(scenario, c2, c3, check is not None)
        elif mode == "map":
            package = _map_package(scenario, c2)
        elif mode == "typed":
            package = _typed_package(scenario)
        else:
            package = _walkaway_package(scenario, check, c2)
        if package is None:
            return None
        override = _guarded(scenario, package)
        if override is None:
            return None
        kwargs["package"] = package
        kwargs["override"] = override
    audience = st.radio("Audience", list(AUDIENCES), format_func=AUDIENCES.get, key=AUDIENCE_KEY)
    with st.spinner("Preparing the document…"):
        outcome = state.engine_call(
            "optimizer.reports.proposal",
            "proposal_document",
            scenario,
            audience=audience,
            date=_dt.date.today().isoformat(),
            **kwargs,
        )
    doc = state.show(outcome, "the proposal")
    if doc is None:
        return None
    final = _draft(scenario, doc)
    doc_json = final.model_dump_json()
    stem = _file_stem(scenario, audience)
    cols = st.columns(3)
    labels = {"md": "Markdown", "docx": "Word (.docx)", "pdf": "PDF"}
    for col, fmt in zip(cols, ("md", "docx", "pdf"), strict=True):
        try:
            data = render(doc_json, fmt)
        except Exception as e:  # noqa: BLE001 - a rendering failure is shown, never a traceback
            state.error_box(e, col)
            continue
        col.download_button(
            f"Download {labels[fmt]}",
            data=data,
            file_name=f"{stem}.{fmt}",
            mime=MIME[fmt],
            key=f"proposals_download_{fmt}",
            icon=":material/download:",
            width="stretch",
        )
    with st.container(border=True):
        st.markdown(safe_markdown(final.to_markdown()))
    return final


def _record(scenario: Any, **offer: Any) -> None:
    from optimizer.reports.negotiation_log import record_offer
    from optimizer.scenario.files import scenario_to_data

    try:
        updated = record_offer(scenario, **offer)
    except DealoptError as e:
        state.error_box(e)
        return
    state.set_data(scenario_to_data(updated))
    st.session_state["proposals_recorded"] = (
        f"Recorded offer {len(updated.history)} by {md(offer['by'])}."
    )
    st.rerun()


def _log_section(scenario: Any, doc: Any) -> None:
    from optimizer.reports.negotiation_log import log_report

    st.header("Negotiation log")
    done = st.session_state.pop("proposals_recorded", None)
    if done:
        st.success(done, icon=":material/check:")
    report = log_report(scenario)
    st.markdown(safe_markdown(report.text))
    if report.rounds:
        import pandas as pd

        rows = []
        for r in report.rounds:
            row = {"Round": r.round, "Date": r.date.isoformat(), "By": r.by}
            for p in report.parties:
                row[p] = None if r.utilities is None else round(r.utilities[p], 1)
            row["What moved"] = ", ".join(r.changed if r.round > 1 else list(r.offered)) or "-"
            row["Note"] = r.note
            rows.append(row)
        st.dataframe(pd.DataFrame(rows), hide_index=True)
        path = pd.DataFrame(
            [
                {"Round": r.round, "Party": p, "Utility": r.utilities[p]}
                for r in report.rounds
                if r.utilities is not None
                for p in report.parties
            ]
        )
        if not path.empty:
            import plotly.express as px

            fig = px.line(
                path,
                x="Round",
                y="Utility",
                color="Party",
                markers=True,
                title="Utility path over the rounds (the other sides' are our estimates)",
            )
            fig.update_xaxes(dtick=1)
            st.plotly_chart(fig, key="proposals_utility_path")

    us = scenario.us_name
    if (
        doc is not None
        and len(doc.packages) == 1
        and st.button(
            "Record the proposed package as our offer (today)",
            key=RECORD_PROPOSED_KEY,
            icon=":material/post_add:",
        )
    ):
        _record(scenario, by=us, package=doc.packages[0], date=_dt.date.today())

    with st.form(LOG_FORM_KEY, clear_on_submit=False):
        st.subheader("Record an offer")
        c1, c2 = st.columns(2)
        names = scenario.party_names
        by = c1.selectbox("Made by", names, index=names.index(us), key=state.wkey("log_by"))
        date = c2.date_input("Date", _dt.date.today(), key=state.wkey("log_date"))
        terms: dict[str, Any] = {}
        cols = st.columns(2)
        for n, issue in enumerate(scenario.issues):
            col = cols[n % 2]
            if issue.size <= 500:
                values = [issue.value_at(k) for k in range(issue.size)]
                choice = col.selectbox(
                    md(issue.name),
                    [NOT_OFFERED, *values],
                    format_func=lambda v, i=issue: v if v == NOT_OFFERED else i.display(v),
                    key=state.wkey("log_term", issue.name),
                )
                if choice != NOT_OFFERED:
                    terms[issue.name] = choice
            else:
                include = col.checkbox(
                    f"{md(issue.name)} is in this offer", key=state.wkey("log_inc", issue.name)
                )
                x = col.number_input(
                    md(issue.name),
                    float(issue.min),
                    float(issue.max),
                    float(issue.value if issue.value is not None else issue.min),
                    step=float(issue.step_size),
                    key=state.wkey("log_num", issue.name),
                )
                if include:
                    terms[issue.name] = x
        statuses: dict[str, str] = {}
        with st.expander("Status changes this offer brought"):
            scols = st.columns(2)
            for n, issue in enumerate(scenario.issues):
                choice = scols[n % 2].selectbox(
                    f"{md(issue.name)} (now {issue.status})",
                    [NO_CHANGE, "open", "provisional", "agreed"],
                    key=state.wkey("log_status", issue.name),
                )
                if choice != NO_CHANGE:
                    statuses[issue.name] = choice
        note = st.text_input("Note", key=state.wkey("log_note"))
        if st.form_submit_button("Record the offer", icon=":material/save:"):
            _record(
                scenario,
                by=by,
                package=terms,
                date=date,
                status_changes=statuses,
                note=note,
            )


def page() -> None:
    st.title("Proposals")
    st.caption(
        "Turn a win-win package into a proposal: joint problem-solving language for the other "
        "side, the numbers for our team. Every term we propose is good for us too: don't try to "
        "buy love."
    )
    scenario = state.require_scenario()
    doc = _document_section(scenario)
    _log_section(scenario, doc)


page()
