"""Scenario files: safe YAML/JSON reading, located error messages, loss-free saving, the schema.

Reading never runs code (``yaml.SafeLoader``, no tags), refuses YAML aliases (the "billion laughs"
bomb), duplicate keys, binary data, files over 20 MB and nesting deeper than 64 levels. Names stay
as written: a number used as an option name or a key keeps its text (``2.50`` is ``"2.50"``), and
``yes``/``no``/dates are text (the format has no true/false or date-typed names).

Validation reports every problem in one run: pydantic's field errors, and then (because pydantic
skips the scenario-wide rules when a field fails) a lenient pass that checks the cross-references
of every party, issue, constraint and offer that did validate on its own. Each problem is a
``location: message`` line naming the party, issue, option or constraint in the user's words.
Saving (``save_bytes``, used for every file this project writes) is atomic and never replaces
an existing file unless asked (``overwrite=True``).
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import math
import os
import re
import secrets
import stat
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from optimizer.errors import (
    OutputExistsError,
    SaveError,
    ScenarioFileError,
    ScenarioValidationError,
)
from optimizer.scenario.models import Problem, Scenario, _is_name_like, format_number

MAX_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 64

_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class SourceInt(int):
    """An integer read from a file, with the text the user wrote (``007``, ``2_000``)."""

    source: str


class SourceFloat(float):
    """A number read from a file, with the text the user wrote (``2.50`` stays ``"2.50"``)."""

    source: str


def _source_number(cls: type, value: Any, text: str) -> Any:
    obj = cls(value)
    obj.source = text
    return obj


_MERGE_TAG = "tag:yaml.org,2002:merge"


class _StrictResolver(yaml.resolver.Resolver):
    """The YAML 1.1 resolver without true/false and dates: ``yes``/``no``/``on``/``off`` and
    dates stay text (the scenario format has no true/false fields, and an option called ``yes``
    or ``2025-01-06`` must keep its name)."""

    yaml_implicit_resolvers = {
        ch: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL_TAG, _TIMESTAMP_TAG)]
        for ch, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
    }


class _StrictConstructor(yaml.constructor.SafeConstructor):
    """SafeConstructor refusing duplicate keys and merge keys; numbers keep their text."""

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    "YAML merge keys (<<) are not allowed in scenario files; write the keys out",
                    key_node.start_mark,
                )
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

    def construct_source_int(self, node):  # type: ignore[no-untyped-def]
        if len(node.value) > MAX_INT_DIGITS:  # far past any float: validation says "not finite"
            return math.inf if not node.value.lstrip().startswith("-") else -math.inf
        return _source_number(SourceInt, super().construct_yaml_int(node), node.value)

    def construct_source_float(self, node):  # type: ignore[no-untyped-def]
        value = super().construct_yaml_float(node)
        return _source_number(SourceFloat, value, node.value) if math.isfinite(value) else value


_StrictConstructor.add_constructor("tag:yaml.org,2002:int", _StrictConstructor.construct_source_int)
_StrictConstructor.add_constructor(
    "tag:yaml.org,2002:float", _StrictConstructor.construct_source_float
)

_ALIAS_MESSAGE = "YAML aliases (*name) are not allowed in scenario files; write the value out"


class _StrictLoader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    _StrictConstructor,
    _StrictResolver,
):
    """The pure-Python loader (used where libyaml is missing): refuses an alias at the alias."""

    def __init__(self, stream: Any) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _StrictConstructor.__init__(self)
        _StrictResolver.__init__(self)

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, _ALIAS_MESSAGE, event.start_mark)
        return super().compose_node(parent, index)


class _AliasFound(Exception):
    """The libyaml composer resolved an alias (one node reached twice)."""


def _shares_nodes(root: yaml.Node) -> bool:
    """Whether a composed YAML document reaches one node twice (an alias), iteratively."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.append(k)
                stack.append(v)
    return False


try:
    from yaml.cyaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _CParser = None

if _CParser is not None:

    class _CStrictLoader(_CParser, _StrictConstructor, _StrictResolver):  # type: ignore[misc, valid-type]
        """libyaml's parser and composer (C: about 10 times faster and far leaner than the
        pure-Python loader) with the same constructor; aliases are refused after composing
        (libyaml bounds nesting at 1000 levels itself)."""

        def __init__(self, stream: Any) -> None:
            _CParser.__init__(self, stream)
            _StrictConstructor.__init__(self)
            _StrictResolver.__init__(self)

        #: Look for aliases after composing (off when the text has no "*", so it has none).
        check_aliases = True

        def get_single_node(self):  # type: ignore[no-untyped-def]
            node = super().get_single_node()
            if self.check_aliases and node is not None and _shares_nodes(node):
                raise _AliasFound
            return node
else:  # pragma: no cover - PyYAML built without libyaml
    _CStrictLoader = None  # type: ignore[assignment, misc]


