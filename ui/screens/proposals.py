"""Proposals: turn a package (or equivalent offers) into a document, and keep the negotiation log.

Choose what to propose (the N-th best win-win package, or K equivalent offers), for whom (the
counterpart: no preference numbers; or our internal brief), preview the Markdown and download it as
Markdown, Word or PDF. The log section records offers and counter-offers into the scenario (so they
are saved with it) and shows each side's utility over the rounds.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import streamlit as st

from optimizer.errors import DealoptError
from ui import state

PAGE_ORDER = 50
PAGE_TITLE = "Proposals"
PAGE_ICON = ":material/description:"

MODE_KEY = "proposals_mode"
RANK_KEY = "proposals_rank"
MESO_KEY = "proposals_meso"
TOL_KEY = "proposals_tolerance"
AUDIENCE_KEY = "proposals_audience"
RECORD_PROPOSED_KEY = "proposals_record_proposed"
LOG_FORM_KEY = "proposals_log_form"

MODES = {"package": "One package", "meso": "Equivalent offers (MESOs)"}
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


def _document_section(scenario: Any) -> Any:
    """The choices, the preview and the downloads; returns the document (or None)."""
    c1, c2, c3 = st.columns([2, 1, 1])
    mode = c1.radio(
        "What to propose",
        list(MODES),
        format_func=MODES.get,
        key=MODE_KEY,
        horizontal=True,
    )
    kwargs: dict[str, Any] = {}
    if mode == "package":
        rank = int(
            c2.number_input(
                "Package number",
                1,
                10,
                1,
                key=RANK_KEY,
                help="1 is the best win-win package (max-min gain), 2 the next best, ...",
            )
        )
        kwargs["package"] = rank
    else:
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
    doc_json = doc.model_dump_json()
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
        st.markdown(doc.to_markdown())
    return doc


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
        f"Recorded offer {len(updated.history)} by {offer['by']}."
    )
    st.rerun()


def _log_section(scenario: Any, doc: Any) -> None:
    from optimizer.reports.negotiation_log import log_report

    st.header("Negotiation log")
    done = st.session_state.pop("proposals_recorded", None)
    if done:
        st.success(done, icon=":material/check:")
    report = log_report(scenario)
    st.markdown(report.text)
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
                    issue.name,
                    [NOT_OFFERED, *values],
                    format_func=lambda v, i=issue: v if v == NOT_OFFERED else i.display(v),
                    key=state.wkey("log_term", issue.name),
                )
                if choice != NOT_OFFERED:
                    terms[issue.name] = choice
            else:
                include = col.checkbox(
                    f"{issue.name} is in this offer", key=state.wkey("log_inc", issue.name)
                )
                x = col.number_input(
                    issue.name,
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
                    f"{issue.name} (now {issue.status})",
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
