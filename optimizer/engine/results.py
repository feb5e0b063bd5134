"""Result models: what the searches return (plain objects that serialise to the CLI's JSON).

The JSON of ``improve`` and ``frontier`` is a public contract (docs/design.md):
``{"parties": [...], "exact": bool, "packages": [{"package": {...}, "utilities": {...}, ...}]}``
with issue and option names exactly as in the scenario and integral numbers printed as integers.
Extra keys are welcome; those may not change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from optimizer.scenario.models import number_out, numbers_out, value_out

if TYPE_CHECKING:
    import numpy as np

    from optimizer.scenario.models import Scenario


class Termination(StrEnum):
    """How a solve ended (as linopy's termination conditions)."""

    optimal = "optimal"
    infeasible = "infeasible"
    time_limit = "time_limit"
    unbounded = "unbounded"
    not_solved = "not_solved"
    error = "error"


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


Change = Literal["kept", "changed", "reopened", "set"]
"""Per issue, versus the reference: ``kept`` (same value), ``changed`` (an open issue moved),
``reopened`` (a provisional issue moved), ``set`` (no value was on the table)."""


class IssueChange(_Result):
    """What a package does to one issue compared with the deal on the table (frozen: one entry
    is shared by every package of a result that sets the issue to the same value)."""

    model_config = ConfigDict(extra="forbid", defer_build=True, frozen=True)

    issue: str
    status: Literal["open", "provisional", "agreed"]
    reference: str | int | float | None = Field(description="Value on the table (None: none).")
    value: str | int | float = Field(description="The package's value.")
    change: Change


class PackageResult(_Result):
    """One package with each party's utility and gain and what it changes."""

    package: dict[str, str | int | float]
    utilities: dict[str, float]
    gains: dict[str, float] | None = Field(
        default=None, description="Utility minus the reference utility, per party."
    )
    changes: list[IssueChange] = []
    reopened: list[str] = Field(default=[], description="Provisional issues this package reopens.")
    concepts: list[str] = Field(
        default=[],
        description="Solution concepts this package is: utilitarian, egalitarian, nash, "
        "kalai_smorodinsky.",
    )
    objective: float | None = Field(default=None, description="Objective value, when ranked.")
    ranked_by: Literal["maxmin", "welfare", "nash"] | None = Field(
        default=None,
        description="The rule that ranked this package (improve): maxmin, welfare or nash; with "
        "objective nash, packages leaving some party at zero gain come after those improving "
        "every party and are ranked by welfare (their objective is then the total gain).",
    )
    p_win_win: float | None = Field(
        default=None, description="Probability (over the estimate ranges) that it is win-win."
    )
    acceptance: dict[str, float] | None = Field(
        default=None, description="Per party: probability the package clears its walk-away."
    )
    gains_money: dict[str, float | None] | None = Field(
        default=None,
        description="Per party: its gain as an amount of the money issue (optimizer.engine.money).",
    )
    gains_money_outside: list[str] | None = Field(
        default=None,
        description="Parties whose gain is worth more than the money issue's whole range.",
    )
    extra: dict[str, Any] = Field(default={}, description="Further per-package details.")

    def to_json_dict(self) -> dict[str, Any]:
        d = self.model_dump(mode="json", exclude_none=True)
        d["package"] = {k: value_out(v) for k, v in self.package.items()}
        if not d.get("extra"):
            d.pop("extra", None)
        return numbers_out(d)


class SolveStatus(_Result):
    """How the searches behind a result ended."""

    termination: Termination = Termination.optimal
    solver: str = ""
    message: str = ""
    solves: int = Field(default=0, description="How many MILP solves were run.")
    seconds: float = 0.0


#: Stands for the package list while the rest of a result is indented (see ``to_json``).
_PLACEHOLDER = "\x00packages\x00"


class _SearchResult(_Result):
    """What improve and frontier results share: the JSON contract (subclasses declare
    ``packages``, ``status`` and ``reference``)."""

    def to_json_dict(self) -> dict[str, Any]:
        """The docs/design.md JSON (plus extra keys): names as written, integers as integers."""
        d = self.model_dump(mode="json", exclude_none=True)
        d["packages"] = [p.to_json_dict() for p in self.packages]
        d["status"] = self.status.termination.value
        d["solver"] = self.status.solver
        # Why a result is not exact (time limit, cap...), one note per reason (issue 15).
        d["notes"] = [n for n in self.status.message.split("; ") if n]
        if self.reference is not None:
            d["reference"] = {k: value_out(v) for k, v in self.reference.items()}
        return numbers_out(d)

    def to_json(self, indent: int | None = 2) -> str:
        """The JSON text; with ``indent``, one package per line (json's indenting encoder is pure
        Python and took seconds on frontiers of thousands of packages)."""
        d = self.to_json_dict()
        if indent is None:
            return json.dumps(d, ensure_ascii=False)
        packages = d["packages"]
        d["packages"] = _PLACEHOLDER
        text = json.dumps(d, indent=indent, ensure_ascii=False)
        pad = " " * (2 * indent)
        rows = ",\n".join(pad + json.dumps(p, ensure_ascii=False) for p in packages)
        listed = "[\n" + rows + "\n" + " " * indent + "]" if packages else "[]"
        return text.replace(json.dumps(_PLACEHOLDER), listed, 1)


class ImproveResult(_SearchResult):
    """The best Pareto-improving packages over the reference deal, best first."""

    scenario: str
    parties: list[str]
    objective: str
    reference: dict[str, str | int | float] | None = Field(
        description="The deal on the table; None means no deal (walk-away points are the base)."
    )
    reference_utilities: dict[str, float] = Field(
        description="Each party's utility of the reference (or its reservation value / 0)."
    )
    packages: list[PackageResult] = []
    exact: bool = True
    status: SolveStatus = Field(default_factory=SolveStatus)
    explanation: str | None = Field(
        default=None, description="Why no (or fewer) Pareto-improving packages exist."
    )
    nash_method: str | None = Field(
        default=None, description="How the Nash product was optimised (exact / bound)."
    )
    money_issue: str | None = Field(
        default=None, description="The issue the gains_money amounts are in (None: no money issue)."
    )
    money_unit: str | None = None
    method: str | None = Field(
        default=None, description="How a robust search was solved: enumeration, candidates, milp."
    )
    exact_over: str | None = Field(
        default=None, description="The packages over which a robust search's answer is exact."
    )
    ranking: list[str] = Field(
        default=[],
        description="The rules that ranked the packages, in order (each package's ranked_by): "
        "['maxmin'], ['welfare'], ['nash'], ['nash', 'welfare'] or ['welfare'] for objective nash.",
    )


class FrontierResult(_SearchResult):
    """The Pareto frontier: every distinct non-dominated utility vector (one package each)."""

    scenario: str
    parties: list[str]
    packages: list[PackageResult] = []
    exact: bool = True
    method: str = Field(default="", description="fast_path, epsilon_constraint, enumeration...")
    status: SolveStatus = Field(default_factory=SolveStatus)
    reference: dict[str, str | int | float] | None = None
    reference_utilities: dict[str, float] = {}
    reservation: dict[str, float | None] = {}
    concepts: dict[str, int] = Field(
        default={}, description="Solution concept -> index into packages."
    )
    concepts_exact: bool = Field(
        default=True,
        description="False when the frontier is not exact: each concept is then the best of the "
        "points found, not necessarily the negotiation's concept point.",
    )
    explanation: str | None = None
    money_issue: str | None = None
    money_unit: str | None = None
    capped: bool = Field(
        default=False,
        description="True when the frontier had more points than asked for (max_points) and "
        "was thinned to that many, spread along it (then exact is false).",
    )

    def utility_matrix(self):
        """The frontier as an (n_points, n_parties) numpy array."""
        import numpy as np

        return np.array([[p.utilities[n] for n in self.parties] for p in self.packages])


def issue_changes(scenario: Scenario, index: Sequence[int] | np.ndarray) -> list[IssueChange]:
    """Per issue, what a package (grid positions) does to the value on the table:
    ``set`` (nothing was on the table), ``kept``, ``reopened`` (a provisional issue moved) or
    ``changed`` (an open issue moved). The entries are frozen and shared between the packages of
    one scenario (a frontier has thousands of packages but only issues x options entries)."""
    table = _change_table(scenario)
    out: list[IssueChange] = []
    for k, (issue, x) in enumerate(zip(scenario.issues, index, strict=True)):
        x = int(x)
        entry = table[k].get(x)
        if entry is None:
            entry = table[k][x] = _issue_change(issue, x)
        out.append(entry)
    return out


def _issue_change(issue: Any, x: int) -> IssueChange:
    if issue.value is None:
        change: Change = "set"
    elif issue.index_of(issue.value) == x:
        change = "kept"
    elif issue.status == "provisional":
        change = "reopened"
    else:
        change = "changed"
    return IssueChange(
        issue=issue.name,
        status=issue.status,
        reference=None if issue.value is None else value_out(issue.value),
        value=value_out(issue.value_at(x)),
        change=change,
    )


#: The last issue list's IssueChange entries, per issue by grid position, filled on first use
#: (see ``issue_changes``).
_CHANGE_TABLE: list[Any] = [None]


def _change_table(scenario: Scenario) -> list[dict[int, IssueChange]]:
    # keyed by what the entries are made of, so a scenario edited in place gets new ones
    key = tuple(
        (i.name, i.status, i.value, tuple(i.options or ()), i.min, i.max, i.step)
        for i in scenario.issues
    )
    cached = _CHANGE_TABLE[0]  # one (key, table) pair: read and replaced atomically (threads)
    if cached is not None and cached[0] == key:
        return cached[1]
    table: list[dict[int, IssueChange]] = [{} for _ in scenario.issues]
    _CHANGE_TABLE[0] = (key, table)
    return table


def package_result(
    scenario: Scenario,
    index: Sequence[int] | np.ndarray,
    utilities: Sequence[float] | np.ndarray,
    reference: Mapping[str, float] | Sequence[float] | np.ndarray,
    **fields: Any,
) -> PackageResult:
    """A PackageResult for grid positions: the package as named in the scenario, each party's
    utility and gain over ``reference`` (per party, by name or in party order), the per-issue
    changes and the reopened provisional issues. ``fields`` go to PackageResult as they are."""
    names = scenario.party_names
    ref = [reference[n] for n in names] if isinstance(reference, Mapping) else list(reference)
    changes = issue_changes(scenario, index)
    return PackageResult(
        package={k: value_out(v) for k, v in scenario.decode(index).items()},
        utilities={n: float(number_out(u)) for n, u in zip(names, utilities, strict=True)},
        gains={
            n: float(number_out(float(u) - float(r)))
            for n, u, r in zip(names, utilities, ref, strict=True)
        },
        changes=changes,
        reopened=[c.issue for c in changes if c.change == "reopened"],
        **fields,
    )
