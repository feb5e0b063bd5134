"""Session helpers shared by every page of the Streamlit app (import as ``from ui import state``).

The current scenario
--------------------
The session keeps two things: the *raw data* the user is editing (plain dicts and lists, exactly as
in a scenario file, kept even while invalid so nothing typed is lost) and the last *validated*
``Scenario`` built from it (``None`` while the data has errors).

* ``state.init_session()`` -- called by ``ui/app.py`` on every run; loads ``$DEALOPT_SCENARIO`` (or
  the first example) the first time.
* ``state.get_scenario() -> Scenario | None`` -- the validated scenario (``None`` when invalid).
* ``state.require_scenario() -> Scenario`` -- the same, but shows the problems and stops the page
  (``st.stop()``) when there is no valid scenario. Use it at the top of result pages.
* ``state.get_data() -> dict`` -- the live raw data; mutate it, then call ``state.commit()``.
* ``state.set_data(data, source=None, reset_widgets=False) -> list[Problem]`` -- replace the raw data,
  validate, store; returns the validation problems (empty when valid).
* ``state.commit() -> list[Problem]`` -- re-validate the (mutated) raw data.
* ``state.get_problems() -> list[Problem]`` -- the current data's errors; ``state.get_warnings()``.
* ``state.set_status(issue, status, value=...)`` -- change one issue's status (and value on the table).
* ``state.load_example(name)``, ``state.new_blank()`` -- start over.
* ``state.examples() -> list[Example]`` -- the ready scenarios in ``examples/`` (name, path, title).
* ``state.revision()`` / ``state.wkey(*parts)`` -- widget keys that change when a new scenario is
  loaded, so form widgets are rebuilt from the new data instead of keeping stale values.
* ``state.data_revision()`` -- bumped on every change of the data (views of the whole scenario,
  such as the YAML tab, key on it so they never show a stale scenario).

The workspace (autosave)
------------------------
Each session works on one negotiation of the workspace (``ui/workspace.py``, a SQLite file). Every
change of the data is saved as a new version; loading an example, uploading a file or starting
blank starts a *new* negotiation (nothing is replaced). The negotiation's id is in the page URL
(``?n=...``) and remembered as the last one opened, so a reload or a restart comes back to it.

* ``state.workspace() -> Workspace | None`` (None, with ``state.workspace_error()``, when the file
  cannot be used: the session then keeps the data, and says so);
* ``state.negotiation_id()``, ``state.version()``, ``state.open_negotiation(nid)``,
  ``state.restore_version(v)``, ``state.undo()`` / ``state.redo()`` (``can_undo`` / ``can_redo``);
* ``state.apply_text(text)`` -- the YAML editor: replace the data of the *same* negotiation.
* ``state.scenario_key(scenario) -> str`` -- the scenario's canonical JSON (the cache key).

Engine calls (cached)
---------------------
Every call returns an ``Outcome`` (``value``, ``error``, ``missing``) instead of raising, and is cached
with ``st.cache_data`` keyed on the scenario's canonical JSON plus the arguments, so a re-render never
recomputes and an edit that returns to an earlier state is instant. Failures (infeasible, solver
errors, unexpected exceptions) are cached as messages; a library module that is not installed yet is
reported as ``missing`` and not cached.

* ``state.improve(scenario, objective="maxmin", top=1, min_diff=1) -> Outcome[ImproveResult]``
* ``state.frontier(scenario, parties=None) -> Outcome[FrontierResult]``
* ``state.summary(scenario) -> Outcome[ProgressSummary]``
* ``state.explain(scenario, package, reference=None) -> Outcome[TradeExplanation]``
* ``state.engine_call(module, function, scenario, **kwargs) -> Outcome`` -- the same for any library
  function ``module.function(scenario, **kwargs)`` (keyword arguments must be plain JSON data);
  pages added later (proposals, uncertainty) use it for their own calls.
* ``state.show(outcome, what="the search") -> value | None`` -- shows the error box (or the
  "not available yet" note) and returns the value, ``None`` on failure.

Messages
--------
* ``state.error_box(exc_or_text)`` -- a DealoptError (validation problems listed one per line with
  their location), any other exception or a text, as an ``st.error`` box; never a traceback.
* ``state.problems_box(problems, match=None)`` -- validation problems whose location ``match``-es,
  shown next to the field they concern.
* ``state.download_button(container=st)`` -- download the edited scenario as YAML (works while
  invalid too: the raw data is written as it stands, so nothing is lost).
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st
import yaml

from optimizer.errors import (
    DealoptError,
    ScenarioFileError,
    ScenarioValidationError,
    WorkspaceError,
)
from optimizer.reports.tables import package_table, to_csv, to_xlsx
from optimizer.scenario.models import Problem, Scenario
from optimizer.scenario.workbook import scenario_to_xlsx, template_xlsx, xlsx_to_data
from ui.components import background, words
from ui.text import md
from ui.workspace import Workspace, dumps

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "examples"
DEFAULT_EXAMPLE = "saas_renewal"

# Session-state keys (one place, so tests can inject values).
DATA = "dealopt_data"
SCENARIO = "dealopt_scenario"
PROBLEMS = "dealopt_problems"
SOURCE = "dealopt_source"
REV = "dealopt_rev"
LOAD_ERROR = "dealopt_load_error"
DATA_REV = "dealopt_data_rev"
WORKSPACE = "dealopt_workspace"
WORKSPACE_ERROR = "dealopt_workspace_error"
NEGOTIATION = "dealopt_negotiation"
VERSION = "dealopt_version"
CURRENT = "dealopt_current_json"  # the data now (JSON): what undo goes back from
SAVED = "dealopt_saved_json"  # the data as last saved (JSON), to save only real changes
UNDO = "dealopt_undo"
REDO = "dealopt_redo"
UNDO_DEPTH = 50
URL_PARAM = "n"

OBJECTIVES: dict[str, str] = {
    "maxmin": "Max-min gain (fairest: raise the side that gains least)",
    "welfare": "Total gain (largest joint gain)",
    "nash": "Nash product of gains (balanced)",
}

BLANK: dict[str, Any] = {
    "name": "New negotiation",
    "us": "Us",
    "parties": [
        {"name": "Us", "preferences": {"weights": {"Issue 1": 1}, "values": {}}},
        {"name": "Them", "preferences": {"weights": {"Issue 1": 1}, "values": {}}},
    ],
    "issues": [{"name": "Issue 1", "options": ["Option A", "Option B"]}],
}


# --------------------------------------------------------------------------------------------
# Examples
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """A ready scenario file under ``examples/``."""

    name: str
    path: Path
    title: str


@st.cache_data(show_spinner=False, ttl=60)
def _example_titles(paths: tuple[str, ...]) -> dict[str, str]:
    from optimizer.scenario.files import read_data

    out = {}
    for p in paths:
        try:
            data = read_data(p)
            out[p] = str(data.get("name") or Path(p).stem)
        except DealoptError:
            out[p] = Path(p).stem
    return out


def examples() -> list[Example]:
    """The example scenarios (``examples/*.yaml|yml|json``), the SaaS renewal first."""
    if not EXAMPLES_DIR.is_dir():
        return []
    paths = sorted(
        p for p in EXAMPLES_DIR.iterdir() if p.suffix.lower() in (".yaml", ".yml", ".json")
    )
    paths.sort(key=lambda p: (p.stem != DEFAULT_EXAMPLE, p.stem))
    titles = _example_titles(tuple(str(p) for p in paths))
    return [Example(p.stem, p, titles[str(p)]) for p in paths]


# --------------------------------------------------------------------------------------------
# The scenario in the session
# --------------------------------------------------------------------------------------------


def _validate(data: Any) -> tuple[Scenario | None, list[Problem]]:
    from optimizer.scenario.files import scenario_from_data

    try:
        return scenario_from_data(data), []
    except ScenarioValidationError as e:
        return None, list(e.problems)
    except DealoptError as e:
        return None, [Problem("scenario", str(e))]
    except Exception as e:  # noqa: BLE001 - a broken structure must never become a traceback
        return None, [Problem("scenario", f"cannot be read: {type(e).__name__}: {e}")]


def init_session() -> None:
    """Open the workspace and the negotiation the user was on (the URL's ``?n=``, else the last
    one opened); with none saved yet, start one from $DEALOPT_SCENARIO (or the first example)."""
    ss = st.session_state
    if DATA in ss:
        return
    ss[REV] = 0
    ss[DATA_REV] = 0
    ss[UNDO], ss[REDO] = [], []
    ws = workspace()
    if ws is not None:
        try:
            wanted = st.query_params.get(URL_PARAM)
            nid = wanted if wanted and ws.exists(wanted) else ws.last_opened()
            if nid is not None and open_negotiation(nid):
                return
        except WorkspaceError as e:
            ss[WORKSPACE_ERROR] = str(e)
    env = os.environ.get("DEALOPT_SCENARIO")
    load_error = None
    if env:
        path = Path(env)
        if not path.is_absolute() and not path.exists():
            path = ROOT / env
        if load_file(path):
            return
        load_error = ss.get(LOAD_ERROR)
    exs = examples()
    if exs and load_file(exs[0].path):
        ss[LOAD_ERROR] = load_error
        return
    start_negotiation(copy.deepcopy(BLANK), source="blank", note="started blank")
    ss[LOAD_ERROR] = load_error


# --------------------------------------------------------------------------------------------
# The workspace: autosave, negotiations, versions, undo
# --------------------------------------------------------------------------------------------


def workspace() -> Workspace | None:
    """The session's workspace, opened on first use; None when it cannot be used (the reason is
    ``workspace_error()``; the session keeps working on its own data)."""
    ss = st.session_state
    ws = ss.get(WORKSPACE)
    if ws is not None:
        return ws
    if ss.get(WORKSPACE_ERROR) and not ss.get(WORKSPACE + ":retry"):
        return None
    ss[WORKSPACE + ":retry"] = False
    try:
        ws = Workspace()
    except WorkspaceError as e:
        ss[WORKSPACE_ERROR] = str(e)
        ss[WORKSPACE + ":retry"] = "locked" in str(e)  # a lock passes: try again on the next save
        return None
    ss[WORKSPACE] = ws
    ss[WORKSPACE_ERROR] = ws.read_only
    return ws


def workspace_error() -> str | None:
    """Why changes are not being saved right now (None when they are)."""
    return st.session_state.get(WORKSPACE_ERROR)


def negotiation_id() -> str | None:
    """The id of the negotiation being edited (None while the workspace is unavailable)."""
    return st.session_state.get(NEGOTIATION)


def version() -> int:
    """The number of the version saved last (0 when not saved)."""
    return int(st.session_state.get(VERSION) or 0)


def data_revision() -> int:
    """Bumped on every change of the data (keys of views of the whole scenario follow it)."""
    return int(st.session_state.get(DATA_REV, 0))


def _save(note: str) -> None:
    """Save the data as a new version of the current negotiation (when it changed)."""
    ss = st.session_state
    text = ss[CURRENT]
    if text == ss.get(SAVED):
        return
    ws, nid = workspace(), ss.get(NEGOTIATION)
    if ws is None:
        return
    try:
        if nid is None:
            nid = ss[NEGOTIATION] = ws.create(ss[DATA], note=note)
            ss[VERSION] = 1
            ws.set_last_opened(nid)
        else:
            ss[VERSION] = ws.save(nid, ss[DATA], note=note)
    except WorkspaceError as e:
        ss[WORKSPACE_ERROR] = str(e)
        return
    ss[SAVED] = text
    ss[WORKSPACE_ERROR] = ws.read_only


def _track(before: str | None, after: str, undoing: str | None) -> None:
    """Keep the undo and redo stacks (JSON texts of the data before each change)."""
    ss = st.session_state
    if before is None or before == after:
        return
    if undoing == "undo":
        ss[REDO].append(before)
    else:
        ss[UNDO].append(before)
        del ss[UNDO][:-UNDO_DEPTH]
        if undoing is None:
            ss[REDO].clear()


def start_negotiation(data: Any, *, source: str, note: str) -> list[Problem]:
    """A new negotiation in the workspace holding ``data`` (the current one stays saved)."""
    ss = st.session_state
    ss[NEGOTIATION] = None
    ss[SAVED] = None
    ss[VERSION] = 0
    ss[UNDO], ss[REDO] = [], []
    problems = _store(data, source=source, reset_widgets=True)
    _save(note)
    return problems


def open_negotiation(nid: str, version: int | None = None) -> bool:
    """Open a saved negotiation (its newest version); False when it cannot be read."""
    ss = st.session_state
    ws = workspace()
    if ws is None:
        return False
    try:
        data = ws.load(nid, version)
        latest = ws.latest(nid)
        if ws.read_only is None:
            ws.set_last_opened(nid)
    except WorkspaceError as e:
        ss[WORKSPACE_ERROR] = str(e)
        return False
    ss[NEGOTIATION] = nid
    ss[VERSION] = latest
    ss[SAVED] = dumps(data)
    ss[UNDO], ss[REDO] = [], []
    ss[LOAD_ERROR] = None
    _store(data, source="workspace", reset_widgets=True)
    return True


def restore_version(number: int) -> None:
    """Make an earlier version of this negotiation current again (saved as a new version)."""
    ws, nid = workspace(), negotiation_id()
    if ws is None or nid is None:
        raise WorkspaceError(workspace_error() or "no workspace to restore from")
    data = ws.load(nid, number)
    set_data(data, reset_widgets=True, note=f"restored version {number}")


def can_undo() -> bool:
    return bool(st.session_state.get(UNDO))


def can_redo() -> bool:
    return bool(st.session_state.get(REDO))


def undo() -> None:
    """Go back one change (saved as a new version, so it can itself be undone with Redo)."""
    ss = st.session_state
    if ss.get(UNDO):
        set_data(json.loads(ss[UNDO].pop()), reset_widgets=True, note="undo", undoing="undo")


def redo() -> None:
    """Apply again the change Undo took back."""
    ss = st.session_state
    if ss.get(REDO):
        set_data(json.loads(ss[REDO].pop()), reset_widgets=True, note="redo", undoing="redo")


def sync_url() -> None:
    """Put the negotiation's id in the page URL so a reload comes back to it."""
    nid = negotiation_id()
    if nid is not None and st.query_params.get(URL_PARAM) != nid:
        st.query_params[URL_PARAM] = nid


def get_data() -> dict[str, Any]:
    """The raw scenario data being edited (live: mutate it, then ``commit()``)."""
    init_session()
    return st.session_state[DATA]


def get_scenario() -> Scenario | None:
    """The validated scenario, or None while the edited data has errors."""
    init_session()
    return st.session_state.get(SCENARIO)


def get_problems() -> list[Problem]:
    """The current data's errors (empty when the scenario is valid)."""
    init_session()
    return list(st.session_state.get(PROBLEMS, []))


def get_warnings() -> list[Problem]:
    """Warnings about the valid scenario (e.g. a walk-away point no package reaches)."""
    s = get_scenario()
    if s is None:
        return []
    return _warnings(scenario_key(s), s)


@st.cache_data(show_spinner=False, max_entries=64)
def _warnings(key: str, _scenario: Scenario) -> list[Problem]:
    try:
        return _scenario.warnings()
    except Exception:  # noqa: BLE001
        return []


def source() -> str:
    """Where the current scenario came from (an example name, a file name, "blank")."""
    init_session()
    return str(st.session_state.get(SOURCE, ""))


def revision() -> int:
    """Bumped each time a new scenario is loaded; part of every form widget's key."""
    return int(st.session_state.get(REV, 0))


def wkey(*parts: Any) -> str:
    """A widget key tied to the loaded scenario (so loading another one rebuilds the form)."""
    return "w" + str(revision()) + ":" + ":".join(str(p) for p in parts)


def _store(data: Any, *, source: str | None = None, reset_widgets: bool = False) -> list[Problem]:
    ss = st.session_state
    scenario, problems = _validate(data)
    ss[DATA] = data
    ss[CURRENT] = dumps(data)
    ss[SCENARIO] = scenario
    ss[PROBLEMS] = problems
    ss[DATA_REV] = int(ss.get(DATA_REV, 0)) + 1
    if source is not None:
        ss[SOURCE] = source
    if reset_widgets:
        ss[REV] = int(ss.get(REV, 0)) + 1
    return problems


def set_data(
    data: Any,
    *,
    source: str | None = None,
    reset_widgets: bool = False,
    note: str = "edit",
    undoing: str | None = None,
) -> list[Problem]:
    """Replace the raw data, validate it, store both and autosave it as a new version of the
    current negotiation (``note`` says what changed); returns the problems (empty: valid)."""
    before = st.session_state.get(CURRENT)
    problems = _store(data, source=source, reset_widgets=reset_widgets)
    _track(before, st.session_state[CURRENT], undoing)
    _save(note)
    return problems


def commit(note: str = "edit") -> list[Problem]:
    """Re-validate (and autosave) the raw data after an in-place edit."""
    return set_data(st.session_state[DATA], note=note)


def load_file(path: str | Path) -> bool:
    """Start a new negotiation from a scenario file; False (and a stored message) when unreadable."""
    from optimizer.scenario.files import read_data

    try:
        data = read_data(path)
    except DealoptError as e:
        st.session_state[LOAD_ERROR] = str(e)
        return False
    st.session_state[LOAD_ERROR] = None
    start_negotiation(data, source=Path(path).name, note=f"from {Path(path).name}")
    return True


def load_example(name: str) -> list[Problem]:
    """Load an example by name (file stem); returns the validation problems."""
    for ex in examples():
        if ex.name == name:
            load_file(ex.path)
            return get_problems()
    raise KeyError(f"no example named {name!r}")


def _parse(text: str, filename: str) -> Any:
    from optimizer.scenario.files import parse_text

    suffix = Path(filename).suffix.lower()
    fmt = "json" if suffix == ".json" else "yaml" if suffix in (".yaml", ".yml") else "auto"
    return parse_text(text, fmt=fmt, source=filename)


def apply_text(text: str, filename: str = "edited.yaml") -> str | None:
    """Replace the data of the *current* negotiation with edited YAML/JSON text (a new version);
    an error message when it cannot be parsed (the data is then unchanged)."""
    try:
        data = _parse(text, filename)
    except ScenarioFileError as e:
        return str(e)
    set_data(data, source="edited YAML", reset_widgets=True, note="edited as YAML")
    return None


def load_workbook_bytes(
    raw: bytes, filename: str = "<upload>.xlsx"
) -> tuple[str | None, list[str]]:
    """Load an uploaded .xlsx scenario workbook: (error message or None, the reader's notes).

    Cell problems (a text in a number cell, merged cells...) are an error naming sheet, row and
    column; data that reads but breaks scenario rules is kept, and the form flags each problem."""
    try:
        data, notes = xlsx_to_data(raw, filename)
    except ScenarioValidationError as e:
        return (
            f"{filename}: {len(e.problems)} problem(s) in the workbook:\n\n"
            + "\n".join(f"- {p}" for p in e.problems)
        ), []
    except (ScenarioFileError, DealoptError) as e:
        return str(e), []
    start_negotiation(data, source=filename, note=f"uploaded {filename}")
    st.session_state[LOAD_ERROR] = None
    return None, [str(n) for n in notes]


def new_blank() -> None:
    """Start a new negotiation from a small blank scenario (two parties, one issue)."""
    start_negotiation(copy.deepcopy(BLANK), source="blank", note="started blank")


def set_status(issue: str, status: str, value: Any = None) -> list[Problem]:
    """Set one issue's status (and, when given, the value on the table); returns the problems."""
    data = get_data()
    for it in data.get("issues", []):
        if isinstance(it, dict) and it.get("name") == issue:
            if status == "open":
                it.pop("status", None)
            else:
                it["status"] = status
            if value is not None:
                it["value"] = value
            break
    else:
        raise KeyError(f"no issue named {issue!r}")
    return commit()


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes numbers read from a file (int/float subclasses) as typed."""


def _represent_number(dumper: yaml.SafeDumper, data: Any) -> yaml.Node:
    tag = "tag:yaml.org,2002:int" if isinstance(data, int) else "tag:yaml.org,2002:float"
    text = getattr(data, "source", None)
    if isinstance(text, str):
        return dumper.represent_scalar(tag, text)
    if isinstance(data, int):
        return dumper.represent_int(int(data))
    return dumper.represent_float(float(data))


_Dumper.add_multi_representer(int, _represent_number)
_Dumper.add_multi_representer(float, _represent_number)


def dump_yaml(obj: Any) -> str:
    """Raw scenario data (or part of it) as YAML, numbers as the user typed them."""
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def scenario_key(scenario: Scenario) -> str:
    """The scenario's canonical JSON: equal scenarios give equal keys (the cache key)."""
    return json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def scenario_yaml() -> str:
    """The edited scenario as YAML: the validated one when valid, else the raw data as typed."""
    from optimizer.scenario.files import dumps_scenario

    s = get_scenario()
    if s is not None:
        return dumps_scenario(s)
    return dump_yaml(get_data())


def download_name() -> str:
    """A file name for the download, from the scenario's name."""
    name = str(get_data().get("name") or "scenario") if isinstance(get_data(), dict) else ""
    slug = "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")
    while "__" in slug:
        slug = slug.replace("__", "_")
    return (slug[:60] or "scenario") + ".yaml"


def download_button(container: Any = st, key: str = "download_scenario") -> None:
    """A button that downloads the edited scenario as YAML (invalid data too, as typed)."""
    container.download_button(
        "Download scenario (YAML)",
        data=scenario_yaml(),
        file_name=download_name(),
        mime="application/x-yaml",
        key=key,
        help="Everything you entered, as a scenario file you can load again or use with dealopt.",
        width="stretch",
    )


def download_name_as(suffix: str) -> str:
    """The download name with another suffix (``.xlsx``, ``.csv``)."""
    return download_name().removesuffix(".yaml") + suffix


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook_download_buttons(container: Any = st, key: str = "download_xlsx") -> None:
    """Download the scenario as an Excel workbook (when it is valid) and the blank template."""
    c1, c2 = container.columns(2)
    scenario = get_scenario()
    c1.download_button(
        "Download scenario (Excel)",
        data=scenario_to_xlsx(scenario) if scenario is not None else b"",
        file_name=download_name_as(".xlsx"),
        mime=XLSX_MIME,
        key=key,
        disabled=scenario is None,
        help="The scenario as a workbook to share or edit in Excel; upload it again above."
        if scenario is not None
        else "Fix the problems first: a workbook is made from a valid scenario.",
        width="stretch",
        icon=":material/table_view:",
    )
    c2.download_button(
        "Download blank template (Excel)",
        data=template_xlsx(),
        file_name="dealopt_template.xlsx",
        mime=XLSX_MIME,
        key=key + "_template",
        help="A blank workbook to fill in from scratch, with a worked example party sheet.",
        width="stretch",
        icon=":material/grid_on:",
    )


def result_downloads(scenario: Scenario, result: Any, key: str, container: Any = st) -> None:
    """CSV and Excel downloads of a result's packages (win-win packages or frontier points)."""
    table = package_table(scenario, result)
    stem = download_name_as("") + "_" + table.title.lower().replace(" ", "_").replace("-", "_")
    c1, c2, _ = container.columns([1, 1, 2])
    c1.download_button(
        "Download CSV",
        data=to_csv(table),
        file_name=stem + ".csv",
        mime="text/csv",
        key=key + "_csv",
        icon=":material/download:",
        width="stretch",
    )
    c2.download_button(
        "Download Excel",
        data=to_xlsx(table),
        file_name=stem + ".xlsx",
        mime=XLSX_MIME,
        key=key + "_xlsx",
        icon=":material/table_view:",
        width="stretch",
        help="Changed terms highlighted, gains per side and P(win-win) when there are ranges.",
    )


# --------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------


def error_text(exc: BaseException | str) -> str:
    """The words of an error, never a traceback."""
    if isinstance(exc, str):
        return exc
    if isinstance(exc, ScenarioValidationError):
        head = f"{len(exc.problems)} problem(s) in the scenario:"
        lines = [
            f"{words.location(p.location)}: {words.message(p.message)}"
            if p.location
            else words.message(p.message)
            for p in exc.problems
        ]  # plain text: error_box escapes each line
        return head + "\n" + "\n".join(f"- {line}" for line in lines)
    if isinstance(exc, DealoptError):
        return words.message(str(exc))
    if isinstance(exc, MemoryError):
        return (
            "This scenario is too large to compute here (it ran out of memory). Fewer issues or "
            "options, agreed issues or narrower acceptable ranges make it smaller; on the command "
            "line, frontier --max-points and --time-limit bound the work."
        )
    return f"Something went wrong ({type(exc).__name__}): {exc}"


def problem_text(p: Problem) -> str:
    """One validation problem in the form's words (``walk-away point``, not the file's field)."""
    return words.problem(p.location, p.message)


def error_box(exc: BaseException | str, container: Any = st) -> None:
    """Show an error as a message box (a DealoptError's own words; never a traceback)."""
    lines = error_text(exc).split("\n")  # one escaped line each (a list of problems)
    container.error("  \n".join(md(line) for line in lines), icon=":material/error:")


def problems_box(
    problems: list[Problem], match: Callable[[str], bool] | None = None, container: Any = st
) -> list[Problem]:
    """Show the problems whose location matches, next to the field; returns those shown."""
    shown = [p for p in problems if match is None or match(p.location)]
    for p in shown:
        text = problem_text(p)
        if p.severity == "warning":
            container.warning(text, icon=":material/warning:")
        else:
            container.error(text, icon=":material/error:")
    return shown


# --------------------------------------------------------------------------------------------
# Engine calls, cached on the scenario's canonical JSON
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a library call gave: ``value`` on success, else ``error`` (or ``missing``); ``pending``
    while it is still being computed in the background (the page then shows a spinner)."""

    value: Any = None
    error: str | None = None
    missing: str | None = None
    seconds: float = 0.0
    pending: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.missing is None and not self.pending


def _resolve(module: str, function: str) -> Callable[..., Any] | str:
    """The library function, or a message saying it is not available yet."""
    try:
        mod = importlib.import_module(module)
    except ImportError as e:
        return f"`{module}` is not available yet ({e})."
    fn = getattr(mod, function, None)
    if fn is None:
        return f"`{module}.{function}` is not available yet."
    return fn


def _compute(module: str, function: str, scenario: Scenario, kwargs_json: str) -> Outcome:
    fn = _resolve(module, function)
    if isinstance(fn, str):  # pragma: no cover - checked before
        return Outcome(missing=fn)
    kwargs = json.loads(kwargs_json)
    t0 = time.perf_counter()
    try:
        value = fn(scenario, **kwargs)
    except Exception as e:  # noqa: BLE001 - the app never shows a traceback
        return Outcome(error=error_text(e), seconds=time.perf_counter() - t0)
    return Outcome(value=value, seconds=time.perf_counter() - t0)


@st.cache_data(show_spinner=False, max_entries=256)
def _cached_call(
    module: str, function: str, key: str, kwargs_json: str, _scenario: Scenario
) -> Outcome:
    return _compute(module, function, _scenario, kwargs_json)


# Background computation (ui/components/background.py): a page waits at most WAIT_S in total for
# its results, then shows what it has with a spinner for the rest, and redraws when they arrive.
WAIT_ENV = "DEALOPT_UI_WAIT"
WAIT_S = 0.35
RUN_DEADLINE = "dealopt_run_deadline"
PENDING = "dealopt_pending"


def workers() -> int:
    """Worker processes for engine calls (``$DEALOPT_UI_WORKERS``; 0: compute in the page)."""
    try:
        return max(0, int(os.environ.get(background.WORKERS_ENV, "2")))
    except ValueError:
        return 2


@st.cache_resource(show_spinner=False)
def _jobs(n: int) -> background.Jobs:
    return background.Jobs(n)


def start_run() -> None:
    """Start the run's waiting budget (``ui/app.py`` calls it before drawing the page)."""
    try:
        budget = float(os.environ.get(WAIT_ENV, WAIT_S))
    except ValueError:
        budget = WAIT_S
    st.session_state[RUN_DEADLINE] = time.monotonic() + budget
    st.session_state[PENDING] = []


def pending() -> list[tuple]:
    """Keys of the results this run is still waiting for."""
    return list(st.session_state.get(PENDING) or [])


def results_ready(keys: list[tuple]) -> bool:
    """True when every one of ``keys`` has its result (the page can be drawn again)."""
    n = workers()
    if n == 0:
        return True
    jobs = _jobs(n)
    return all(jobs.result(k) is not None or not jobs.pending(k) for k in keys)


def _from_worker(answer: tuple[str, Any, float]) -> Outcome:
    kind, value, seconds = answer
    if kind == "ok":
        return Outcome(value=value, seconds=seconds)
    return Outcome(error=words.message(str(value)), seconds=seconds)


def _call_key(module: str, function: str, scenario: Scenario, kwargs: dict[str, Any]) -> tuple:
    return (
        module,
        function,
        scenario_key(scenario),
        json.dumps(kwargs, sort_keys=True, default=str),
    )


def precompute(calls: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Start the results the pages will ask for, for the current scenario, in the background
    (``(module, function, kwargs)`` each), so a page visited after an edit finds them ready."""
    s = get_scenario()
    n = workers()
    if s is None or n == 0:
        return
    todo = []
    for module, function, kwargs in calls:
        if isinstance(_resolve(module, function), str):
            continue
        key = _call_key(module, function, s, kwargs)
        todo.append((key, key))
    _jobs(n).ahead(todo, _from_worker)


def page_calls(scenario: Scenario) -> list[tuple[str, str, dict[str, Any]]]:
    """The engine calls the built-in pages make with their default settings, cheapest first."""
    ranges = _has_ranges(scenario)
    imp = (
        ("optimizer.searches.uncertainty", "annotated_improve")
        if ranges
        else (
            "optimizer.searches.improve",
            "improve",
        )
    )
    fro = (
        ("optimizer.searches.uncertainty", "annotated_frontier")
        if ranges
        else (
            "optimizer.searches.frontier",
            "frontier",
        )
    )
    unc = "optimizer.searches.uncertainty"
    calls: list[tuple[str, str, dict[str, Any]]] = [
        (*imp, {"objective": "maxmin", "top": 3, "min_diff": 1}),
        (*fro, {"parties": None}),
        (*imp, {"objective": "maxmin", "top": 1, "min_diff": 1}),
        ("optimizer.reports.summary", "progress_summary", {}),
    ]
    if ranges:
        calls += [
            (
                unc,
                "annotated_improve",
                {"objective": "maxmin", "top": 3, "samples": 10000, "seed": 0},
            ),
            (unc, "robust_improve", {"alpha": 0.8, "samples": 200, "seed": 0}),
            (unc, "questions", {"k": 3, "objective": "maxmin"}),
        ]
    calls.append((unc, "sensitivity", {"objective": "maxmin"}))
    return calls


def engine_call(module: str, function: str, scenario: Scenario, **kwargs: Any) -> Outcome:
    """``module.function(scenario, **kwargs)``, cached on the scenario and arguments; computed
    in a worker process, waited for within the run's budget, else ``Outcome(pending=True)``."""
    fn = _resolve(module, function)
    if isinstance(fn, str):
        return Outcome(missing=fn)
    key = _call_key(module, function, scenario, kwargs)
    _, _, skey, kwargs_json = key
    n = workers()
    if n == 0:
        return _cached_call(module, function, skey, kwargs_json, scenario)
    jobs = _jobs(n)
    got = jobs.result(key)
    if got is not None:
        return got
    fut = jobs.submit(key, (module, function, skey, kwargs_json), _from_worker)
    deadline = st.session_state.get(RUN_DEADLINE) or time.monotonic() + WAIT_S
    try:
        answer = fut.result(timeout=max(0.0, deadline - time.monotonic()))
    except FutureTimeout:
        st.session_state.setdefault(PENDING, []).append(key)
        return Outcome(pending=True)
    except Exception as e:  # noqa: BLE001 - a crashed worker is a message
        answer = ("error", f"the computation stopped ({type(e).__name__}: {e})", 0.0)
    got = _from_worker(answer)
    jobs.store(key, got)
    return got


def _has_ranges(scenario: Scenario) -> bool:
    """True when some estimate is a low/likely/high range (then results carry probabilities)."""
    fn = _resolve("optimizer.searches.sampling", "has_ranges")
    return not isinstance(fn, str) and bool(fn(scenario))


def improve(
    scenario: Scenario, objective: str = "maxmin", top: int = 1, min_diff: int = 1
) -> Outcome:
    """The best Pareto-improving packages (``optimizer.searches.improve.improve``), cached.

    With estimate ranges in the scenario each package also carries its win-win probability
    (``optimizer.searches.uncertainty.annotated_improve``, 10,000 seeded samples)."""
    base = _resolve("optimizer.searches.improve", "improve")
    if isinstance(base, str):
        return Outcome(missing=base)
    return engine_call(
        "optimizer.searches.uncertainty" if _has_ranges(scenario) else "optimizer.searches.improve",
        "annotated_improve" if _has_ranges(scenario) else "improve",
        scenario,
        objective=objective,
        top=int(top),
        min_diff=int(min_diff),
    )


#: The Trade-off map's frontier stops after this long and shows what it found, labelled (a heavy
#: scenario must not hold the server: issue 15).
FRONTIER_SECONDS = 30.0


def frontier(scenario: Scenario, parties: list[str] | None = None) -> Outcome:
    """The Pareto frontier (``optimizer.searches.frontier.frontier``), cached; with win-win probabilities
    when the scenario has estimate ranges (``optimizer.searches.uncertainty.annotated_frontier``)."""
    base = _resolve("optimizer.searches.frontier", "frontier")
    if isinstance(base, str):
        return Outcome(missing=base)
    return engine_call(
        "optimizer.searches.uncertainty"
        if _has_ranges(scenario)
        else "optimizer.searches.frontier",
        "annotated_frontier" if _has_ranges(scenario) else "frontier",
        scenario,
        parties=list(parties) if parties else None,
        time_limit=FRONTIER_SECONDS,
    )


def summary(scenario: Scenario) -> Outcome:
    """The progress summary (``optimizer.reports.summary.progress_summary``), cached."""
    return engine_call("optimizer.reports.summary", "progress_summary", scenario)


def explain(
    scenario: Scenario, package: dict[str, Any], reference: dict[str, Any] | None = None
) -> Outcome:
    """The trade explanation of a package (``optimizer.reports.explain.explain_trade``), cached."""
    return engine_call(
        "optimizer.reports.explain", "explain_trade", scenario, package=package, reference=reference
    )


def show(outcome: Outcome, what: str = "the search", container: Any = st) -> Any:
    """Show an outcome's error (or "not available yet" note, or a spinner while it is being
    computed); returns its value or None."""
    if outcome.pending:
        container.info(
            f"Working out {what}… it appears here by itself in a moment; "
            "everything else on the page is ready to use.",
            icon=":material/progress_activity:",
        )
        return None
    if outcome.missing:
        container.info(
            f"{what[:1].upper()}{what[1:]} is not available in this installation yet: "
            f"{outcome.missing}",
            icon=":material/hourglass_empty:",
        )
        return None
    if outcome.error:
        error_box(outcome.error, container)
        return None
    return outcome.value


def require_scenario() -> Scenario:
    """The valid scenario, or (when the edits have errors) a message and ``st.stop()``."""
    s = get_scenario()
    if s is None:
        problems = get_problems()
        st.error(
            f"The scenario has {len(problems)} problem(s); fix them on the Scenario page "
            "(your entries are kept).",
            icon=":material/error:",
        )
        problems_box(problems)
        st.page_link("screens/scenario.py", label="Go to the Scenario page", icon=":material/edit:")
        st.stop()
    return s  # type: ignore[return-value]