def _alias_mark(text: str) -> Any:
    """Where the first alias of a YAML text is (libyaml's event stream, no composing)."""
    loader = _CStrictLoader(text) if _CStrictLoader is not None else _StrictLoader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent):
                return event.start_mark
    finally:
        loader.dispose()
    return None  # pragma: no cover - only called once an alias was found


def _load_yaml(text: str) -> Any:
    """YAML text to Python data with the strict rules (libyaml when PyYAML has it)."""
    if _CStrictLoader is None:  # pragma: no cover - PyYAML built without libyaml
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - strict SafeLoader
    loader = _CStrictLoader(text)
    loader.check_aliases = "*" in text  # an alias is written *name
    try:
        return loader.get_single_data()
    except _AliasFound:
        raise yaml.composer.ComposerError(None, None, _ALIAS_MESSAGE, _alias_mark(text)) from None
    finally:
        loader.dispose()


def _json_float(text: str) -> float:
    value = float(text)
    return _source_number(SourceFloat, value, text) if math.isfinite(value) else value


def _json_int(text: str) -> int | float:
    if len(text) > MAX_INT_DIGITS:  # int() refuses 4,300+ digits; past 1e308 it is no float
        return math.inf if not text.startswith("-") else -math.inf
    return _source_number(SourceInt, int(text), text)


#: Integers longer than this are read as infinite (and then refused as "not a finite number"):
#: no value the solvers handle has that many digits.
MAX_INT_DIGITS = 400


class _DuplicateKey(Exception):
    """A JSON object repeats a key (raised by the pairs hook, located afterwards)."""


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return out


def _load_json(text: str) -> Any:
    """JSON text to Python data; a repeated key is refused (as in YAML) with its location."""
    try:
        return json.loads(
            text, parse_float=_json_float, parse_int=_json_int, object_pairs_hook=_unique_pairs
        )
    except _DuplicateKey as e:
        found = _json_duplicate_at(text)
        key, pos = found if found is not None else (e.args[0], 0)
        raise json.JSONDecodeError(f"duplicate key {key!r}", text, pos) from None


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:]')


def _json_duplicate_at(text: str) -> tuple[str, int] | None:
    """The first key repeated within one JSON object, in document order, and its position."""
    stack: list[set[str] | None] = []  # one key set per open object; None for an array
    last: re.Match[str] | None = None
    for m in _JSON_TOKEN.finditer(text):
        tok = m.group()
        if tok == "{":
            stack.append(set())
        elif tok == "[":
            stack.append(None)
        elif tok in "}]":
            if stack:
                stack.pop()
        elif tok == ":" and last is not None and stack and stack[-1] is not None:
            key = json.loads(last.group())
            if key in stack[-1]:
                return key, last.start()
            stack[-1].add(key)
        last = m if tok.startswith('"') else None
    return None


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
            data = _load_json(text)
        else:
            data = _load_yaml(text)
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
        if "maximum nesting depth" in problem:  # libyaml's own bound (1000 levels)
            raise ScenarioFileError(
                f"{source}: nesting is too deep (more than {MAX_DEPTH} levels)"
            ) from None
        if "could not determine a constructor" in str(e):
            problem = "YAML tags (!!python/..., !custom) are not allowed in scenario files"
        raise ScenarioFileError(f"{source}: not valid YAML{where}: {problem}") from None
    if _depth(data) > MAX_DEPTH:
        raise ScenarioFileError(f"{source}: nesting is too deep (more than {MAX_DEPTH} levels)")
    data = _plain(data)
    if data is None:
        raise ScenarioFileError(f"{source}: the file holds no scenario (only comments or null)")
    if not isinstance(data, dict):
        raise ScenarioFileError(
            f"{source}: a scenario file must hold a mapping (name, parties, issues, ...), "
            f"not {_kind_of(data)}"
        )
    return data


def _plain(data: Any, key: Any = None) -> Any:
    """Parsed data with plain Python types (so it can be dumped again with ``yaml.safe_dump``).

    A number written as an option name (in an ``options`` list, as the ``value`` of an issue with
    options, or as a mapping key) becomes the text the user wrote; other numbers become plain
    ``int``/``float``. Depth is bounded by the caller (MAX_DEPTH)."""
    if isinstance(data, dict):
        has_options = isinstance(data.get("options"), list)
        return {
            (_number_text(k) if _is_name_like(k) else k): (
                _as_text(v) if k == "value" and has_options else _plain(v, k)
            )
            for k, v in data.items()
        }
    if isinstance(data, list):
        if key == "options":
            return [_as_text(v) for v in data]
        return [_plain(v) for v in data]
    if isinstance(data, SourceInt):
        return int(data)
    if isinstance(data, SourceFloat):
        return float(data)
    return data


def _as_text(v: Any) -> Any:
    """A number read from a file as the text it was written as (other values unchanged)."""
    if isinstance(v, SourceInt | SourceFloat):
        return v.source
    return _plain(v)


