"""Scenario models: the single source of truth for the scenario format.

A *scenario* holds the parties, the issues (each with a status and the value on the table), each
party's preferences, hard constraints and the negotiation history. Everything else (the numpy
evaluator, the PuLP model, the UI forms, the JSON Schema) is derived from these models.

How utilities are scaled (so that parties can be compared)
----------------------------------------------------------
* **Weights** are relative importances: any non-negative numbers, not all zero. They are divided by
  their sum, so only their ratios matter. An issue a party gives no weight counts 0 for it.
* **Categorical values** are non-negative scores on any ratio scale (0-10, 0-100, euros...). For each
  issue they are divided by the issue's largest score (the GENIUS/ANAC rule), so the best option is
  worth 1 and the others their share of it; when the largest score is below 1e-5 all count 0.
  An option a party gives no score counts 0.
* **Numeric value shapes** give a value in [0, 1] at every point of the range: ``increasing``
  (0 at min, 1 at max), ``decreasing``, ``peak`` (1 at ``peak``, falling linearly to 0 at the range
  ends) or ``piecewise`` (linear between given points, flat outside them; scores divided by their
  largest, as for categorical values).
* A party's **utility** of a package is ``utility_scale * sum(weight_share * value)`` plus the
  **synergy** bonuses (in utility points, negative for a penalty) of the option pairs it contains.
  With the default ``utility_scale`` of 100 every party's utility runs from 0 to 100 (before
  synergies), so "+5 for us, +12 for them" is meaningful.
* **Reservation values** and **aspirations** are on that same utility scale (or given as a package,
  whose utility then sets them).

Option names are text. A number written as an option (``options: [2000, 0.6]``) becomes its text
(``"2000"``, ``"0.6"``), and a number in a package or condition names the option that spells it;
numeric issues hold numbers, and integral values come out as ``5``, not ``5.0``.

Any estimated number about a party (a weight, an option score, a reservation value) may be given as
a range ``{low, likely, high}`` (or ``[low, likely, high]``) instead of one number; the point
estimate everywhere in the deterministic engine is ``likely``.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections import Counter
from dataclasses import dataclass
from dataclasses import field as _field
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

Status = Literal["open", "provisional", "agreed"]
STATUSES: tuple[str, ...] = ("open", "provisional", "agreed")

#: Tolerance under which two utilities are a tie (docs/design.md: differences below 1e-9 are ties).
TIE_TOL = 1e-9

Scalar = str | float
"""An option name (categorical issue) or a number (numeric issue)."""

# --------------------------------------------------------------------------------------------
# Numbers the solvers handle
# --------------------------------------------------------------------------------------------

#: Largest magnitude of a numeric issue's bounds and step, a cost, a budget limit or a walk-away
#: number. The MILP solvers work in doubles with tolerances near 1e-9 and treat 1e20 as infinite;
#: a budget row mixing 1e300 with 1 has no meaningful solution (HiGHS fails, CBC answers wrongly).
MAX_MAGNITUDE = 1e12

#: Largest utility_scale (and synergy bonus): utilities must stay well inside what the solvers
#: resolve to 1e-9 (tie tolerance) next to the scale.
MAX_UTILITY_SCALE = 1e6

#: Smallest utility_scale: below it ties (1e-9) swallow real differences.
MIN_UTILITY_SCALE = 1e-6


def _within(limit: float, what: str) -> Any:
    """An after-validator: the number's magnitude is at most ``limit`` (why, in the message)."""

    def check(x: float | None) -> float | None:
        if x is not None and abs(x) > limit:
            raise PydanticCustomError(
                "number_too_large",
                "{x} is out of range: {what} must be between -{limit} and {limit} (the solvers "
                "work in floating point to about 9 significant digits)",
                {"x": f"{x:g}", "what": what, "limit": f"{limit:g}"},
            )
        return x

    return AfterValidator(check)


def _scale_range(x: float | None) -> float | None:
    if x is not None and not MIN_UTILITY_SCALE <= x <= MAX_UTILITY_SCALE:
        raise PydanticCustomError(
            "utility_scale_range",
            "utility_scale {x} is outside {lo} to {hi}: utilities must stay well inside what the "
            "solvers resolve (ties are 1e-9 apart)",
            {"x": f"{x:g}", "lo": f"{MIN_UTILITY_SCALE:g}", "hi": f"{MAX_UTILITY_SCALE:g}"},
        )
    return x


Cost = Annotated[float, _within(MAX_MAGNITUDE, "a cost")]
"""A finite cost of at most ``MAX_MAGNITUDE`` in magnitude."""


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False, populate_by_name=True, defer_build=True
    )


# --------------------------------------------------------------------------------------------
# Estimates: a number or a low / likely / high range
# --------------------------------------------------------------------------------------------


class Range(_Model):
    """An uncertain estimate: ``low <= likely <= high``; the engine's point estimate is ``likely``."""

    low: Annotated[float, Field(description="Lowest plausible value.")]
    likely: Annotated[float, Field(description="Best guess; used as the point estimate.")]
    high: Annotated[float, Field(description="Highest plausible value.")]

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, data: Any) -> Any:
        if isinstance(data, list | tuple):
            if len(data) != 3:
                raise PydanticCustomError(
                    "range_list", "a range given as a list needs exactly [low, likely, high]"
                )
            return {"low": data[0], "likely": data[1], "high": data[2]}
        return data

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        """Files may also give a range as a list ``[low, likely, high]``."""
        obj = handler(core_schema)
        as_list = {
            "type": "array",
            "items": {"type": "number"},
            "minItems": 3,
            "maxItems": 3,
            "description": "[low, likely, high]",
        }
        return {"anyOf": [obj, as_list]}

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not (self.low <= self.likely <= self.high):
            raise PydanticCustomError(
                "range_order",
                "range must satisfy low <= likely <= high (got {low} / {likely} / {high})",
                {
                    "low": format_number(self.low),
                    "likely": format_number(self.likely),
                    "high": format_number(self.high),
                },
            )
        return self


def _estimate_kind(v: Any) -> str:
    if isinstance(v, dict | list | tuple | Range):
        return "range"
    return "number"


Estimate = Annotated[
    Annotated[float, Tag("number")] | Annotated[Range, Tag("range")],
    Discriminator(_estimate_kind),
]
"""A number, or a ``{low, likely, high}`` range."""


def point(value: float | Range | None) -> float | None:
    """The point estimate of a number or range (``likely`` for a range)."""
    if isinstance(value, Range):
        return value.likely
    return value


def is_uncertain(value: float | Range | None) -> bool:
    """True when the estimate is a range of positive width."""
    return isinstance(value, Range) and value.high > value.low


def _scalar_before(v: Any) -> Any:
    """Option names are strings; a number in an option list is kept as its text.

    Numbers read from a file carry the text the user wrote (``source``, see ``optimizer.scenario.files``), so
    ``2.50`` stays ``"2.50"``; numbers built in code become ``str(n)`` (``2000``, ``0.6``)."""
    if isinstance(v, bool):
        return v  # rejected later with a clear type message
    if isinstance(v, int | float):
        if isinstance(v, float) and not math.isfinite(v):
            return v
        source = getattr(v, "source", None)
        return source if isinstance(source, str) else str(v)
    if isinstance(v, _dt.date):
        return v.isoformat()
    return v


def _name_keys(d: Any) -> Any:
    """A mapping whose keys are names: numeric keys become their text (YAML ``{2000: 5}``)."""
    if isinstance(d, dict) and any(_is_name_like(k) for k in d):
        return {_scalar_before(k) if _is_name_like(k) else k: v for k, v in d.items()}
    return d


def _is_name_like(k: Any) -> bool:
    """A mapping key that is not text but reads as a name (a number or a date)."""
    return isinstance(k, int | float | _dt.date) and not isinstance(k, bool)


