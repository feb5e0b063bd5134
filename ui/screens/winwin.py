"""Win-win packages: the best packages that improve on the deal on the table, side by side."""

from __future__ import annotations

import streamlit as st

from optimizer.engine.reference import reference_warning
from ui import state, views
from ui.text import md

PAGE_ORDER = 20
PAGE_TITLE = "Win-win packages"
PAGE_ICON = ":material/handshake:"

OBJECTIVE_KEY = "winwin_objective"
TOP_KEY = "winwin_top"
DIFF_KEY = "winwin_min_diff"


def _explanations(scenario, packages, names) -> None:
    for name, pkg in zip(names, packages, strict=True):
        title = f"{md(name)}: what each side gives and gets"
        if pkg.concepts:
            title += f" ({views.concept_names(pkg.concepts)})"
        with st.expander(title, expanded=len(packages) == 1):
            outcome = state.explain(scenario, pkg.package)
            exp = state.show(outcome, "the trade explanation")
            if exp is not None:
                st.markdown(md(exp.text))
                for w in exp.warnings:
                    st.warning(md(w), icon=":material/warning:")
                lines = getattr(exp, "lines", None) or []
                if lines:
                    st.markdown("\n".join(f"- {md(line)}" for line in lines))
            else:
                diffs = views.differences(scenario, pkg.package)
                st.markdown("\n".join(f"- {md(d)}" for d in diffs) or "No change.")


def page() -> None:
    st.title("Win-win packages")
    st.caption(
        "Packages at least as good as the deal on the table for every side and strictly better "
        "for at least one. Agreed issues never move; provisional ones move only for a clear gain."
    )
    scenario = state.require_scenario()
    views.walkaway_warning(scenario)
    breaks = reference_warning(scenario)
    if breaks:  # the deal on the table is no deal: say so before any comparison with it
        st.warning(md(breaks[0].upper() + breaks[1:] + "."), icon=":material/gavel:")
    c1, c2, c3 = st.columns([3, 1, 1])
    objective = c1.selectbox(
        "Rank by",
        list(state.OBJECTIVES),
        format_func=state.OBJECTIVES.get,
        key=OBJECTIVE_KEY,
    )
    top = int(c2.number_input("How many (K)", 1, 10, 3, key=TOP_KEY))
    n_issues = len(scenario.issues)
    min_diff = int(
        c3.number_input(
            "Differ in ≥ issues",
            1,
            max(1, n_issues),
            1,
            key=DIFF_KEY,
            help="Each package differs from the others in at least this many issues.",
        )
    )
    with st.spinner("Searching for win-win packages…"):
        outcome = state.improve(scenario, objective, top=top, min_diff=min_diff)
    result = state.show(outcome, "the search")
    if result is None:
        return
    if not result.exact or result.status.termination.value != "optimal":
        st.warning(
            f"The search ended with status **{result.status.termination.value}**; the packages "
            "below are the best found, not proven best. " + md(result.status.message or ""),
            icon=":material/warning:",
        )
    ref = result.reference_utilities
    parties = result.parties
    if not result.packages:
        st.info(
            md(
                result.explanation
                or "No package makes every side at least as well off and one side better than "
                "the deal on the table."
            ),
            icon=":material/info:",
        )
        st.markdown(
            "Deal on the table: "
            + ", ".join(f"{md(p)} {views.fmt_utility(ref.get(p))}" for p in parties)
        )
        return
    names = [f"Package {i + 1}" for i in range(len(result.packages))]
    cells, kinds = views.package_table(scenario, result.packages, names, ref, parties)
    base = "deal on the table" if result.reference is not None else "walk-away points"
    st.markdown(
        f"**{len(result.packages)} win-win package(s)**, best first, over the {base} "
        f"({', '.join(f'{md(p)} {views.fmt_utility(ref.get(p))}' for p in parties)})."
    )
    st.dataframe(
        views.styled(cells, kinds),
        key="winwin_table",
        width="stretch",
        height=min(35 * (len(cells) + 1) + 3, 900),
    )
    st.caption(
        ":green-background[changed] · :orange-background[reopens a provisional issue] · "
        ":blue-background[no value was on the table] · unmarked: stays as on the table"
        + (f" · Nash product: {md(result.nash_method)}" if result.nash_method else "")
        + f" · solved in {outcome.seconds:.2f} s"
    )
    if result.explanation:
        st.caption(md(result.explanation))
    state.result_downloads(scenario, result, key="winwin_download")
    _explanations(scenario, result.packages, names)


page()