def _kind_of(value: Any) -> str:
    """What a parsed value is, in plain words."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def read_bytes(path: Path, kind: str, missing_note: str = "") -> bytes:
    """A user's file as bytes, or a ScenarioFileError saying it is missing, a directory or not a
    regular file (a pipe, a device: refused before opening, so a FIFO never blocks and
    ``/dev/zero`` is never read), over 20 MB or unreadable. At most ``MAX_BYTES + 1`` bytes are
    read, whatever size the file reports. ``missing_note`` is added to "no such file"."""
    src = str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ScenarioFileError(f"{src}: no such file{missing_note}") from None
    except PermissionError:
        raise ScenarioFileError(f"{src}: permission denied") from None
    except OSError as e:
        raise ScenarioFileError(f"{src}: cannot be read ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise ScenarioFileError(f"{src}: is a directory, not {kind}")
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioFileError(
            f"{src}: is {_special_kind(st.st_mode)}, not {kind} (a regular file)"
        )
    too_large = f"{src}: the file is too large ({{size}} bytes; limit 20 MB)"
    if st.st_size > MAX_BYTES:
        raise ScenarioFileError(too_large.format(size=st.st_size))
    try:
        # O_NONBLOCK: if the path was swapped for a FIFO since the check, opening never blocks.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except PermissionError:
        raise ScenarioFileError(f"{src}: permission denied") from None
    except OSError as e:
        raise ScenarioFileError(f"{src}: cannot be read ({e.strerror or e})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ScenarioFileError(f"{src}: is not a regular file, not {kind}")
        chunks: list[bytes] = []
        got = 0
        while got <= MAX_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_BYTES + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except OSError as e:
        raise ScenarioFileError(f"{src}: cannot be read ({e.strerror or e})") from None
    finally:
        os.close(fd)
    if got > MAX_BYTES:
        raise ScenarioFileError(too_large.format(size=f"more than {MAX_BYTES}"))
    return b"".join(chunks)


def _special_kind(mode: int) -> str:
    """What a file that is not a regular file is, in plain words."""
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_data(path: str | Path) -> Any:
    """Read a scenario file's plain data (YAML or JSON) without validating it."""
    p = Path(path)
    return parse_text(read_text(p), fmt=file_format(p), source=str(path))


def file_format(path: str | Path) -> str:
    """``json``, ``yaml`` or ``auto`` (look at the text) from a file name's extension."""
    suffix = Path(path).suffix.lower()
    return "json" if suffix == ".json" else "yaml" if suffix in (".yaml", ".yml") else "auto"


def read_text(path: str | Path) -> str:
    """A scenario file's text (UTF-8, a BOM dropped), with the guards of ``read_bytes``."""
    src = str(path)
    p = Path(path)
    raw = read_bytes(p, "a scenario file")
    if p.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        raise ScenarioFileError(
            f"{src}: an Excel workbook; turn it into a scenario file first: "
            f"dealopt import {src} -o {p.with_suffix('.yaml').name}"
        )
    if b"\x00" in raw:
        raise ScenarioFileError(f"{src}: binary data, not a YAML or JSON text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ScenarioFileError(
            f"{src}: not UTF-8 text (bad byte at position {e.start}); save it as UTF-8"
        ) from None
    return text


# --------------------------------------------------------------------------------------------
# Located messages
# --------------------------------------------------------------------------------------------

#: Mappings whose keys are names the user chose (issues, options), shown in quotes.
_NAME_KEYED = {
    "weights",
    "values",
    "costs",
    "package",
    "combination",
    "when",
    "then",
    "status_changes",
    "metadata",
}
#: What one entry of a list is called.
_ITEM = {
    "parties": "party",
    "issues": "issue",
    "constraints": "constraint",
    "history": "offer",
    "synergies": "synergy",
    "options": "option",
    "points": "point",
}
#: Tags of our discriminated unions (they appear in pydantic locs; never in the user's file).
_TAGS = {
    "number",
    "range",
    "options",
    "shape",
    "package",
    "linear",
    "acceptable",
    "forbidden",
    "implies",
    "budget",
}
#: Members of plain unions, as a person would say what was expected.
_KINDS = {
    "str": "text",
    "float": "a number",
    "int": "a number",
    "Interval": "a {min, max} range",
    "none": "empty",
}


def _union_member(seg: str) -> str | None:
    """The plain-union member a loc segment names ('str', 'list[...]'), or None."""
    if seg in _KINDS:
        return seg
    if seg.startswith(("list[", "tuple[")):
        return "list"
    if "[" in seg:
        return "other"
    return None