def _as_number(text: str) -> float | None:
    """The number an option name spells ("2000", "0.6"), or None."""
    try:
        x = float(text)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def format_number(x: float) -> str:
    """A number as a person writes it: ``number_out``'s value (the one output rounding), integers
    without ``.0``, others with at most 10 significant digits."""
    n = number_out(x)
    if isinstance(n, int):
        return str(n)
    return f"{n:.10g}"


def format_percent(p: float, decimals: int = 0) -> str:
    """A probability or share as a percentage ("87%"). Only exactly 1 and 0 print as 100% and
    0%: a value that would round to them says how close it is instead ("> 99%", "< 1%")."""
    x = 100.0 * float(p)
    unit = 10.0**-decimals
    text = f"{x:.{decimals}f}"
    if x < 100.0 and float(text) >= 100.0:
        return f"> {100 - unit:.{decimals}f}%"
    if x > 0.0 and float(text) <= 0.0:
        return f"< {unit:.{decimals}f}%"
    return f"{text}%"


def value_out(v: Any) -> Any:
    """An option name as written, or a number as JSON shows it (5, not 5.0)."""
    return number_out(v) if isinstance(v, int | float) and not isinstance(v, bool) else v


#: Significant digits every printed number keeps (JSON, text, pages, documents): enough for any
#: utility or value, and float noise such as ``47.00000000000001`` (sums of weighted scores)
#: disappears. The change is at most 5e-13 relative, far below the 1e-9 tie rule.
OUTPUT_DIGITS = 12


def number_out(x: float) -> int | float:
    """A number as every output shows it (the one output rounding): float noise dropped
    (``OUTPUT_DIGITS`` significant digits), ``5`` not ``5.0`` for integers, ``-0.0`` as 0;
    Python integers and non-finite floats unchanged."""
    if isinstance(x, int) and not isinstance(x, bool):
        return x
    f = float(x)
    if not math.isfinite(f):
        return f
    r = float(f"{f:.{OUTPUT_DIGITS}g}")
    return int(r) if r.is_integer() else r


