"""Scenario files: safe YAML/JSON reading, located error messages, loss-free saving, the schema.

Reading never runs code (``yaml.SafeLoader``, no tags), refuses YAML aliases (the "billion laughs"
bomb), duplicate keys, binary data, files over 20 MB and nesting deeper than 64 levels; every
problem becomes a ``ScenarioFileError`` or a ``ScenarioValidationError`` whose problems name the
party, issue, option or constraint concerned in the user's own words.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from optimizer.errors import ScenarioFileError, ScenarioValidationError
from optimizer.models import Problem, Scenario

MAX_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 64

_SINGULAR = {
    "parties": "party",
    "issues": "issue",
    "constraints": "constraint",
    "history": "offer",
    "synergies": "synergy",
}


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader without aliases and with duplicate-key detection."""

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None,
                None,
                "YAML aliases (*name) are not allowed in scenario files; write the value out",
                event.start_mark,
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                dup = key in seen
            except TypeError:
                dup = False
            if dup:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            try:
                seen.add(key)
            except TypeError:
                pass
        return super().construct_mapping(node, deep=deep)


def _depth(obj: Any, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of plain data, stopping early past ``limit`` (iterative: no recursion)."""
    stack = [(obj, 1)]
    deepest = 0
    while stack:
        cur, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > limit:
            return deepest
        if isinstance(cur, dict):
            stack.extend((v, d + 1) for v in cur.values())
            stack.extend((k, d + 1) for k in cur if isinstance(k, tuple))
        elif isinstance(cur, list | tuple):
            stack.extend((v, d + 1) for v in cur)
    return deepest


def parse_text(text: str, *, fmt: str = "auto", source: str = "<text>") -> Any:
    """Parse YAML or JSON text into plain data, with clear ScenarioFileErrors."""
    if not text.strip():
        raise ScenarioFileError(f"{source}: the file is empty")
    if fmt == "auto":
        fmt = "json" if text.lstrip().startswith(("{", "[")) else "yaml"
    try:
        if fmt == "json":
            data = json.loads(text)
        else:
            data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise ScenarioFileError(
            f"{source}: nesting is too deep (more than {MAX_DEPTH} levels)"
        ) from None
    except json.JSONDecodeError as e:
        raise ScenarioFileError(
            f"{source}: not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"
        ) from None
    except yaml.YAMLError as e:
        where = ""
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        if "could not determine a constructor" in str(e):
            problem = "YAML tags (!!python/..., !custom) are not allowed in scenario files"
        raise ScenarioFileError(f"{source}: not valid YAML{where}: {problem}") from None
    if _depth(data) > MAX_DEPTH:
        raise ScenarioFileError(f"{source}: nesting is too deep (more than {MAX_DEPTH} levels)")
    if data is None:
        raise ScenarioFileError(f"{source}: the file holds no scenario (only comments or null)")
    if not isinstance(data, dict):
        raise ScenarioFileError(
            f"{source}: a scenario file must hold a mapping (name, parties, issues, ...), "
            f"not a {type(data).__name__}"
        )
    return data


def read_data(path: str | Path) -> Any:
    """Read a scenario file's plain data (YAML or JSON) without validating it."""
    p = Path(path)
    src = str(path)
    if not p.exists():
        raise ScenarioFileError(f"{src}: no such file")
    if p.is_dir():
        raise ScenarioFileError(f"{src}: is a directory, not a scenario file")
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise ScenarioFileError(f"{src}: the file is too large ({size} bytes; limit 20 MB)")
        raw = p.read_bytes()
    except PermissionError:
        raise ScenarioFileError(f"{src}: permission denied") from None
    except OSError as e:
        raise ScenarioFileError(f"{src}: cannot be read ({e.strerror or e})") from None
    if b"\x00" in raw:
        raise ScenarioFileError(f"{src}: binary data, not a YAML or JSON text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ScenarioFileError(
            f"{src}: not UTF-8 text (bad byte at position {e.start}); save it as UTF-8"
        ) from None
    suffix = p.suffix.lower()
    fmt = "json" if suffix == ".json" else "yaml" if suffix in (".yaml", ".yml") else "auto"
    return parse_text(text, fmt=fmt, source=src)


# --------------------------------------------------------------------------------------------
# Located messages
# --------------------------------------------------------------------------------------------


def _walk(data: Any, loc: tuple[Any, ...]) -> tuple[list[str], Any]:
    """Turn a pydantic loc into words ('party "Acme" > preferences > weights > "price"')."""
    parts: list[str] = []
    cur = data
    parent_key: Any = None
    for seg in loc:
        if isinstance(cur, list) and isinstance(seg, int) and 0 <= seg < len(cur):
            item = cur[seg]
            singular = _SINGULAR.get(str(parent_key), "item")
            name = item.get("name") if isinstance(item, dict) else None
            if singular == "offer" and isinstance(item, dict) and "date" in item:
                parts.append(f"offer {seg + 1} ({item.get('date')})")
            elif isinstance(name, str) and name:
                parts.append(f'{singular} "{name}"')
            else:
                parts.append(f"{singular} {seg + 1}")
            cur, parent_key = item, None
        elif isinstance(cur, dict) and seg in cur:
            if seg in _SINGULAR and isinstance(cur[seg], list) and parent_key is None:
                # 'parties' is implied by the next part ('party "Acme"').
                cur, parent_key = cur[seg], seg
                continue
            if parent_key in (
                "weights",
                "values",
                "costs",
                "package",
                "combination",
                "when",
                "then",
                "status_changes",
            ) or (
                isinstance(cur, dict) and parent_key not in (None,) and not str(seg).isidentifier()
            ):
                parts.append(f'"{seg}"')
            else:
                parts.append(str(seg))
            cur, parent_key = cur[seg], seg
        elif isinstance(cur, list | tuple) and isinstance(seg, int):
            parts.append(f"item {seg + 1}")
            cur, parent_key = None, None
        else:
            # A union tag ('number', 'range', 'function-after[...]') or a key not in the data.
            if isinstance(seg, str) and (
                seg in ("number", "range", "options", "shape", "package", "linear")
                or "[" in seg
                or seg in ("acceptable", "forbidden", "implies", "budget")
            ):
                continue
            parts.append(str(seg))
            cur, parent_key = None, seg
    return parts, cur


def _message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    msg = err.get("msg", "invalid")
    if kind == "extra_forbidden":
        return "unknown key (not part of the scenario format; check the spelling)"
    if kind == "missing":
        return "required but missing"
    if kind in ("finite_number",):
        return "must be a finite number (NaN and infinity are not allowed)"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        return f"unknown type {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags', '')}"
    if kind == "value_error" and msg.startswith("Value error, "):
        return msg[len("Value error, ") :]
    if kind in ("float_parsing", "float_type") and isinstance(err.get("input"), str):
        return f"must be a number, not text ({err['input']!r})"
    if kind == "bool_type" or (kind == "string_type" and isinstance(err.get("input"), bool)):
        return f"{msg} (got {err.get('input')!r})"
    return msg


def problems_from_validation_error(exc: ValidationError, data: Any) -> list[Problem]:
    """Every pydantic error as a located Problem in the user's words."""
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        if err.get("type") == "scenario_rules":
            for where, message in err.get("ctx", {}).get("problems", []):
                out.append(Problem(where, message))
            continue
        parts, _ = _walk(data, loc)
        if err.get("type") == "extra_forbidden" and parts:
            parts[-1] = f"{parts[-1].strip(chr(34))!r}"
        location = " > ".join(parts) if parts else "scenario"
        out.append(Problem(location, _message(err)))
    # One message per place: unions can repeat the same complaint.
    seen: set[tuple[str, str]] = set()
    unique = []
    for p in out:
        if (p.location, p.message) not in seen:
            seen.add((p.location, p.message))
            unique.append(p)
    return unique


def _reject_non_finite(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    bad = []
    stack = [(data, path)]
    while stack:
        cur, p = stack.pop()
        if isinstance(cur, float) and not math.isfinite(cur):
            bad.append((p, "must be a finite number (NaN and infinity are not allowed)"))
        elif isinstance(cur, dict):
            stack.extend((v, (*p, k)) for k, v in cur.items())
        elif isinstance(cur, list):
            stack.extend((v, (*p, i)) for i, v in enumerate(cur))
    return bad


def scenario_from_data(data: Any, source: str | None = None) -> Scenario:
    """Validate plain data into a Scenario, or raise ScenarioValidationError with every problem."""
    if not isinstance(data, dict):
        raise ScenarioValidationError(
            [Problem("scenario", f"must be a mapping, not {type(data).__name__}")], source
        )
    non_string_keys = [k for k in _all_keys(data) if not isinstance(k, str)]
    if non_string_keys:
        raise ScenarioValidationError(
            [
                Problem("scenario", f"keys must be text; found {k!r} ({type(k).__name__})")
                for k in non_string_keys[:5]
            ],
            source,
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        problems = problems_from_validation_error(e, data)
        if not problems:  # pragma: no cover - defensive
            problems = [Problem("scenario", str(e))]
        raise ScenarioValidationError(problems, source) from None
    except RecursionError:
        raise ScenarioValidationError(
            [Problem("scenario", "nesting is too deep to validate")], source
        ) from None


def _all_keys(data: Any) -> list[Any]:
    keys = []
    stack = [data]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            keys.extend(cur.keys())
            stack.extend(cur.values())
        elif isinstance(cur, list):
            stack.extend(cur)
    return keys


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (YAML or JSON)."""
    data = read_data(path)
    return scenario_from_data(data, str(path))


def loads_scenario(text: str, fmt: str = "auto", source: str = "<text>") -> Scenario:
    """Parse and validate scenario text (e.g. an uploaded file)."""
    return scenario_from_data(parse_text(text, fmt=fmt, source=source), source)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _tidy(obj: Any) -> Any:
    """Integral floats back to ints (20.0 -> 20) so saved files read as the user wrote them."""
    if isinstance(obj, float) and obj.is_integer():
        return int(obj)
    if isinstance(obj, dict):
        return {k: _tidy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_tidy(v) for v in obj]
    return obj


def scenario_to_data(scenario: Scenario) -> dict[str, Any]:
    """Plain data for a file: defaults left out, constraint types kept, integers as integers."""
    data = scenario.model_dump(mode="json", exclude_defaults=True)
    if scenario.constraints:
        data["constraints"] = [
            {"type": c.type, **d}
            for c, d in zip(
                scenario.constraints,
                data.get("constraints", [{} for _ in scenario.constraints]),
                strict=True,
            )
        ]
    return _tidy(data)


def dumps_scenario(scenario: Scenario, fmt: str = "yaml") -> str:
    """The scenario as YAML or JSON text."""
    data = scenario_to_data(scenario)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def save_scenario(scenario: Scenario, path: str | Path, *, overwrite: bool = False) -> None:
    """Write YAML (.yaml/.yml) or JSON (.json); never replaces a file unless ``overwrite``."""
    p = Path(path)
    if p.exists() and not overwrite:
        raise FileExistsError(f"{p} exists; pass overwrite=True to replace it")
    fmt = "json" if p.suffix.lower() == ".json" else "yaml"
    p.write_text(dumps_scenario(scenario, fmt), encoding="utf-8")


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files, generated from the models."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


SCHEMA_PATH = Path(__file__).with_name("scenario.schema.json")