def _walk(data: Any, loc: tuple[Any, ...]) -> tuple[list[str], int | None, str | None, Any]:
    """A pydantic loc in the user's words.

    Returns the parts ('party "Acme"', 'weights', '"price"'), how many parts come before the first
    plain-union member (None when there is none), that member, and the data found there."""
    parts: list[str] = []
    cur = data
    names = False  # the keys of ``cur`` are user names (quote them)
    parent: Any = None  # the key (or list name) ``cur`` was reached by
    grand: Any = None  # the key before that
    expect_tag = False  # ``cur`` is a tagged union: pydantic puts the tag next in the loc
    union_at: int | None = None
    member: str | None = None
    found = data
    pending: str | None = None  # a list key left out because its entries name themselves
    for seg in loc:
        if expect_tag and isinstance(seg, str) and seg in _TAGS:
            expect_tag = False
            continue
        expect_tag = False
        if isinstance(cur, list) and isinstance(seg, int):
            item = cur[seg] if 0 <= seg < len(cur) else None
            singular = _ITEM.get(str(parent), "item")
            name = item.get("name") if isinstance(item, dict) else None
            if singular == "offer" and isinstance(item, dict) and item.get("date") is not None:
                parts.append(f"offer {seg + 1} ({item.get('date')})")
            elif singular in ("party", "issue", "constraint") and isinstance(name, str) and name:
                parts.append(f'{singular} "{name}"')
            elif singular == "constraint" and isinstance(item, dict) and item.get("type") in _TAGS:
                parts.append(f"constraint {seg + 1} ({item['type']})")  # as Scenario.check says
            else:
                parts.append(f"{singular} {seg + 1}")
            expect_tag = parent == "constraints"
            cur, grand, parent, names, pending = item, parent, None, False, None
            found = cur
            continue
        if isinstance(cur, dict) and seg in cur:
            child = cur[seg]
            if names:
                parts.append(f'"{seg}"')
                keyed = {"shape", "per_unit"} & set(child) if isinstance(child, dict) else set()
                next_names = parent in ("values", "costs") and isinstance(child, dict) and not keyed
                # weights/values/costs entries and option scores are tagged unions
                expect_tag = parent in ("weights", "values", "costs") or grand == "values"
            else:
                if seg in _ITEM and isinstance(child, list):
                    pending = str(seg)
                elif seg != "preferences":
                    parts.append(str(seg))
                next_names = seg in _NAME_KEYED
                expect_tag = seg in ("reservation_value", "aspiration")
            cur, grand, parent, names = child, parent, seg, next_names
            found = cur
            continue
        if isinstance(seg, str):
            m = _union_member(seg)
            if m is not None:
                if union_at is None:
                    union_at, member = len(parts) + (1 if pending else 0), m
                    if pending:
                        parts.append(pending)
                        pending = None
                continue
        parts.append(f'"{seg}"' if names else str(seg))
        cur, grand, parent, names, pending = None, parent, seg, False, None
    if pending:
        parts.append(pending)  # the error is about the list itself ('parties: needs 2 items')
    return parts, union_at, member, found


def _describe(value: Any) -> str:
    """A short description of a value for 'got ...' messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37] + "...")
    if isinstance(value, int | float):
        return getattr(value, "source", None) or repr(value)
    return type(value).__name__


def _all_field_names() -> list[str]:
    """Every key of the scenario format (for 'did you mean' hints)."""
    from pydantic import BaseModel

    import optimizer.scenario.models as m

    out: set[str] = set()
    for obj in vars(m).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj is not BaseModel:
            out.update(obj.model_fields)
    return sorted(out)


def _message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    msg = err.get("msg", "invalid")
    got = err.get("input")
    if kind == "missing":
        return "required but missing"
    if kind == "finite_number":
        return "must be a finite number (NaN and infinity are not allowed)"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        return f"unknown type {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags', '')}"
    if kind == "union_tag_not_found":
        return "needs a type: acceptable, forbidden, implies or budget"
    if kind == "value_error" and msg.startswith("Value error, "):
        return msg[len("Value error, ") :]
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type"):
        if isinstance(got, str):
            return f"must be a number, not text ({_describe(got)})"
        return f"must be a number, not {_describe(got)}"
    if kind == "string_type":
        return f"must be text, not {_describe(got)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping (key: value), not {_describe(got)}"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, not {_describe(got)}"
    if kind == "literal_error":
        return f"{msg[0].lower()}{msg[1:]} (got {_describe(got)})"
    if kind == "too_short":
        n = err.get("ctx", {}).get("min_length", 1)
        what = "entries" if isinstance(got, dict) else "items"
        if n == 1:
            what = what[:-3] + "y" if what == "entries" else "item"
        return f"needs at least {n} {what}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "greater_than":
        gt = err.get("ctx", {}).get("gt", 0)
        return f"must be greater than {format_number(gt) if isinstance(gt, int | float) else gt}"
    if kind == "too_long":
        return msg[0].lower() + msg[1:]
    if kind.startswith("date"):
        return f"must be a date written YYYY-MM-DD, not {_describe(got)}"
    return msg[0].lower() + msg[1:] if msg else "invalid"


def problems_from_validation_error(exc: ValidationError, data: Any) -> list[Problem]:
    """Every pydantic error as a located Problem in the user's words."""
    import difflib

    out: list[Problem] = []
    unions: dict[str, tuple[list[str], Any]] = {}
    fields = None
    for err in exc.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        if err.get("type") == "scenario_rules":
            for where, message in err.get("ctx", {}).get("problems", []):
                out.append(Problem(where, message))
            continue
        parts, union_at, member, found = _walk(data, loc)
        kind = err.get("type")
        if union_at is not None and member in ("str", "float", "int", "list", "Interval", "none"):
            where = " > ".join(parts[:union_at]) or "scenario"
            kinds, _ = unions.setdefault(where, ([], found))
            label = "a list of them" if member == "list" else _KINDS.get(member, member)
            if label not in kinds:
                kinds.append(label)
            if where not in [p.location for p in out]:
                out.append(Problem(where, "", code="union"))
            continue
        if kind in ("extra_forbidden", "missing") and parts:
            key = parts.pop().strip('"')
            location = " > ".join(parts) or "scenario"
            if kind == "missing":
                out.append(Problem(location, f"missing required key {key!r}"))
                continue
            fields = fields or _all_field_names()
            near = difflib.get_close_matches(key, fields, n=1, cutoff=0.75)
            hint = f"; did you mean {near[0]!r}?" if near else " (not part of the scenario format)"
            out.append(Problem(location, f"unknown key {key!r}{hint}"))
            continue
        location = " > ".join(parts) or "scenario"
        out.append(Problem(location, _message(err)))
    # Plain unions: one message per place listing what would have been accepted.
    done = []
    for p in out:
        if p.code == "union":
            kinds, found = unions[p.location]
            expected = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " or " + kinds[-1]
            done.append(Problem(p.location, f"must be {expected}, not {_describe(found)}"))
        else:
            done.append(p)
    # One message per place: unions can repeat the same complaint.
    seen: set[tuple[str, str]] = set()
    unique = []
    for p in done:
        if (p.location, p.message) not in seen:
            seen.add((p.location, p.message))
            unique.append(p)
    return unique