def numbers_out(data: Any) -> Any:
    """``data`` (dicts, lists, tuples of JSON values) with every number as ``number_out`` gives
    it: apply to whatever is serialised, so every command prints the same numbers."""
    if isinstance(data, dict):
        return {k: numbers_out(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [numbers_out(v) for v in data]
    if isinstance(data, float):
        return number_out(data)
    return data


# --------------------------------------------------------------------------------------------
# Issues
# --------------------------------------------------------------------------------------------


def _clean_name(v: str) -> str:
    """A name that is not blank. (Files and forms are put in Unicode NFC before validation, by
    ``scenario.files.scenario_from_data``, so "café" typed two ways is one name.)"""
    if not v.strip():
        raise PydanticCustomError("blank_name", "a name cannot be blank (only spaces)")
    return v


NameCheck = AfterValidator(_clean_name)

OptionName = Annotated[str, Field(min_length=1), NameCheck]

OptionItem = Annotated[
    str,
    Field(min_length=1),
    NameCheck,
    WithJsonSchema({"anyOf": [{"type": "string", "minLength": 1}, {"type": "number"}]}),
]
"""An option name in a list; files may write it as a number (``2000``), kept as its text."""


class Issue(_Model):
    """A thing to agree on: categorical (``options``) or numeric (``min``/``max``/``step``)."""

    name: Annotated[str, Field(min_length=1, description="The issue's name, unique."), NameCheck]
    description: Annotated[str, Field(description="What the issue is about.")] = ""
    _positions: tuple[list[str], int, dict[str, int]] | None = PrivateAttr(default=None)
    options: Annotated[
        list[OptionItem] | None,
        Field(description="Categorical issue: the possible options, in display order."),
    ] = None
    min: Annotated[
        float | None,
        Field(description="Numeric issue: lowest value."),
        _within(MAX_MAGNITUDE, "a numeric issue's min"),
    ] = None
    max: Annotated[
        float | None,
        Field(description="Numeric issue: highest value."),
        _within(MAX_MAGNITUDE, "a numeric issue's max"),
    ] = None
    step: Annotated[
        float | None,
        Field(description="Numeric issue: grid step (default 1); divides max - min."),
        _within(MAX_MAGNITUDE, "a numeric issue's step"),
    ] = None
    unit: Annotated[str, Field(description="Numeric issue: unit shown to people.")] = ""
    status: Annotated[
        Status,
        Field(description="open, provisional (tentatively settled) or agreed (never reopened)."),
    ] = "open"
    value: Annotated[
        str | float | None,
        Field(
            description="The value currently on the table (option name or number); "
            "required for agreed and provisional issues."
        ),
    ] = None

    @model_validator(mode="before")
    @classmethod
    def _coerce(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if "name" in data:
                data["name"] = _scalar_before(data["name"])
            if isinstance(data.get("options"), list):
                data["options"] = [_scalar_before(o) for o in data["options"]]
                if "value" in data:
                    data["value"] = _scalar_before(data["value"])
        return data

    @field_validator("value")
    @classmethod
    def _finite(cls, v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError("value must be a finite number")
        return v

    @model_validator(mode="after")
    def _kind_rules(self) -> Issue:
        numeric_fields = [f for f in ("min", "max", "step") if getattr(self, f) is not None]
        if self.options is not None:
            if numeric_fields:
                raise PydanticCustomError(
                    "issue_kind",
                    "give either options (categorical) or min/max (numeric), not both "
                    "(found options and {fields})",
                    {"fields": ", ".join(numeric_fields)},
                )
            if not self.options:
                raise PydanticCustomError("issue_options", "a categorical issue needs options")
            dup = [o for o, c in Counter(self.options).items() if c > 1]
            if dup:
                raise PydanticCustomError(
                    "duplicate_option",
                    "option names must be unique; repeated: {dup}",
                    {"dup": ", ".join(repr(d) for d in dup)},
                )
            if self.value is not None and self.value not in self.options:
                raise PydanticCustomError(
                    "unknown_value",
                    "value {value} is not one of the options ({options})",
                    {"value": repr(self.value), "options": ", ".join(self.options)},
                )
        else:
            if self.min is None or self.max is None:
                raise PydanticCustomError(
                    "issue_kind",
                    "an issue needs either options (categorical) or both min and max (numeric)",
                )
            if self.min > self.max:
                raise PydanticCustomError(
                    "issue_range",
                    "min {lo} is above max {hi}",
                    {"lo": format_number(self.min), "hi": format_number(self.max)},
                )
            step = self.step if self.step is not None else 1.0
            if step <= 0:
                raise PydanticCustomError("issue_step", "step must be positive")
            span = (self.max - self.min) / step
            if abs(span - round(span)) > 1e-7 * max(1.0, abs(span)):
                raise PydanticCustomError(
                    "issue_step",
                    "step {step} does not divide the range {lo} to {hi}",
                    {
                        "step": format_number(step),
                        "lo": format_number(self.min),
                        "hi": format_number(self.max),
                    },
                )
            if round(span) + 1 > 1_000_000:
                raise PydanticCustomError(
                    "issue_grid",
                    "the range {lo} to {hi} in steps of {step} has more than 1,000,000 values; "
                    "use a larger step",
                    {
                        "step": format_number(step),
                        "lo": format_number(self.min),
                        "hi": format_number(self.max),
                    },
                )
            if isinstance(self.value, str):
                raise PydanticCustomError(
                    "value_type", "the value of a numeric issue must be a number, not text"
                )
            if self.value is not None and self.index_of(self.value) is None:
                raise PydanticCustomError(
                    "value_range",
                    "value {value} is not on the issue's grid ({lo} to {hi} in steps of {step})",
                    {
                        "value": format_number(self.value),
                        "step": format_number(step),
                        "lo": format_number(self.min),
                        "hi": format_number(self.max),
                    },
                )
        if self.status != "open" and self.value is None:
            raise PydanticCustomError(
                "status_value",
                "{article} {status} issue must carry the value on the table (set value)",
                {"status": self.status, "article": "an" if self.status == "agreed" else "a"},
            )
        return self

    # -- derived ------------------------------------------------------------------------------

    @property
    def kind(self) -> Literal["categorical", "numeric"]:
        """``categorical`` (options) or ``numeric`` (a range with a step)."""
        return "categorical" if self.options is not None else "numeric"

    @property
    def is_numeric(self) -> bool:
        return self.options is None

    @property
    def step_size(self) -> float:
        return self.step if self.step is not None else 1.0

    @property
    def size(self) -> int:
        """How many values the issue can take."""
        if self.options is not None:
            return len(self.options)
        return int(round((self.max - self.min) / self.step_size)) + 1  # type: ignore[operator]

    def grid(self) -> np.ndarray:
        """Numeric issue: every value of the range, as floats (exact multiples of the step)."""
        if self.options is not None:
            raise TypeError(f"issue {self.name!r} is categorical")
        return self.min + self.step_size * np.arange(self.size, dtype=float)  # type: ignore[operator]

    def value_at(self, index: int) -> str | float:
        """The option name or number at a position of the issue's grid."""
        if self.options is not None:
            return self.options[index]
        x = self.min + self.step_size * index  # type: ignore[operator]
        return float(round(x, 9)) if abs(x - round(x, 9)) < 1e-9 else x

    def option_positions(self) -> dict[str, int]:
        """Categorical issue: each option's position (first one if repeated), cached so that
        lookups stay linear in the number of options (a list search made validation quadratic).
        The cache follows the ``options`` list: replacing or resizing it rebuilds the table."""
        opts = self.options or []
        cached = self._positions
        if cached is None or cached[0] is not opts or cached[1] != len(opts):
            table: dict[str, int] = {}
            for k, o in enumerate(opts):
                table.setdefault(o, k)
            cached = (opts, len(opts), table)
            self._positions = cached
        return cached[2]

    def index_of(self, value: Any) -> int | None:
        """Position of an option name or number in the issue's grid; None when it is not on it."""
        if self.options is not None:
            key = _scalar_before(value)
            k = self.option_positions().get(key) if isinstance(key, str) else None
            if k is not None:
                return k
            if isinstance(value, int | float) and not isinstance(value, bool):
                # 2000.0 (a number in a package or condition) names the option "2000".
                hits = [k for k, o in enumerate(self.options) if _as_number(o) == float(value)]
                return hits[0] if len(hits) == 1 else None
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            try:
                value = float(value)
            except (TypeError, ValueError):
                return None
        if not math.isfinite(value):
            return None
        k = (value - self.min) / self.step_size  # type: ignore[operator]
        kr = round(k)
        if abs(k - kr) > 1e-7 * max(1.0, abs(k)) or kr < 0 or kr >= self.size:
            return None
        return int(kr)

    def display(self, value: Any) -> str:
        """A value of this issue as text for people (unit included)."""
        if value is None:
            return "-"
        if self.options is not None:
            return str(value)
        text = format_number(float(value))
        return f"{text} {self.unit}".strip()


# --------------------------------------------------------------------------------------------
# Preferences
# --------------------------------------------------------------------------------------------


class ValueShape(_Model):
    """How much a party likes each point of a numeric issue's range (a value in [0, 1])."""

    shape: Annotated[
        Literal["increasing", "decreasing", "peak", "piecewise"],
        Field(description="increasing, decreasing, peak (needs peak) or piecewise (needs points)."),
    ]
    peak: Annotated[float | None, Field(description="shape=peak: the best value.")] = None
    points: Annotated[
        list[tuple[float, float]] | None,
        Field(description="shape=piecewise: [value, score] points, linear in between."),
    ] = None

    @model_validator(mode="after")
    def _shape_rules(self) -> ValueShape:
        if self.shape == "peak" and self.peak is None:
            raise PydanticCustomError("shape_peak", "shape 'peak' needs a peak value")
        if self.shape != "peak" and self.peak is not None:
            raise PydanticCustomError("shape_peak", "peak is only used with shape 'peak'")
        if self.shape == "piecewise":
            if not self.points or len(self.points) < 2:
                raise PydanticCustomError(
                    "shape_points", "shape 'piecewise' needs at least two [value, score] points"
                )
            xs = [p[0] for p in self.points]
            if any(b <= a for a, b in zip(xs, xs[1:], strict=False)):
                raise PydanticCustomError(
                    "shape_points", "piecewise points must have strictly increasing values"
                )
            if any(p[1] < 0 for p in self.points):
                raise PydanticCustomError("shape_points", "piecewise scores must be >= 0")
        elif self.points is not None:
            raise PydanticCustomError("shape_points", "points are only used with shape 'piecewise'")
        return self

    def evaluate(self, x: np.ndarray, lo: float, hi: float) -> np.ndarray:
        """Values in [0, 1] of the points ``x`` of a range ``lo``..``hi``."""
        x = np.asarray(x, dtype=float)
        width = hi - lo
        if self.shape == "increasing":
            return (x - lo) / width if width > 0 else np.ones_like(x)
        if self.shape == "decreasing":
            return (hi - x) / width if width > 0 else np.ones_like(x)
        if self.shape == "peak":
            p = float(self.peak)  # type: ignore[arg-type]
            up = np.where(p > lo, (x - lo) / (p - lo if p > lo else 1.0), 1.0)
            down = np.where(hi > p, (hi - x) / (hi - p if hi > p else 1.0), 1.0)
            return np.clip(np.where(x <= p, up, down), 0.0, 1.0)
        pts = np.asarray(self.points, dtype=float)
        top = pts[:, 1].max()
        ys = pts[:, 1] / top if top >= 1e-5 else np.zeros(len(pts))
        return np.interp(x, pts[:, 0], ys)


def _values_kind(v: Any) -> str:
    if isinstance(v, ValueShape) or (isinstance(v, dict) and "shape" in v):
        return "shape"
    return "options"


OptionScores = dict[OptionName, Estimate]
ValueSpec = Annotated[
    Annotated[OptionScores, Tag("options")] | Annotated[ValueShape, Tag("shape")],
    Discriminator(_values_kind),
]


class Synergy(_Model):
    """A bonus (or, negative, a penalty) in utility points when two options are chosen together."""

    when: Annotated[
        dict[str, str | float],
        Field(description="Exactly two issue: option pairs that must both be chosen."),
    ]
    bonus: Annotated[
        float,
        Field(description="Utility points added (negative: a penalty)."),
        _within(MAX_UTILITY_SCALE, "a synergy bonus"),
    ]
    description: str = ""

    @field_validator("when", mode="before")
    @classmethod
    def _when_names(cls, v: Any) -> Any:
        return _name_keys(v)

    @field_validator("when")
    @classmethod
    def _two(cls, v: dict[str, Any]) -> dict[str, Any]:
        if len(v) != 2:
            raise ValueError("a synergy names exactly two issues (issue: option pairs)")
        return v


class Preferences(_Model):
    """A party's (estimated) interests: issue weights, option values, synergies."""

    weights: Annotated[
        dict[str, Estimate],
        Field(description="Issue name -> relative importance (non-negative; divided by the sum)."),
    ]
    values: Annotated[
        dict[str, ValueSpec],
        Field(description="Issue name -> option scores (categorical) or a value shape (numeric)."),
    ] = {}
    synergies: Annotated[list[Synergy], Field(description="Pairwise bonuses/penalties.")] = []

    @model_validator(mode="before")
    @classmethod
    def _names(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if "weights" in data:
                data["weights"] = _name_keys(data["weights"])
            if isinstance(data.get("values"), dict):
                data["values"] = {k: _name_keys(v) for k, v in _name_keys(data["values"]).items()}
        return data


PackageDict = dict[str, str | float]


# --------------------------------------------------------------------------------------------
# Preference statements (evidence the estimator fits weights and values to)
# --------------------------------------------------------------------------------------------


class PreferStatement(_Model):
    """The party would rather have ``prefers`` than ``over``: partial packages, where issues not
    named are the same in both."""

    prefers: Annotated[PackageDict, Field(min_length=1, description="The preferred terms.")]
    over: Annotated[PackageDict, Field(min_length=1, description="The terms it is preferred to.")]
    note: str = ""

    @field_validator("prefers", "over", mode="before")
    @classmethod
    def _names(cls, v: Any) -> Any:
        return _name_keys(v)


class EqualStatement(_Model):
    """The party finds two partial packages about equally good."""

    equal: Annotated[
        list[PackageDict],
        Field(min_length=2, max_length=2, description="Two partial packages, about as good."),
    ]
    note: str = ""

    @field_validator("equal", mode="before")
    @classmethod
    def _names(cls, v: Any) -> Any:
        return [_name_keys(x) for x in v] if isinstance(v, list) else v


class OrderStatement(_Model):
    """An issue's options (or values) in the party's order of preference, best first."""

    issue: Annotated[str, Field(min_length=1, description="The issue.")]
    order: Annotated[
        list[str | float],
        Field(min_length=2, description="Options or values, best first."),
    ]
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _coerce(cls, data: Any) -> Any:
        if isinstance(data, dict) and "issue" in data:
            data = dict(data)
            data["issue"] = _scalar_before(data["issue"])
        return data


class SwingStatement(_Model):
    """Moving ``swing`` from its worst to its best matters about ``times`` as much as moving
    ``than`` from its worst to its best (a ratio of weights)."""

    swing: Annotated[str, Field(min_length=1, description="The issue whose swing is compared.")]
    times: Annotated[float, Field(gt=0, description="About how many times as much it matters.")]
    than: Annotated[str, Field(min_length=1, description="The issue it is compared with.")]
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _coerce(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for k in ("swing", "than"):
                if k in data:
                    data[k] = _scalar_before(data[k])
        return data


def _statement_kind(v: Any) -> str:
    if isinstance(v, BaseModel):
        return {
            PreferStatement: "prefers",
            EqualStatement: "equal",
            OrderStatement: "order",
            SwingStatement: "swing",
        }.get(type(v), "prefers")
    if isinstance(v, dict):
        for key in ("equal", "order", "swing"):
            if key in v:
                return key
    return "prefers"


Statement = Annotated[
    Annotated[PreferStatement, Tag("prefers")]
    | Annotated[EqualStatement, Tag("equal")]
    | Annotated[OrderStatement, Tag("order")]
    | Annotated[SwingStatement, Tag("swing")],
    Discriminator(_statement_kind),
]
"""One piece of evidence about a party's preferences (see the four statement kinds)."""


class PackageRef(_Model):
    """A utility level given as the utility of a package (e.g. "the offer we already hold")."""

    package: Annotated[PackageDict, Field(description="One option or number for every issue.")]

    @field_validator("package", mode="before")
    @classmethod
    def _names(cls, v: Any) -> Any:
        return _name_keys(v)


def _level_kind(v: Any) -> str:
    if isinstance(v, PackageRef) or (isinstance(v, dict) and "package" in v):
        return "package"
    if isinstance(v, dict | list | tuple | Range):
        return "range"
    return "number"


UtilityLevel = Annotated[
    Annotated[float, Tag("number")]
    | Annotated[Range, Tag("range")]
    | Annotated[PackageRef, Tag("package")],
    Discriminator(_level_kind),
]


class Party(_Model):
    """A side of the table, with its (estimated) preferences and walk-away point."""

    name: Annotated[str, Field(min_length=1, description="The party's name, unique."), NameCheck]
    description: str = ""
    preferences: Preferences

    reservation_value: Annotated[
        UtilityLevel | None,
        Field(
            description="Walk-away point (BATNA) on the utility scale, or a package whose utility "
            "sets it; a package below it is worse than no deal."
        ),
    ] = None
    aspiration: Annotated[
        UtilityLevel | None,
        Field(description="What the party hopes for (framing only, not a hard limit)."),
    ] = None
    statements: Annotated[
        list[Statement],
        Field(
            description="What the party said it prefers: {prefers, over} or {equal: [A, B]} "
            "partial packages, {issue, order} (best first), {swing, times, than}; the "
            "estimator (dealopt estimate) fits weights and values to them."
        ),
    ] = []
    utility_scale: Annotated[
        float | None,
        Field(
            gt=0,
            description="This party's utility multiplier instead of the scenario's utility_scale "
            "(e.g. a GENIUS profile whose weights sum to 0.9, kept exact); default: the scenario's.",
        ),
        AfterValidator(_scale_range),
    ] = None

    @field_validator("name", mode="before")
    @classmethod
    def _name_text(cls, v: Any) -> Any:
        return _scalar_before(v)


# --------------------------------------------------------------------------------------------
# Constraints
# --------------------------------------------------------------------------------------------


class Interval(_Model):
    """A numeric interval ``min``..``max`` (either end optional) used in conditions."""

    min: float | None = None
    max: float | None = None


ConditionValue = Annotated[
    str | float | list[str | float] | Interval,
    Field(description="An option/number, a list of them (any of), or {min, max} (numeric)."),
]


@dataclass(frozen=True)
class Lowered:
    """A constraint in the one form every consumer reads (MILP rows, numpy checks, fast path).

    ``clauses``: each clause is a tuple of ``(issue name, grid positions)`` parts and forbids the
    package in which every part holds at once (each issue at one of its positions). ``costs``
    (with ``limit``): per-issue cost tables over the grid whose sum may not exceed ``limit``
    (``limit`` already includes the tie tolerance). A kind of constraint is defined by its model
    class here and its ``lower``; the MILP (``engine.milp``), the numpy feasibility check and the
    fast path only ever read this form.
    """

    clauses: tuple[tuple[tuple[str, np.ndarray], ...], ...] = ()
    costs: tuple[tuple[str, np.ndarray], ...] = ()
    limit: float | None = None

    def holds(self, index: np.ndarray, issue_names: list[str]) -> np.ndarray:
        """Which packages (grid positions, shape ``(n, n_issues)``) satisfy the constraint."""
        index = np.asarray(index, dtype=np.int64).reshape(-1, len(issue_names))
        ok = np.ones(len(index), dtype=bool)
        for clause in self.clauses:
            fires = np.ones(len(index), dtype=bool)
            for issue, positions in clause:
                fires &= np.isin(index[:, issue_names.index(issue)], positions)
            ok &= ~fires
        if self.limit is not None:
            total = np.zeros(len(index))
            for issue, table in self.costs:
                total += table[index[:, issue_names.index(issue)]]
            ok &= total <= self.limit
        return ok


def _complement(size: int, positions: np.ndarray) -> np.ndarray:
    keep = np.ones(size, dtype=bool)
    keep[positions] = False
    return np.flatnonzero(keep)


class _ConstraintBase(_Model):
    name: Annotated[
        str | None, Field(description="A short name used in explanations (optional).")
    ] = None
    party: Annotated[str | None, Field(description="The party whose limit this is (optional).")] = (
        None
    )
    description: str = ""


class AcceptableConstraint(_ConstraintBase):
    """A party's acceptable option set or range on one issue."""

    type: Literal["acceptable"] = "acceptable"
    issue: str
    options: Annotated[
        list[OptionItem] | None, Field(description="Categorical: the acceptable options.")
    ] = None
    min: Annotated[float | None, Field(description="Numeric: lowest acceptable value.")] = None
    max: Annotated[float | None, Field(description="Numeric: highest acceptable value.")] = None

    @model_validator(mode="before")
    @classmethod
    def _coerce(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if isinstance(data.get("options"), list):
                data["options"] = [_scalar_before(o) for o in data["options"]]
            if "issue" in data:
                data["issue"] = _scalar_before(data["issue"])
        return data

    @model_validator(mode="after")
    def _some_limit(self) -> AcceptableConstraint:
        if self.options is None and self.min is None and self.max is None:
            raise PydanticCustomError(
                "acceptable_empty", "an acceptable constraint needs options, min or max"
            )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise PydanticCustomError(
                "acceptable_range",
                "min {lo} is above max {hi}",
                {"lo": format_number(self.min), "hi": format_number(self.max)},
            )
        if self.options is not None and not self.options:
            raise PydanticCustomError(
                "acceptable_empty", "an empty list of acceptable options allows no deal at all"
            )
        return self

    @property
    def issue_names(self) -> list[str]:
        """The issues this constraint mentions."""
        return [self.issue]

    def positions(self, scenario: Scenario) -> np.ndarray:
        """The grid positions of the issue this constraint accepts."""
        if scenario.issue(self.issue).is_numeric:
            return scenario.condition_indices(self.issue, Interval(min=self.min, max=self.max))
        return scenario.condition_indices(self.issue, list(self.options or []))

    def lower(self, scenario: Scenario) -> Lowered:
        """Any position outside the accepted ones is forbidden."""
        rest = _complement(scenario.issue(self.issue).size, self.positions(scenario))
        return Lowered(clauses=(((self.issue, rest),),))


class ForbiddenConstraint(_ConstraintBase):
    """A combination that cannot go together (all conditions true at once is not allowed)."""

    type: Literal["forbidden"] = "forbidden"
    combination: Annotated[
        dict[str, ConditionValue],
        Field(min_length=1, description="issue -> condition; together they are forbidden."),
    ]

    @field_validator("combination", mode="before")
    @classmethod
    def _names(cls, v: Any) -> Any:
        return _name_keys(v)

    @property
    def issue_names(self) -> list[str]:
        """The issues this constraint mentions."""
        return list(self.combination)

    def lower(self, scenario: Scenario) -> Lowered:
        """One clause: the whole combination."""
        parts = tuple((k, scenario.condition_indices(k, v)) for k, v in self.combination.items())
        return Lowered(clauses=(parts,))


class ImpliesConstraint(_ConstraintBase):
    """If every ``when`` condition holds then every ``then`` condition must hold."""

    type: Literal["implies"] = "implies"
    when: Annotated[dict[str, ConditionValue], Field(min_length=1)]
    then: Annotated[dict[str, ConditionValue], Field(min_length=1)]

    @field_validator("when", "then", mode="before")
    @classmethod
    def _names(cls, v: Any) -> Any:
        return _name_keys(v)

    @property
    def issue_names(self) -> list[str]:
        """The issues this constraint mentions."""
        return list(dict.fromkeys([*self.when, *self.then]))

    def lower(self, scenario: Scenario) -> Lowered:
        """``when => then`` is, per ``then`` condition, "not (when and not that condition)"."""
        when = tuple((k, scenario.condition_indices(k, v)) for k, v in self.when.items())
        clauses = []
        for k, v in self.then.items():
            rest = _complement(scenario.issue(k).size, scenario.condition_indices(k, v))
            clauses.append((*when, (k, rest)))
        return Lowered(clauses=tuple(clauses))


class LinearCost(_Model):
    """Cost of a numeric issue: ``base + per_unit * value``."""

    per_unit: Cost
    base: Cost = 0.0


def _cost_kind(v: Any) -> str:
    if isinstance(v, LinearCost) or (isinstance(v, dict) and "per_unit" in v):
        return "linear"
    return "options"


CostSpec = Annotated[
    Annotated[dict[str, Cost], Tag("options")] | Annotated[LinearCost, Tag("linear")],
    Discriminator(_cost_kind),
]


class BudgetConstraint(_ConstraintBase):
    """A cost per option, summed over issues, must stay within ``limit``."""

    type: Literal["budget"] = "budget"
    costs: Annotated[
        dict[str, CostSpec],
        Field(
            min_length=1,
            description="issue -> {option: cost} (categorical) or {per_unit, base} (numeric).",
        ),
    ]
    limit: Annotated[
        float,
        Field(description="The total cost may not exceed this."),
        _within(MAX_MAGNITUDE, "a budget limit"),
    ]
    unit: Annotated[str, Field(description="Currency or unit of the costs.")] = ""

    @field_validator("costs", mode="before")
    @classmethod
    def _names(cls, v: Any) -> Any:
        v = _name_keys(v)
        if isinstance(v, dict):
            return {k: _name_keys(c) for k, c in v.items()}
        return v

    @property
    def issue_names(self) -> list[str]:
        """The issues this constraint mentions."""
        return list(self.costs)

    def cost_table(self, scenario: Scenario, issue_name: str) -> np.ndarray:
        """The cost of every grid position of one issue."""
        issue = scenario.issue(issue_name)
        spec = self.costs[issue_name]
        if isinstance(spec, LinearCost):
            return spec.base + spec.per_unit * issue.grid()
        return np.array([float(spec.get(o, 0.0)) for o in issue.options], dtype=float)

    def lower(self, scenario: Scenario) -> Lowered:
        """The costs summed over issues, within the limit up to the tie tolerance."""
        costs = tuple((k, self.cost_table(scenario, k)) for k in self.costs)
        return Lowered(costs=costs, limit=self.limit + TIE_TOL * max(1.0, abs(self.limit)))


Constraint = Annotated[
    AcceptableConstraint | ForbiddenConstraint | ImpliesConstraint | BudgetConstraint,
    Field(discriminator="type"),
]


# --------------------------------------------------------------------------------------------
# Negotiation log
# --------------------------------------------------------------------------------------------


class Offer(_Model):
    """One offer or counter-offer in the negotiation log."""

    date: Annotated[_dt.date, Field(description="When the offer was made (YYYY-MM-DD).")]
    by: Annotated[str, Field(description="The party who made it.")]
    package: Annotated[
        PackageDict, Field(description="The terms offered (issue -> option or number).")
    ] = {}
    status_changes: Annotated[
        dict[str, Status], Field(description="issue -> new status this round brought.")
    ] = {}
    note: str = ""

    @field_validator("package", "status_changes", mode="before")
    @classmethod
    def _names(cls, v: Any) -> Any:
        return _name_keys(v)


# --------------------------------------------------------------------------------------------
# Problems (validation results)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One validation finding: where (in the user's words), what, and how serious."""

    location: str
    message: str
    severity: Literal["error", "warning"] = "error"
    code: str = _field(default="", compare=False)
    """A short machine-readable kind (``unknown_issue``, ``duplicate_name``...), or ""."""
    refers_to: str | None = _field(default=None, compare=False)
    """The unknown or repeated name the problem is about, when there is one."""

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message

    def to_dict(self) -> dict[str, str]:
        return {"location": self.location, "message": self.message, "severity": self.severity}


# --------------------------------------------------------------------------------------------
# Scenario
# --------------------------------------------------------------------------------------------


def _condition_indices(issue: Issue, cond: Any) -> tuple[np.ndarray | None, str | None]:
    """Grid positions of ``issue`` meeting a condition; (None, message) when it names nothing."""
    if isinstance(cond, Interval):
        if issue.options is not None:
            return None, "a {min, max} condition needs a numeric issue"
        g = issue.grid()
        mask = np.ones(len(g), dtype=bool)
        if cond.min is not None:
            mask &= g >= cond.min - TIE_TOL
        if cond.max is not None:
            mask &= g <= cond.max + TIE_TOL
        return np.flatnonzero(mask), None
    items = cond if isinstance(cond, list) else [cond]
    idx = []
    for it in items:
        k = issue.index_of(it)
        if k is None:
            what = "option" if issue.options is not None else "value"
            shown = it if isinstance(it, str) else format_number(it)
            return None, f"{what} {shown!r} is not a possible value of issue {issue.name!r}"
        idx.append(k)
    return np.array(sorted(set(idx)), dtype=int), None


def _statement_packages(st: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The two partial packages a comparison statement names, or None for other statements."""
    if isinstance(st, PreferStatement):
        return st.prefers, st.over
    if isinstance(st, EqualStatement):
        return st.equal[0], st.equal[1]
    return None


def statement_text(st: Any, issues: dict[str, Issue] | None = None) -> str:
    """A statement in words ("prefers price 98, warranty 1 year over price 104, warranty 3 years")."""

    def show(pkg: dict[str, Any]) -> str:
        parts = []
        for k, v in pkg.items():
            issue = (issues or {}).get(k)
            shown = issue.display(v) if issue is not None else _display_plain(v)
            parts.append(f"{k} {shown}")
        return ", ".join(parts)

    if isinstance(st, PreferStatement):
        return f"prefers {show(st.prefers)} over {show(st.over)}"
    if isinstance(st, EqualStatement):
        return f"finds {show(st.equal[0])} about equal to {show(st.equal[1])}"
    if isinstance(st, OrderStatement):
        return f"ranks {st.issue}: " + " > ".join(_display_plain(v) for v in st.order)
    if isinstance(st, SwingStatement):
        return (
            f"{st.swing} (worst to best) matters about {format_number(st.times)} times as much "
            f"as {st.than}"
        )
    return str(st)


def _display_plain(v: Any) -> str:
    return v if isinstance(v, str) else format_number(float(v))


def _check_statements(party: Party, issues: dict[str, Issue], err: Any, warn: Any) -> None:
    """Names in a party's statements exist; no statement contradicts itself or an earlier one."""
    ploc = f'party "{party.name}" > statements'
    seen: dict[tuple[Any, Any], int] = {}
    for n, st in enumerate(party.statements, start=1):
        loc = f"{ploc} > {n}"
        pair = _statement_packages(st)
        if pair is not None:
            ok = True
            for side, pkg in zip(("first", "second"), pair, strict=True):
                label = (
                    side
                    if isinstance(st, EqualStatement)
                    else ("prefers" if side == "first" else "over")
                )
                for k, v in pkg.items():
                    if k not in issues:
                        err(f"{loc} > {label}", f"unknown issue {k!r}", "unknown_issue", k)
                        ok = False
                    elif issues[k].index_of(v) is None:
                        shown = _display_plain(v)
                        err(
                            f'{loc} > {label} > "{k}"',
                            f"{shown!r} is not a possible value of {k!r}"
                            + (
                                f" (options: {', '.join(issues[k].options)})"
                                if issues[k].options is not None
                                else ""
                            ),
                        )
                        ok = False
            if not ok:
                continue
            a, b = pair
            one_sided = sorted(set(a) ^ set(b))
            if one_sided:
                err(
                    loc,
                    f"{', '.join(map(repr, one_sided))} is named in only one of the two packages; "
                    "name an issue in both (or in neither: then it is the same in both)",
                )
                continue
            ka = tuple(sorted((k, issues[k].index_of(v)) for k, v in a.items()))
            kb = tuple(sorted((k, issues[k].index_of(v)) for k, v in b.items()))
            if ka == kb:
                if isinstance(st, PreferStatement):
                    err(
                        loc,
                        "the two packages are the same: a package cannot be preferred to itself",
                    )
                continue
            if isinstance(st, PreferStatement):
                if (kb, ka) in seen:
                    warn(
                        loc,
                        f"contradicts statement {seen[(kb, ka)]} (the same two packages the other "
                        "way round)",
                        "contradiction",
                    )
                seen.setdefault((ka, kb), n)
        elif isinstance(st, OrderStatement):
            if st.issue not in issues:
                err(f"{loc} > issue", f"unknown issue {st.issue!r}", "unknown_issue", st.issue)
                continue
            issue = issues[st.issue]
            idx = []
            for v in st.order:
                k = issue.index_of(v)
                if k is None:
                    err(
                        f"{loc} > order",
                        f"{_display_plain(v)!r} is not a possible value of {st.issue!r}"
                        + (
                            f" (options: {', '.join(issue.options)})"
                            if issue.options is not None
                            else ""
                        ),
                    )
                idx.append(k)
            dup = [v for v, c in Counter(i for i in idx if i is not None).items() if c > 1]
            if dup:
                err(
                    f"{loc} > order",
                    f"{', '.join(repr(_display_plain(issue.value_at(d))) for d in dup)} is listed "
                    "more than once: an order names each option once",
                )
        elif isinstance(st, SwingStatement):
            for fld in ("swing", "than"):
                name = getattr(st, fld)
                if name not in issues:
                    err(f"{loc} > {fld}", f"unknown issue {name!r}", "unknown_issue", name)
            if st.swing == st.than:
                err(loc, "a swing statement compares two different issues")


class Scenario(_Model):
    """Everything about one negotiation: parties, issues, preferences, constraints, history."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={"title": "Deal-structuring scenario"},
    )

    name: Annotated[str, Field(min_length=1, description="The negotiation's name.")]
    description: str = ""
    us: Annotated[
        str | None, Field(description="Which party is us (default: the first party).")
    ] = None
    utility_scale: Annotated[
        float,
        Field(gt=0, description="Utility of a party's best package (default 100)."),
        AfterValidator(_scale_range),
    ] = 100.0
    money_issue: Annotated[
        str | None,
        Field(
            description="The numeric issue whose unit is money, for gains shown as money "
            "(default: the most weighted numeric issue with a currency unit)."
        ),
    ] = None
    parties: Annotated[list[Party], Field(min_length=2, description="Two or more sides.")]
    issues: Annotated[list[Issue], Field(min_length=1, description="The things to agree on.")]
    constraints: Annotated[list[Constraint], Field(description="Hard rules.")] = []
    history: Annotated[list[Offer], Field(description="The negotiation log, oldest first.")] = []
    metadata: Annotated[
        dict[str, Any], Field(description="Free-form notes kept with the scenario (e.g. source).")
    ] = {}

    @model_validator(mode="after")
    def _cross_field(self) -> Scenario:
        problems = [p for p in self.check() if p.severity == "error"]
        if problems:
            raise PydanticCustomError(
                "scenario_rules",
                "{summary}",
                {
                    "summary": "; ".join(str(p) for p in problems),
                    "problems": [(p.location, p.message) for p in problems],
                },
            )
        return self

    # -- lookups ------------------------------------------------------------------------------

    @property
    def issue_names(self) -> list[str]:
        return [i.name for i in self.issues]

    @property
    def party_names(self) -> list[str]:
        return [p.name for p in self.parties]

    @property
    def us_name(self) -> str:
        """Our party's name (``us``, or the first party)."""
        return self.us if self.us is not None else self.parties[0].name

    def issue(self, name: str) -> Issue:
        for i in self.issues:
            if i.name == name:
                return i
        raise KeyError(f"no issue named {name!r}")

    def party(self, name: str) -> Party:
        for p in self.parties:
            if p.name == name:
                return p
        raise KeyError(f"no party named {name!r}")

    def issues_by_status(self) -> dict[str, list[Issue]]:
        out: dict[str, list[Issue]] = {s: [] for s in STATUSES}
        for i in self.issues:
            out[i.status].append(i)
        return out

    def summary_line(self) -> str:
        """One line: "4 issues, 2 parties, 2 agreed, 1 provisional, 1 open"."""
        by = self.issues_by_status()
        n_i, n_p = len(self.issues), len(self.parties)
        return (
            f"{n_i} issue{'s' if n_i != 1 else ''}, {n_p} parties, "
            f"{len(by['agreed'])} agreed, {len(by['provisional'])} provisional, "
            f"{len(by['open'])} open"
        )

    # -- packages -----------------------------------------------------------------------------

    def reference(self) -> dict[str, str | float] | None:
        """The deal on the table: every issue's value, or None ("no deal") if any is missing."""
        if any(i.value is None for i in self.issues):
            return None
        return {i.name: value_out(i.value) for i in self.issues}  # type: ignore[misc]

    def encode(self, package: dict[str, Any]) -> np.ndarray:
        """A package (issue -> option/number) as grid positions, one per issue."""
        from optimizer.errors import PackageError

        unknown = [k for k in package if k not in self.issue_names]
        if unknown:
            raise PackageError(f"package names unknown issue(s): {', '.join(map(repr, unknown))}")
        out = np.empty(len(self.issues), dtype=np.int64)
        for j, issue in enumerate(self.issues):
            if issue.name not in package:
                raise PackageError(f"package gives no value for issue {issue.name!r}")
            k = issue.index_of(package[issue.name])
            if k is None:
                raise PackageError(
                    f"{package[issue.name]!r} is not a possible value of issue {issue.name!r}"
                )
            out[j] = k
        return out

    def decode(self, index: np.ndarray | list[int]) -> dict[str, str | float]:
        """Grid positions back to a package (issue -> option name / number; 5 not 5.0)."""
        return {
            i.name: value_out(i.value_at(int(k))) for i, k in zip(self.issues, index, strict=True)
        }

    def utility(self, party: str, package: dict[str, Any]) -> float:
        """A party's utility of one package (on the scenario's utility scale)."""
        from optimizer.scenario.utility import UtilityTables

        tables = UtilityTables.build(self)
        return float(tables.evaluate(self.encode(package)[None, :])[0, tables.party_index(party)])

    def utilities(self, packages: np.ndarray | list[dict[str, Any]]) -> np.ndarray:
        """Every party's utility of many packages at once: an (n_packages, n_parties) array.

        ``packages`` is a list of package dicts or an integer array of grid positions
        (n_packages, n_issues)."""
        from optimizer.scenario.utility import UtilityTables

        if not isinstance(packages, np.ndarray):
            packages = np.array([self.encode(p) for p in packages], dtype=np.int64).reshape(
                -1, len(self.issues)
            )
        return UtilityTables.build(self).evaluate(packages)

    def reservation(self, party: str) -> float | None:
        """A party's walk-away utility (point estimate), or None when it has none."""
        return self._party_level(party, self.party(party).reservation_value)

    def aspiration_level(self, party: str) -> float | None:
        """A party's aspiration utility (point estimate), or None."""
        return self._party_level(party, self.party(party).aspiration)

    def _party_level(self, party: str, value: Any) -> float | None:
        if value is None:
            return None
        if isinstance(value, PackageRef):
            return self.utility(party, value.package)
        return point(value)

    # -- validation -----------------------------------------------------------------------------

    def condition_indices(self, issue: str, cond: Any) -> np.ndarray:
        """Grid positions of ``issue`` that meet a constraint condition."""
        idx, msg = _condition_indices(self.issue(issue), cond)
        if idx is None:
            raise ValueError(msg)
        return idx

    def check(self) -> list[Problem]:
        """Every cross-field problem (errors and warnings) with a location in the user's words."""
        probs: list[Problem] = []

        def err(loc: str, msg: str, code: str = "", ref: str | None = None) -> None:
            probs.append(Problem(loc, msg, "error", code, ref))

        def warn(loc: str, msg: str, code: str = "") -> None:
            probs.append(Problem(loc, msg, "warning", code))

        def unknown_issue(loc: str, name: str) -> None:
            err(loc, f"unknown issue {name!r}", "unknown_issue", name)

        def unknown_party(loc: str, name: str) -> None:
            err(loc, f"unknown party {name!r}", "unknown_party", name)

        issues: dict[str, Issue] = {}
        for i in self.issues:
            issues.setdefault(i.name, i)  # with a repeated name, the first one counts
        for what, names in (("issue", self.issue_names), ("party", self.party_names)):
            for n, c in Counter(names).items():
                if c > 1:
                    err(
                        f'{what} "{n}"',
                        f"the name {n!r} is used by {c} {'parties' if what == 'party' else 'issues'}; "
                        "names must be unique",
                        "duplicate_name",
                        n,
                    )
        pnames = set(self.party_names)
        if self.us is not None and self.us not in pnames:
            err(
                "us",
                f"{self.us!r} is not one of the parties ({', '.join(self.party_names)})",
                "unknown_party",
                self.us,
            )
        if self.money_issue is not None:
            known = {i.name: i for i in self.issues}
            if self.money_issue not in known:
                unknown_issue("money_issue", self.money_issue)
            elif not known[self.money_issue].is_numeric:
                err(
                    "money_issue",
                    f"{self.money_issue!r} is categorical; the money issue must be numeric "
                    "(a range with a unit)",
                    "money_issue_not_numeric",
                    self.money_issue,
                )

        def check_package(loc: str, pkg: dict[str, Any], complete: bool) -> None:
            for k, v in pkg.items():
                if k not in issues:
                    unknown_issue(loc, k)
                elif issues[k].index_of(v) is None:
                    shown = v if isinstance(v, str) else format_number(v)
                    err(f'{loc} > issue "{k}"', f"{shown!r} is not a possible value of {k!r}")
            if complete:
                missing = [n for n in issues if n not in pkg]
                if missing:
                    err(loc, f"the package gives no value for {', '.join(map(repr, missing))}")

        def check_condition(loc: str, cond: dict[str, Any]) -> None:
            for k, v in cond.items():
                if k not in issues:
                    unknown_issue(loc, k)
                    continue
                idx, msg = _condition_indices(issues[k], v)
                if idx is None:
                    err(f'{loc} > issue "{k}"', msg or "invalid condition")

        for p in self.parties:
            ploc = f'party "{p.name}"'
            prefs = p.preferences
            for k, w in prefs.weights.items():
                if k not in issues:
                    unknown_issue(f"{ploc} > weights", k)
                lo = w.low if isinstance(w, Range) else w
                if lo < 0:
                    err(f'{ploc} > weights > "{k}"', "weights must be non-negative")
            if all((point(w) or 0) <= 0 for w in prefs.weights.values()):
                err(
                    f"{ploc} > weights",
                    "at least one issue needs a positive weight",
                    "no_positive_weight",
                )
            for k, spec in prefs.values.items():
                vloc = f'{ploc} > values > "{k}"'
                if k not in issues:
                    unknown_issue(f"{ploc} > values", k)
                    continue
                issue = issues[k]
                if isinstance(spec, ValueShape):
                    if not issue.is_numeric:
                        err(vloc, f"{k!r} is categorical: give a score per option, not a shape")
                    elif spec.shape == "peak" and not (
                        issue.min <= spec.peak <= issue.max  # type: ignore[operator]
                    ):
                        err(
                            vloc,
                            f"peak {format_number(spec.peak)} is outside the issue's range "
                            f"({format_number(issue.min)} to {format_number(issue.max)})",
                        )
                else:
                    if issue.is_numeric:
                        err(
                            vloc,
                            f"{k!r} is numeric: give a shape (increasing, decreasing, peak, piecewise)",
                        )
                        continue
                    known = issue.option_positions()
                    for opt, s in spec.items():
                        if opt not in known:
                            err(
                                vloc,
                                f"unknown option {opt!r} (options: {', '.join(issue.options)})",
                            )  # type: ignore[arg-type]
                        lo = s.low if isinstance(s, Range) else s
                        if lo < 0:
                            err(f'{vloc} > "{opt}"', "option scores must be non-negative")
            for n, syn in enumerate(prefs.synergies):
                check_condition(f"{ploc} > synergy {n + 1}", syn.when)
            _check_statements(p, issues, err, warn)
            for field in ("reservation_value", "aspiration"):
                lvl = getattr(p, field)
                if isinstance(lvl, PackageRef):
                    check_package(f"{ploc} > {field}", lvl.package, complete=True)

        for n, c in enumerate(self.constraints):
            cloc = f'constraint "{c.name}"' if c.name else f"constraint {n + 1} ({c.type})"
            if c.party is not None and c.party not in pnames:
                unknown_party(f"{cloc} > party", c.party)
            if isinstance(c, AcceptableConstraint):
                if c.issue not in issues:
                    unknown_issue(f"{cloc} > issue", c.issue)
                    continue
                issue = issues[c.issue]
                if issue.is_numeric and c.options is not None:
                    err(cloc, f"{c.issue!r} is numeric: use min/max, not options")
                if not issue.is_numeric:
                    if c.min is not None or c.max is not None:
                        err(cloc, f"{c.issue!r} is categorical: use options, not min/max")
                    known = issue.option_positions()
                    for o in c.options or []:
                        if o not in known:
                            err(f"{cloc} > options", f"unknown option {o!r} of {c.issue!r}")
            elif isinstance(c, ForbiddenConstraint):
                check_condition(f"{cloc} > combination", c.combination)
            elif isinstance(c, ImpliesConstraint):
                check_condition(f"{cloc} > when", c.when)
                check_condition(f"{cloc} > then", c.then)
            elif isinstance(c, BudgetConstraint):
                for k, spec in c.costs.items():
                    if k not in issues:
                        unknown_issue(f"{cloc} > costs", k)
                        continue
                    issue = issues[k]
                    if isinstance(spec, LinearCost) and not issue.is_numeric:
                        err(
                            f'{cloc} > costs > "{k}"',
                            f"{k!r} is categorical: give a cost per option",
                        )
                    elif not isinstance(spec, LinearCost):
                        if issue.is_numeric:
                            err(
                                f'{cloc} > costs > "{k}"',
                                f"{k!r} is numeric: give per_unit (and base)",
                            )
                        else:
                            known = issue.option_positions()
                            for o in spec:
                                if o not in known:
                                    err(f'{cloc} > costs > "{k}"', f"unknown option {o!r}")

        for n, offer in enumerate(self.history):
            oloc = f"offer {n + 1} ({offer.date.isoformat()})"
            if offer.by not in pnames:
                unknown_party(f"{oloc} > by", offer.by)
            check_package(f"{oloc} > package", offer.package, complete=False)
            for k in offer.status_changes:
                if k not in issues:
                    unknown_issue(f"{oloc} > status_changes", k)

        if any(p.severity == "error" for p in probs):
            return probs

        # Warnings need a consistent scenario (utilities can be computed).
        from optimizer.scenario.utility import UtilityTables

        tables = UtilityTables.build(self)
        ref = self.reference()
        ref_u = tables.evaluate(self.encode(ref)[None, :])[0] if ref is not None else None
        allowed = self.reachable_masks()
        for j, p in enumerate(self.parties):
            best = sum(
                float(t[m].max()) if m.any() else 0.0
                for t, m in zip(tables.tables[j], allowed, strict=True)
            ) + sum(max(0.0, s.bonus) for s in tables.synergies if s.party == j)
            for fld, label in (
                ("reservation_value", "reservation value"),
                ("aspiration", "aspiration"),
            ):
                lvl = getattr(p, fld)
                if lvl is None:
                    continue
                val = self._party_level(p.name, lvl)
                if val is not None and val > best + TIE_TOL:
                    consequence = (
                        f"{p.name} would walk away from every deal"
                        if fld == "reservation_value"
                        else "it cannot be met"
                    )
                    warn(
                        f'party "{p.name}" > {fld}',
                        f"{label} {format_number(round(val, 6))} is above "
                        f"{format_number(round(best, 6))}, the most any reachable package can give "
                        f"{p.name}: {consequence}",
                        f"{fld}_unreachable",
                    )
            res = self.reservation(p.name)
            if ref_u is not None and res is not None and ref_u[j] < res - TIE_TOL:
                warn(
                    f'party "{p.name}" > reservation_value',
                    f"the deal on the table gives {p.name} {format_number(round(ref_u[j], 2))}, "
                    f"below its reservation value {format_number(round(res, 6))}",
                    "reference_below_reservation",
                )
            missing = [i.name for i in self.issues if i.name not in p.preferences.weights]
            if missing and len(missing) < len(self.issues):
                warn(
                    f'party "{p.name}" > weights',
                    f"no weight for {', '.join(map(repr, missing))}: counted as 0",
                    "missing_weight",
                )
            no_values = [
                k
                for k, w in p.preferences.weights.items()
                if (point(w) or 0) > 0 and k not in p.preferences.values
            ]
            if no_values:
                warn(
                    f'party "{p.name}" > values',
                    f"no values for {', '.join(map(repr, no_values))}: a weighted issue without "
                    "values adds nothing to the utility",
                    "missing_values",
                )
        # A deal on the table that breaks a hard rule, and rules that contradict: warnings (the
        # file is consistent; the searches still run), said once here for every command.
        from optimizer.engine.reference import contradicting_rules, reference_breaks  # (cycle)

        for b in reference_breaks(self):
            warn(
                b.label,
                f"the deal on the table breaks this rule ({b.text}): it is not a possible deal",
                "reference_breaks_rule",
            )
        for text in contradicting_rules(self):
            warn("constraints", text, "rules_contradict")
        return probs

    def lowered(self) -> list[Lowered]:
        """Every constraint in its lowered form (``Lowered``), in the scenario's order."""
        return [c.lower(self) for c in self.constraints]

    def reachable_masks(self, agreed: bool = True) -> list[np.ndarray]:
        """Per issue, which grid positions a deal can still use: every constraint on that issue
        alone applies, and (with ``agreed``) an agreed issue keeps its value. Constraints linking
        several issues are not looked at."""
        names = self.issue_names
        masks = []
        for issue in self.issues:
            m = np.ones(issue.size, dtype=bool)
            if agreed and issue.status == "agreed" and issue.value is not None:
                m[:] = False
                k = issue.index_of(issue.value)
                if k is not None:
                    m[k] = True
            masks.append(m)
        for c in self.constraints:
            if len(set(c.issue_names)) != 1:
                continue
            k = names.index(c.issue_names[0])
            probe = np.zeros((self.issues[k].size, len(names)), dtype=np.int64)
            probe[:, k] = np.arange(self.issues[k].size)
            masks[k] &= c.lower(self).holds(probe, names)
        return masks

    def warnings(self) -> list[Problem]:
        """Problems that do not invalidate the scenario but deserve a look."""
        return [p for p in self.check() if p.severity == "warning"]

    # -- files ----------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Any) -> Scenario:
        """Read a scenario from a YAML or JSON file (raises ScenarioFileError / ScenarioValidationError)."""
        from optimizer.scenario.files import load_scenario

        return load_scenario(path)

    def save(self, path: str | Any, *, overwrite: bool = False) -> None:
        """Write the scenario as YAML or JSON (by extension); refuses to replace a file unless asked."""
        from optimizer.scenario.files import save_scenario

        save_scenario(self, path, overwrite=overwrite)

    def to_dict(self) -> dict[str, Any]:
        """Plain data as in a scenario file (defaults left out, constraint types kept)."""
        from optimizer.scenario.files import scenario_to_data

        return scenario_to_data(self)

    def revalidate(self) -> Scenario:
        """A freshly validated copy, after editing this scenario in place (what-if scripts).

        Attribute edits are not checked when made; this runs every rule again and raises
        ScenarioValidationError listing each problem."""
        from optimizer.scenario.files import scenario_from_data

        return scenario_from_data(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        """Validate plain data (as read from a file) into a scenario."""
        from optimizer.scenario.files import scenario_from_data

        return scenario_from_data(data)