# --------------------------------------------------------------------------------------------
# Validation: strict first, then a lenient pass so every problem shows up in one run
# --------------------------------------------------------------------------------------------


def _text_keys(data: Any) -> Any:
    """Numbers used as mapping keys become the text the user wrote (``{2000: 5}``), and every
    text is in Unicode NFC, so a name typed in two forms ("café" with a combining accent or
    not) is one name (and a repeated one is reported as such)."""
    if isinstance(data, dict):
        out = {
            (_number_text(k) if _is_name_like(k) else _nfc(k)): (_text_keys(v))
            for k, v in data.items()
        }
        if len(out) != len(data):
            seen = Counter(_number_text(k) if _is_name_like(k) else _nfc(k) for k in data)
            twice = [k for k, c in seen.items() if c > 1]
            raise ScenarioValidationError(
                [
                    Problem("scenario", f"the key {k!r} appears twice (written two ways)")
                    for k in twice
                ]
            )
        return out
    if isinstance(data, list):
        return [_text_keys(v) for v in data]
    return _nfc(data)


def _nfc(x: Any) -> Any:
    """Text in Unicode NFC (other values unchanged); the check is cheap for ASCII text."""
    if isinstance(x, str) and not x.isascii():
        return unicodedata.normalize("NFC", x)
    return x


def _number_text(x: Any) -> str:
    """A number (or date) key as text: what the user wrote when the file tells us."""
    if isinstance(x, _dt.date):
        return x.isoformat()
    source = getattr(x, "source", None)
    return source if isinstance(source, str) else str(x)


def _existing_path(data: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The longest prefix of ``loc`` that exists in ``data`` (union tags skipped)."""
    path: list[Any] = []
    cur = data
    for seg in loc:
        in_dict = isinstance(cur, dict) and seg in cur
        if in_dict or (isinstance(cur, list) and isinstance(seg, int) and 0 <= seg < len(cur)):
            path.append(seg)
            cur = cur[seg]
        elif isinstance(seg, str) and (seg in _TAGS or _union_member(seg) is not None):
            continue
        else:
            break
    return tuple(path)


def _party_cut(path: tuple[Any, ...]) -> tuple[Any, ...]:
    """Where to cut a failing part of a party: the whole weight/value entry, synergy or level."""
    if (
        len(path) >= 3
        and path[0] == "preferences"
        and path[1] in ("weights", "values", "synergies")
    ):
        return path[:3]
    if len(path) >= 2 and path[0] == "preferences":
        return path[:2]
    return path[:1]


def _without(data: Any, path: tuple[Any, ...]) -> Any:
    """A copy of ``data`` with the entry at ``path`` removed."""
    if not path:
        return data
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        if not rest:
            return {k: v for k, v in data.items() if k != head}
        return {k: (_without(v, rest) if k == head else v) for k, v in data.items()}
    if isinstance(data, list):
        if not rest:
            return [v for i, v in enumerate(data) if i != head]
        return [(_without(v, rest) if i == head else v) for i, v in enumerate(data)]
    return data


def _lenient_party(raw: Any) -> Any:
    """Validate a party, dropping the weights/values/levels that fail (None if nothing is left)."""
    from optimizer.scenario.models import Party

    cur = raw
    for _ in range(20):
        try:
            return Party.model_validate(cur)
        except ValidationError as e:
            cuts = {_party_cut(_existing_path(cur, tuple(x["loc"]))) for x in e.errors()}
            if () in cuts or not isinstance(cur, dict):
                return None
            # Remove deepest first so list positions stay right.
            for cut in sorted(
                cuts, key=lambda c: (len(c), c[-1] if isinstance(c[-1], int) else -1), reverse=True
            ):
                cur = _without(cur, cut)
    return None


def _lenient_problems(data: dict[str, Any], field_problems: list[Problem]) -> list[Problem]:
    """Cross-field problems of the parts that did validate (with field-level errors present).

    Each party, issue, constraint and offer is validated on its own; a party keeps its valid
    weights and values. The scenario's rules then run on what is left, leaving out complaints
    about names whose own definition already failed."""
    from pydantic import TypeAdapter

    from optimizer.scenario.models import Constraint, Issue, Offer

    def entries(key: str) -> list[Any]:
        v = data.get(key)
        return v if isinstance(v, list) else []

    def try_one(adapter: Any, raw: Any) -> Any:
        try:
            return adapter.validate_python(raw)
        except ValidationError:
            return None

    parties, issues, bad_party, bad_issue = [], [], set(), set()
    for raw in entries("parties"):
        party = _lenient_party(raw)
        if party is not None:
            parties.append(party)
        elif isinstance(raw, dict) and isinstance(raw.get("name"), str):
            bad_party.add(raw["name"])
    issue_adapter = TypeAdapter(Issue)
    for raw in entries("issues"):
        issue = try_one(issue_adapter, raw)
        if issue is not None:
            issues.append(issue)
        elif isinstance(raw, dict) and isinstance(raw.get("name"), str | int | float):
            bad_issue.add(
                _number_text(raw["name"]) if not isinstance(raw["name"], str) else raw["name"]
            )
    constraint_adapter = TypeAdapter(Constraint)
    constraints = [
        c for c in (try_one(constraint_adapter, r) for r in entries("constraints")) if c is not None
    ]
    offer_adapter = TypeAdapter(Offer)
    history = [o for o in (try_one(offer_adapter, r) for r in entries("history")) if o is not None]
    us = data.get("us") if isinstance(data.get("us"), str) else None
    partial = Scenario.model_construct(
        name=str(data.get("name") or "scenario"),
        description="",
        us=us,
        utility_scale=100.0,
        parties=parties,
        issues=issues,
        constraints=constraints,
        history=history,
        metadata={},
    )
    try:
        found = [p for p in partial.check() if p.severity == "error"]
    except Exception:  # a partial scenario can break assumptions; the field errors still stand
        found = []
    failed = [p.location for p in field_problems]
    out: list[Problem] = []
    for p in found:
        if p.code == "duplicate_name":
            continue  # counted on the raw data below
        if p.code == "unknown_issue" and p.refers_to in bad_issue:
            continue
        if p.code == "unknown_party" and p.refers_to in bad_party:
            continue
        inside = any(p.location == f or p.location.startswith(f + " > ") for f in failed)
        around = p.code == "no_positive_weight" and any(
            f.startswith(p.location + " > ") for f in failed
        )
        if inside or around:
            continue
        out.append(p)
    for key, what, plural in (("issues", "issue", "issues"), ("parties", "party", "parties")):
        names = [
            r["name"]
            for r in entries(key)
            if isinstance(r, dict) and isinstance(r.get("name"), str)
        ]
        for n, c in Counter(names).items():
            if c > 1:
                out.append(
                    Problem(
                        f'{what} "{n}"',
                        f"the name {n!r} is used by {c} {plural}; names must be unique",
                        code="duplicate_name",
                        refers_to=n,
                    )
                )
    return out


def scenario_from_data(data: Any, source: str | None = None) -> Scenario:
    """Validate plain data into a Scenario, or raise ScenarioValidationError with every problem."""
    if not isinstance(data, dict):
        raise ScenarioValidationError(
            [Problem("scenario", f"must be a mapping, not {type(data).__name__}")], source
        )
    if _depth(data) > MAX_DEPTH:
        raise ScenarioValidationError(
            [Problem("scenario", f"nesting is too deep (more than {MAX_DEPTH} levels)")], source
        )
    data = _text_keys(data)
    odd_keys = [k for k in _all_keys(data) if not isinstance(k, str)]
    if odd_keys:
        raise ScenarioValidationError(
            [
                Problem("scenario", f"keys must be text; found {_describe(k)} ({type(k).__name__})")
                for k in odd_keys[:5]
            ],
            source,
        )
    flagged = _flag_problems(data)  # true/false: the format has no yes/no fields
    flags = [p for _, p in flagged]
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as e:
        unknown = [
            _existing_path(data, tuple(x["loc"]))
            for x in e.errors()
            if x.get("type") == "extra_forbidden"
        ]
        flags = [p for path, p in flagged if not any(path[: len(u)] == u for u in unknown)]
        problems = flags + [
            p for p in problems_from_validation_error(e, data) if p.location not in _locs(flags)
        ]
        field_level = any(x.get("type") != "scenario_rules" for x in e.errors())
        if field_level:
            try:
                extra = _lenient_problems(data, problems)
            except Exception:  # the lenient pass is a bonus; the field errors still stand
                extra = []
            problems += [p for p in extra if p not in problems]
        if not problems:  # pragma: no cover - defensive
            problems = [Problem("scenario", str(e))]
        raise ScenarioValidationError(problems, source) from None
    except RecursionError:
        raise ScenarioValidationError(
            [Problem("scenario", "nesting is too deep to validate")], source
        ) from None
    if flags:
        raise ScenarioValidationError(flags, source)
    return scenario


def _locs(problems: list[Problem]) -> set[str]:
    return {p.location for p in problems}


def _flag_problems(data: Any) -> list[tuple[tuple[Any, ...], Problem]]:
    """JSON true/false anywhere (pydantic would read them as 1 and 0), with their paths."""
    out = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        cur, path = stack.pop()
        if isinstance(cur, bool):
            parts = _walk(data, path)[0]
            where = " > ".join(parts) or "scenario"
            out.append((path, Problem(where, f"must be a number or text, not {_describe(cur)}")))
        elif isinstance(cur, dict):
            if path and path[-1] == "metadata" and len(path) == 1:
                continue  # free-form notes may hold anything
            stack.extend((v, (*path, k)) for k, v in reversed(list(cur.items())))
        elif isinstance(cur, list):
            stack.extend((v, (*path, i)) for i, v in reversed(list(enumerate(cur))))
    return out


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
    options = sum(len(i.options or []) for i in scenario.issues)
    dumper = getattr(yaml, "CSafeDumper", None) if options > _C_DUMP_OPTIONS else None
    if dumper is not None:  # libyaml: same YAML, but emoji written as \U escapes
        return yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


#: Above this many options in all, YAML is written by libyaml (the pure-Python emitter took most
#: of a 40,000-option GENIUS import); below it, by PyYAML's emitter, which keeps emoji as they are.
_C_DUMP_OPTIONS = 2000


def edited_text(
    original: str, fmt: str, edit: Callable[[Any], None], expected: Scenario
) -> tuple[str, bool]:
    """The text of a scenario file after an edit, keeping the user's comments and layout.

    YAML is edited round-trip (ruamel.yaml): ``edit`` changes the parsed document in place (it
    sees mappings and lists), and the result is accepted only if it reads back as ``expected``
    (the edited, validated scenario). Otherwise, and for JSON, the scenario is written afresh.
    Returns the text and whether the comments were kept (False only when there were some)."""
    if fmt == "auto":
        fmt = "json" if original.lstrip("\ufeff \t\r\n").startswith(("{", "[")) else "yaml"
    if fmt == "json":
        return dumps_scenario(expected, "json"), True
    text = _round_trip(original, edit)
    if text is not None:
        try:
            same = scenario_from_data(parse_text(text, fmt="yaml")) == expected
        except Exception:  # the round trip produced something we cannot read: write afresh
            same = False
        if same:
            return text, True
    return dumps_scenario(expected, "yaml"), "#" not in original


#: Indentations tried for a round trip (mapping, sequence, dash offset): the one that reproduces
#: the file unchanged is used, so an edit changes only the edited lines.
_INDENTS = ((2, 4, 2), (2, 2, 0), (4, 6, 4), (4, 4, 0))


def _round_trip(original: str, edit: Callable[[Any], None]) -> str | None:
    """The YAML text after ``edit``, comments kept (ruamel.yaml round trip), or None."""
    import io

    # Imported here: ruamel.yaml is needed only by in-place edits, not to read or validate.
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    def dump(doc: Any, indent: tuple[int, int, int]) -> str:
        y = YAML()
        y.width = 4096
        y.preserve_quotes = True
        y.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
        buf = io.StringIO()
        y.dump(doc, buf)
        return buf.getvalue()

    try:
        loader = YAML()
        loader.preserve_quotes = True
        doc = loader.load(original)
        if not isinstance(doc, dict):
            return None
        body = original.lstrip("\ufeff")
        chosen = next((ind for ind in _INDENTS if dump(doc, ind) == body), _INDENTS[0])
        edit(doc)
        return dump(doc, chosen)
    except (YAMLError, ValueError, TypeError, KeyError, AttributeError):
        return None


def save_scenario(
    scenario: Scenario,
    path: str | Path,
    *,
    overwrite: bool = False,
    exists_hint: str = "pass overwrite=True to replace it",
) -> Path:
    """Write YAML (.yaml/.yml) or JSON (.json) atomically; never replaces a file unless
    ``overwrite`` (see ``save_bytes``)."""
    p = Path(path)
    fmt = "json" if p.suffix.lower() == ".json" else "yaml"
    text = dumps_scenario(scenario, fmt)
    return save_bytes(p, text.encode("utf-8"), overwrite=overwrite, exists_hint=exists_hint)


def save_bytes(
    path: str | Path,
    data: bytes,
    *,
    overwrite: bool = False,
    exists_hint: str = "pass overwrite=True to replace it",
) -> Path:
    """The one way this project saves a file: all of it or nothing.

    The bytes go to a temporary file in the target's folder, are flushed to disk (fsync), then
    take the target's name in one step: ``os.replace`` when ``overwrite`` (an existing file keeps
    its permissions), else a hard link, which fails if the name exists (exclusive create: two
    writers racing for one name cannot both win). A failed write (disk full, file-size limit,
    permission) removes the temporary file, leaves the target as it was and raises ``SaveError``;
    an existing target without ``overwrite`` raises ``OutputExistsError`` (message ends with
    ``exists_hint``)."""
    p = Path(path)
    if p.is_dir():
        raise SaveError(f"{p}: is a directory; give a file name")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise SaveError(f"{p}: the folder {folder} does not exist")
    if overwrite and p.is_symlink():
        p = Path(os.path.realpath(p))  # update the file the link points to, keep the link
        folder = p.parent
    if not overwrite and os.path.lexists(p):
        raise OutputExistsError(f"{p} exists; {exists_hint}")
    mode = None
    if overwrite:
        try:
            mode = stat.S_IMODE(os.stat(p).st_mode)
        except OSError:
            mode = None
    tmp, fd = _temp_beside(p, folder)
    try:
        try:
            if mode is not None:
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if overwrite:
            os.replace(tmp, p)
        else:
            _link_exclusive(tmp, p, exists_hint)
    except OutputExistsError:
        _unlink_quietly(tmp)
        raise
    except OSError as e:
        _unlink_quietly(tmp)
        kept = "the existing file was left as it was" if os.path.lexists(p) else "nothing written"
        raise SaveError(f"{p}: cannot be written ({e.strerror or e}); {kept}") from None
    except BaseException:
        _unlink_quietly(tmp)
        raise
    _unlink_quietly(tmp)  # the hard link's other name (no-op after os.replace)
    _fsync_folder(folder)
    return p


def _temp_beside(p: Path, folder: Path) -> tuple[Path, int]:
    """A new hidden temporary file in ``folder`` (created exclusively, mode from the umask)."""
    stem = p.name[:180]  # room for the suffix within the 255-byte name limit
    for _ in range(100):
        tmp = folder / f".{stem}.{secrets.token_hex(6)}.tmp"
        try:
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as e:
            raise SaveError(f"{p}: cannot be written ({e.strerror or e})") from None
    raise SaveError(f"{p}: cannot create a temporary file in {folder}")  # pragma: no cover


def _link_exclusive(tmp: Path, p: Path, exists_hint: str) -> None:
    """Give ``tmp``'s file the name ``p`` unless ``p`` exists (atomically)."""
    try:
        os.link(tmp, p)
        return
    except FileExistsError:
        raise OutputExistsError(f"{p} exists; {exists_hint}") from None
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
    # A file system without hard links: claim the name exclusively, then fill it in one step.
    try:
        os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except FileExistsError:
        raise OutputExistsError(f"{p} exists; {exists_hint}") from None
    os.replace(tmp, p)


def _unlink_quietly(p: Path) -> None:
    try:
        os.unlink(p)
    except OSError:
        pass


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (best effort: not every system can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_file(path: str | Path, content: str | bytes, *, overwrite: bool = False) -> Path:
    """Text (as UTF-8) or bytes through ``save_bytes``: workbooks, CSV and other outputs."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    return save_bytes(path, data, overwrite=overwrite)


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files, generated from the models."""
    schema = _any_of(Scenario.model_json_schema())
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def _any_of(node: Any) -> Any:
    """pydantic writes our tagged unions as ``oneOf``; a cost ``{per_unit: 3}`` fits both of its
    branches, so editors would reject it. ``anyOf`` says what the models accept."""
    if isinstance(node, dict):
        return {("anyOf" if k == "oneOf" else k): _any_of(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_any_of(v) for v in node]
    return node


SCHEMA_PATH = Path(__file__).parent.parent / "scenario.schema.json"


@contextmanager
def file_lock(path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock for updating ``path`` in place (read, change, save).

    The lock is taken on a hidden companion file (``.NAME.lock`` beside it), not on the file
    itself: an atomic save replaces the file, so a lock on it would guard the old copy. Other
    processes that update the same file wait their turn, so no update is lost. The companion
    file is left in place (deleting it would let a waiting process lock a stale copy)."""
    p = Path(path)
    lock = p.with_name(f".{p.name[:240]}.lock")
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX: no locking available
        yield
        return
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as e:
        raise SaveError(f"{p}: cannot lock it for updating ({e.strerror or e})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
