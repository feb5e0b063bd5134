"""Import GENIUS / ANAC negotiation domains and linear-additive profiles as scenarios.

A GENIUS *domain* file lists the issues under a root ``<objective>``; each *profile* file repeats
them with an ``evaluation`` per ``<item>`` (discrete issues) or a linear ``<evaluator>`` (integer
issues), plus one ``<weight index=...>`` per issue, a ``<reservation value=...>`` and a
``<discount_factor value=...>``. GENIUS's utility of a bid is::

    sum over issues of  weight_i * eval_i(value_i)

where a discrete issue's ``eval`` is its evaluation divided by the issue's largest evaluation (0
for all options when that is below 1e-5), and an integer issue's ``eval`` is
``offset + slope * (x - lowerbound)`` (older files: ``parameter0 + parameter1 * x``) clipped to
[0, 1]. The import reproduces that number exactly with our own utility function
(``models.py``): option scores are stored already divided by the largest evaluation (so our
division by the largest score is a no-op), integer evaluators become ``piecewise`` value shapes
whose points lie on the integer grid, and ``utility_scale`` is 1. Weights that do not sum to 1:

* off by rounding (within ``ROUNDING_TOL`` = 1e-3, e.g. the Laptop profiles' 1.000051804) are
  divided by their sum, with a note;
* further off (e.g. JapanTrip's 1.1, or 0.9) are imported as written: the party gets a
  ``utility_scale`` equal to their sum (GENIUS does not normalise them), with a note; when the
  best bid then scores above 1 the note says that GENIUS would cap those utilities at 1.

Profiles come in two layouts: issues and weights under a root ``<objective>``, or (older files)
directly under ``<utility_space>``; both are read.

What real ANAC files contain, and how it is read (see docs/design.md):

* issues are matched to weights and profile entries by ``index``; a weight whose index names no
  issue (the root objective's own weight, issues numbered from 2) is ignored;
* only ``<item>`` elements directly under ``<issue>`` are options; deeper ``<item>`` elements
  (similarity or criteria functions) are not;
* integer issues give their bounds as attributes or in a ``<range>`` child;
* names are kept exactly as written (unicode, punctuation, ``"0.6"``, ``"2000"``).

Anything GENIUS would not evaluate additively (hyper-rectangle or constraint utilities, real-valued
issues, unknown evaluator types, a profile missing an issue) is refused with a ``ScenarioFileError`` naming the file and the element.
XML is read with the standard library after refusing DOCTYPE and ENTITY declarations, so entity
bombs and external entities never reach the parser.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

import numpy as np

from optimizer.errors import ScenarioFileError, ScenarioValidationError
from optimizer.scenario.files import read_bytes
from optimizer.scenario.models import Scenario

#: GENIUS treats an issue whose largest evaluation is below this as worth 0 everywhere.
EVAL_FLOOR = 1e-5

#: Weight sums closer to 1 than this need no per-party scale (the error stays below 1e-13).
#: Largest weight read from a profile: GENIUS weights are shares of 1, and far larger values
#: (1e308) would overflow the sums (issue 15).
MAX_WEIGHT = 1e6

SUM_TOL = 1e-13

#: GENIUS caps a bid's utility at 1 (a profile whose best bid exceeds it by more than this is
#: imported as written, with a note).
CAP_TOL = 1e-9

#: Weight sums within this of 1 are rounding in the file (the classic Laptop profiles sum to
#: 1.000051804): the weights are normalised to sum to 1, with a note. Sums further off are kept.
ROUNDING_TOL = 1e-3

_DECL = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_NONLINEAR_TAGS = ("utility", "utility_function", "ufun", "constraint", "hyperrectangle")
_NONLINEAR_SPACES = ("nonlinear", "non-linear", "constraint", "constraint-based", "uncertain")


# --------------------------------------------------------------------------------------------
# Reading XML safely
# --------------------------------------------------------------------------------------------


def _describe(el: ET.Element) -> str:
    """An element as a short tag for messages: ``<issue index="3" name="Price">``."""
    attrs = " ".join(f'{k}="{el.attrib[k]}"' for k in ("index", "name", "value") if k in el.attrib)
    return f"<{el.tag}{' ' + attrs if attrs else ''}>"


class _DTDFound(Exception):
    pass


def _refuse(*_args: Any) -> None:
    raise _DTDFound


def _has_dtd(raw: bytes) -> bool:
    """True when the document declares a DTD or entities, in whatever encoding it is written.

    The byte search above misses UTF-16 text, so expat itself looks; its handlers stop the
    parse at the declaration, before any entity could be expanded."""
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    try:
        parser.Parse(raw, True)
    except _DTDFound:
        return True
    except (expat.ExpatError, ValueError, LookupError):
        return False  # not well-formed: ElementTree reports it with its position
    return False


def _read_xml(path: Path, what: str) -> ET.Element:
    """Parse one XML file, refusing DTDs (entity bombs, external entities) and huge files."""
    src = str(path)
    raw = read_bytes(path, f"a GENIUS {what} file", f" ({what})")
    if not raw.strip():
        raise ScenarioFileError(f"{src}: the file is empty")
    if _DECL.search(raw) or _has_dtd(raw):
        raise ScenarioFileError(
            f"{src}: DOCTYPE/ENTITY declarations are not allowed in GENIUS files "
            "(refused to protect against entity expansion)"
        )
    if raw.lstrip().startswith((b"{", b"[")):
        raise ScenarioFileError(
            f"{src}: this is JSON, not a GENIUS XML {what} file "
            "(GeniusWeb JSON profiles are not supported)"
        )
    try:
        return ET.fromstring(raw)
    except ET.ParseError as e:
        line, col = getattr(e, "position", (None, None))
        where = f" at line {line}, column {col + 1}" if line is not None else ""
        reason = str(e).split(":")[0]
        raise ScenarioFileError(f"{src}: not well-formed XML{where}: {reason}") from None
    except (ValueError, LookupError) as e:  # e.g. an unknown encoding declaration
        raise ScenarioFileError(f"{src}: cannot be parsed as XML ({e})") from None
    except RecursionError:
        raise ScenarioFileError(f"{src}: XML nesting is too deep") from None


def _utility_space(root: ET.Element, src: str, what: str) -> ET.Element:
    """The ``<utility_space>`` element (the root, or the child of ``<negotiation_template>``)."""
    if root.tag == "utility_space":
        return root
    if root.tag == "negotiation_template":
        space = root.find("utility_space")
        if space is not None:
            return space
        raise ScenarioFileError(f"{src}: <negotiation_template> holds no <utility_space>")
    raise ScenarioFileError(
        f"{src}: not a GENIUS {what} file (the root element is <{root.tag}>, "
        "expected <negotiation_template> or <utility_space>)"
    )


def _root_objective(space: ET.Element, src: str) -> ET.Element:
    """The root ``<objective>``; in the older flat format (``<issue>`` and ``<weight>`` directly
    under ``<utility_space>``, no ``<objective>``) the utility space itself plays its part."""
    obj = space.find("objective")
    if obj is not None:
        return obj
    if space.find("issue") is not None or space.find("weight") is not None:
        return space
    raise ScenarioFileError(
        f"{src}: <utility_space> holds no root <objective> (nor <issue> elements directly)"
    )


def _walk(objective: ET.Element) -> tuple[list[ET.Element], list[ET.Element]]:
    """Every ``<issue>`` and ``<weight>`` of an objective tree, in document order.

    Only direct children of ``<objective>`` elements count (GENIUS reads one level at a time),
    so ``<item>``s or other elements nested inside an issue are never mistaken for issues."""
    issues: list[ET.Element] = []
    weights: list[ET.Element] = []
    stack = [iter(objective)]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
        elif child.tag == "issue":
            issues.append(child)
        elif child.tag == "weight":
            weights.append(child)
        elif child.tag == "objective":
            stack.append(iter(child))
    return issues, weights


def _attr(el: ET.Element, name: str, src: str) -> str:
    value = el.attrib.get(name)
    if value is None:
        raise ScenarioFileError(f"{src}: {_describe(el)} has no {name} attribute")
    return value


def _float(el: ET.Element, name: str, src: str) -> float:
    text = _attr(el, name, src)
    try:
        x = float(text.strip())
    except ValueError:
        raise ScenarioFileError(
            f"{src}: {_describe(el)}: {name}={text!r} is not a number"
        ) from None
    if not math.isfinite(x):
        raise ScenarioFileError(f"{src}: {_describe(el)}: {name}={text!r} is not a finite number")
    return x


def _int(el: ET.Element, name: str, src: str) -> int:
    x = _float(el, name, src)
    if not x.is_integer():
        raise ScenarioFileError(
            f"{src}: {_describe(el)}: {name}={el.attrib[name]!r} is not a whole number"
        )
    return int(x)


def _bounds(el: ET.Element, src: str) -> tuple[int, int] | None:
    """An integer issue's bounds: ``lowerbound``/``upperbound`` attributes or a ``<range>``."""
    if "lowerbound" in el.attrib or "upperbound" in el.attrib:
        return _int(el, "lowerbound", src), _int(el, "upperbound", src)
    rng = el.find("range")
    if rng is not None:
        return _int(rng, "lowerbound", src), _int(rng, "upperbound", src)
    return None


def _issue_type(el: ET.Element) -> str:
    """GENIUS's rule: the ``type`` attribute decides; no ``type`` means discrete."""
    return el.attrib.get("type", "discrete").strip().lower()


# --------------------------------------------------------------------------------------------
# Domain
# --------------------------------------------------------------------------------------------


@dataclass
class _DomainIssue:
    index: int
    name: str
    kind: str  # "discrete" or "integer"
    options: list[str] = field(default_factory=list)
    lo: int = 0
    hi: int = 0
    description: str = ""


@dataclass
class _Domain:
    path: Path
    objective_name: str
    issues: list[_DomainIssue]

    def by_index(self) -> dict[int, _DomainIssue]:
        return {i.index: i for i in self.issues}


def _read_domain(path: str | Path) -> _Domain:
    """Read a GENIUS domain file's issues (discrete options, integer ranges) in document order."""
    p = Path(path)
    src = str(path)
    space = _utility_space(_read_xml(p, "domain"), src, "domain")
    root = _root_objective(space, src)
    elements, _ = _walk(root)
    if not elements:
        raise ScenarioFileError(f"{src}: the domain lists no <issue> elements")
    issues: list[_DomainIssue] = []
    seen_index: dict[int, str] = {}
    seen_name: set[str] = set()
    for el in elements:
        name = _attr(el, "name", src)
        if not name:
            raise ScenarioFileError(f"{src}: {_describe(el)} has an empty name")
        index = _int(el, "index", src)
        if index in seen_index:
            raise ScenarioFileError(
                f"{src}: issues {seen_index[index]!r} and {name!r} share index {index}"
            )
        if name in seen_name:
            raise ScenarioFileError(f"{src}: two issues are named {name!r}; names must be unique")
        seen_index[index] = name
        seen_name.add(name)
        kind = _issue_type(el)
        desc = el.attrib.get("description", "")
        if kind == "discrete":
            options = []
            seen: set[str] = set()  # a set: a list lookup made 40,000 items quadratic
            for item in el.findall("item"):
                value = _attr(item, "value", src)
                if not value:
                    raise ScenarioFileError(
                        f"{src}: {_describe(el)} > {_describe(item)} has an empty value"
                    )
                if value in seen:
                    raise ScenarioFileError(
                        f"{src}: {_describe(el)} lists the value {value!r} twice"
                    )
                options.append(value)
                seen.add(value)
            if not options:
                raise ScenarioFileError(f"{src}: {_describe(el)} has no <item> values")
            issues.append(_DomainIssue(index, name, "discrete", options=options, description=desc))
        elif kind == "integer":
            bounds = _bounds(el, src)
            if bounds is None:
                raise ScenarioFileError(
                    f"{src}: {_describe(el)} gives no bounds (lowerbound/upperbound attributes "
                    "or a <range> child)"
                )
            lo, hi = bounds
            if lo > hi:
                raise ScenarioFileError(
                    f"{src}: {_describe(el)}: lowerbound {lo} is above upperbound {hi}"
                )
            if hi - lo + 1 > 1_000_000:
                raise ScenarioFileError(
                    f"{src}: {_describe(el)}: {hi - lo + 1} values is too many (limit 1,000,000)"
                )
            issues.append(_DomainIssue(index, name, "integer", lo=lo, hi=hi, description=desc))
        elif kind == "real":
            raise ScenarioFileError(
                f"{src}: {_describe(el)} is real-valued; only discrete and integer issues can be "
                "imported exactly (a continuous range has no exact finite grid)"
            )
        else:
            raise ScenarioFileError(
                f"{src}: {_describe(el)} has an unknown type {el.attrib.get('type')!r} "
                "(expected discrete or integer)"
            )
    return _Domain(p, root.attrib.get("name", ""), issues)


# --------------------------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------------------------


@dataclass
class _Profile:
    path: Path
    weights: dict[str, float]
    values: dict[str, Any]
    evals: dict[str, np.ndarray]  # GENIUS's eval in [0, 1] per grid position
    formulas: dict[str, str]  # integer issues: the evaluator as written, for the metadata
    reservation: float | None
    discount: float | None


def _linear_eval(
    ev: ET.Element, issue: _DomainIssue, profile_bounds: tuple[int, int] | None, src: str
) -> tuple[np.ndarray, str]:
    """GENIUS's evaluation of every integer of the issue's range, and a short formula text."""
    where = f"{src}: issue {issue.name!r} > {_describe(ev)}"
    ftype = ev.attrib.get("ftype", "linear").strip().lower()
    x = np.arange(issue.lo, issue.hi + 1, dtype=np.int64)
    if ftype == "constant":
        c = _float(ev, "parameter0", src)
        if not 0.0 <= c <= 1.0:
            raise ScenarioFileError(f"{where}: a constant evaluation must lie in [0, 1] (got {c})")
        return np.full(len(x), c), f"{c}"
    if ftype != "linear":
        raise ScenarioFileError(
            f"{where}: evaluator type {ftype!r} is not supported (only linear and constant)"
        )
    if "slope" in ev.attrib or "offset" in ev.attrib:
        slope = _float(ev, "slope", src)
        offset = _float(ev, "offset", src)
        lb = profile_bounds[0] if profile_bounds is not None else issue.lo
        raw = slope * (x - lb).astype(float) + offset  # GENIUS: evalLinear(x - lowerBound)
        text = f"{offset} + {slope} * (x - {lb})"
    elif "parameter1" in ev.attrib or "parameter0" in ev.attrib:
        p1 = _float(ev, "parameter1", src)
        p0 = _float(ev, "parameter0", src)
        raw = p1 * x.astype(float) + p0  # old GENIUS: evalLinear(x, parameter1, parameter0)
        text = f"{p0} + {p1} * x"
    else:
        raise ScenarioFileError(
            f"{where}: a linear evaluator needs offset and slope (or parameter0 and parameter1)"
        )
    return np.clip(raw, 0.0, 1.0), text


def piecewise_points(lo: int, hi: int, evals: np.ndarray) -> list[tuple[float, float]]:
    """Points of a ``piecewise`` value shape that reproduce ``evals`` (values at lo..hi) exactly.

    Breakpoints are kept where the slope changes (clipping), so a clipped line needs a handful
    of points; any grid point the interpolation misses by more than 1e-14 is added until none
    does. Our piecewise scores are divided by their largest, so when GENIUS's best value is below
    1 a point (hi + 1, 1) is added just outside the range: it sets the divisor to 1 without
    touching any value on the grid."""
    evals = np.asarray(evals, dtype=float)
    n = len(evals)
    keep = {0, n - 1}
    if n > 2:
        second = np.abs(np.diff(evals, 2))
        keep.update((np.flatnonzero(second > 1e-12) + 1).tolist())
    grid = np.arange(lo, hi + 1, dtype=float)
    for _ in range(64):
        idx = sorted(keep)
        if len(idx) < 2:
            break
        err = np.abs(np.interp(grid, grid[idx], evals[idx]) - evals)
        worst = int(np.argmax(err))
        if err[worst] <= 1e-14:
            break
        keep.add(worst)
    else:
        keep = set(range(n))  # every grid point: exact by construction
    idx = sorted(keep)
    xs = [float(lo + k) for k in idx]
    ys = [float(evals[k]) for k in idx]
    if len(xs) < 2 or max(ys) < 1.0:
        xs.append(float(hi + 1))
        ys.append(1.0)
    return list(zip(xs, ys, strict=True))


def _check_additive(prof: ET.Element, src: str) -> None:
    for el in prof.iter():
        if el.tag in _NONLINEAR_TAGS:
            raise ScenarioFileError(
                f"{src}: {_describe(el)}: non-linear (hyper-rectangle/constraint) utility "
                "profiles are not supported; only linear additive profiles can be imported"
            )
    kind = (prof.attrib.get("type") or "").strip().lower()
    if kind in _NONLINEAR_SPACES:  # GENIUS reads any other type (e.g. "any") as linear
        raise ScenarioFileError(
            f"{src}: <{prof.tag} type={kind!r}>: only linear additive profiles are supported"
        )


def _read_profile(path: str | Path, domain: _Domain) -> _Profile:
    """Read one linear-additive GENIUS profile against a domain (issues matched by index)."""
    p = Path(path)
    src = str(path)
    root = _read_xml(p, "profile")
    space = _utility_space(root, src, "profile")
    _check_additive(space, src)
    objective = _root_objective(space, src)
    elements, weight_els = _walk(objective)
    by_index = domain.by_index()

    weights_by_index: dict[int, float] = {}
    for w in weight_els:
        idx = _int(w, "index", src)
        if idx not in by_index:
            continue  # the root objective's (or a sub-objective's) own weight: not an issue
        value = _float(w, "value", src)
        if value < 0:
            raise ScenarioFileError(f"{src}: {_describe(w)}: weights must be non-negative")
        if value > MAX_WEIGHT:  # sums would overflow; GENIUS weights are shares of 1
            raise ScenarioFileError(
                f"{src}: {_describe(w)}: weight {value:g} is out of range (GENIUS weights are "
                f"shares that sum to 1; at most {MAX_WEIGHT:g} is read)"
            )
        weights_by_index[idx] = value
    if not weight_els:
        raise ScenarioFileError(
            f"{src}: the profile has no <weight> elements (is this a domain file rather than a "
            "utility profile?)"
        )

    profile_issues: dict[int, ET.Element] = {}
    for el in elements:
        idx = _int(el, "index", src)
        if idx in by_index:
            profile_issues[idx] = el

    weights: dict[str, float] = {}
    values: dict[str, Any] = {}
    evals: dict[str, np.ndarray] = {}
    formulas: dict[str, str] = {}
    for issue in domain.issues:
        el = profile_issues.get(issue.index)
        if el is None:
            raise ScenarioFileError(
                f'{src}: the profile has no <issue index="{issue.index}"> for the domain\'s '
                f"issue {issue.name!r}; every issue needs an evaluation"
            )
        if issue.index not in weights_by_index:
            raise ScenarioFileError(
                f'{src}: the profile has no <weight index="{issue.index}"> for issue {issue.name!r}'
            )
        kind = _issue_type(el)
        if kind != issue.kind:
            raise ScenarioFileError(
                f"{src}: {_describe(el)} is {kind} in the profile but {issue.kind} in the domain"
            )
        weights[issue.name] = weights_by_index[issue.index]
        if issue.kind == "discrete":
            known = set(issue.options)
            scores: dict[str, float] = {}
            for item in el.findall("item"):  # direct children only: deeper <item>s are not options
                value = item.attrib.get("value")
                text = item.attrib.get("evaluation")
                if value is None or text is None or text.strip() == "null":
                    continue  # GENIUS skips items without an evaluation
                if value not in known:
                    raise ScenarioFileError(
                        f"{src}: {_describe(el)} > {_describe(item)}: the domain's issue "
                        f"{issue.name!r} has no value {value!r}"
                    )
                e = _float(item, "evaluation", src)
                if e < 0:
                    raise ScenarioFileError(
                        f"{src}: {_describe(el)} > {_describe(item)}: evaluations must be >= 0"
                    )
                scores[value] = e
            missing = [o for o in issue.options if o not in scores]
            if missing:
                raise ScenarioFileError(
                    f"{src}: {_describe(el)} gives no evaluation for "
                    f"{', '.join(repr(m) for m in missing)}"
                )
            top = max(scores.values())
            raw = np.array([scores[o] for o in issue.options], dtype=float)
            ev = raw / top if top >= EVAL_FLOOR else np.zeros(len(raw))
            values[issue.name] = {o: float(v) for o, v in zip(issue.options, ev, strict=True)}
            evals[issue.name] = ev
        else:
            ev_el = el.find("evaluator")
            if ev_el is None:
                raise ScenarioFileError(
                    f"{src}: {_describe(el)} is an integer issue without an <evaluator>"
                )
            ev, formulas[issue.name] = _linear_eval(ev_el, issue, _bounds(el, src), src)
            points = piecewise_points(issue.lo, issue.hi, ev)
            values[issue.name] = {"shape": "piecewise", "points": [list(pt) for pt in points]}
            evals[issue.name] = ev

    reservation = discount = None
    res = space.find("reservation")
    if res is None:
        res = next(space.iter("reservation"), None)
    if res is not None:
        reservation = _float(res, "value", src)
    disc = space.find("discount_factor")
    if disc is None:
        disc = next(space.iter("discount_factor"), None)
    if disc is not None:
        discount = _float(disc, "value", src)
    return _Profile(p, weights, values, evals, formulas, reservation, discount)


# --------------------------------------------------------------------------------------------
# Scenario
# --------------------------------------------------------------------------------------------


def _party_names(paths: list[Path]) -> tuple[list[str], list[str]]:
    """Party names from the profile file stems, made unique; and notes on any renaming."""
    names: list[str] = []
    notes: list[str] = []
    used: set[str] = set()
    for p in paths:
        base = p.stem or p.name
        name, k = base, 2
        while name in used:
            name = f"{base} ({k})"
            k += 1
        if name != base:
            notes.append(f"two profiles are named {base!r}; the one from {p} is called {name!r}")
        used.add(name)
        names.append(name)
    return names, notes


def _scenario_name(domain: _Domain) -> str:
    stem = domain.path.stem
    trimmed = re.sub(r"[-_ ]?domain$", "", stem, flags=re.IGNORECASE)
    return trimmed or stem or domain.objective_name or "GENIUS domain"


def import_genius(
    domain_path: str | Path,
    profile_paths: list[str | Path] | tuple[str | Path, ...],
    *,
    name: str | None = None,
) -> Scenario:
    """Read a GENIUS domain and its linear-additive profiles into a scenario (no deal yet).

    One party per profile, named after the profile file's stem (made unique when two collide;
    the renaming is noted in ``metadata["genius"]["notes"]``). Utilities equal GENIUS's: see the
    module docstring. Raises ``ScenarioFileError`` for anything that cannot be imported exactly.
    """
    paths = [Path(p) for p in profile_paths]
    if len(paths) < 2:
        raise ScenarioFileError(
            f"a negotiation needs at least two profiles (got {len(paths)}): "
            "give one profile file per party"
        )
    domain = _read_domain(domain_path)
    profiles = [_read_profile(p, domain) for p in paths]
    names, notes = _party_names(paths)

    parties: list[dict[str, Any]] = []
    discounts: dict[str, float] = {}
    sums: dict[str, float] = {}
    formulas: dict[str, dict[str, str]] = {}
    for pname, prof in zip(names, profiles, strict=True):
        src = str(prof.path)
        total = math.fsum(prof.weights.values())
        if total <= 0:
            raise ScenarioFileError(f"{src}: every issue weight is 0; the profile values nothing")
        weights = dict(prof.weights)
        best = math.fsum(w * float(prof.evals[i].max()) for i, w in weights.items())
        scale = None
        if SUM_TOL < abs(total - 1.0) <= ROUNDING_TOL:
            weights = {i: w / total for i, w in weights.items()}
            notes.append(
                f"{pname}: the weights sum to {total:.10g}, off from 1 by rounding in the file; "
                "they were divided by their sum so that they sum to 1 (utilities change by at "
                f"most {abs(1.0 - 1.0 / total):.2g} of the scale)"
            )
        elif abs(total - 1.0) > SUM_TOL:
            scale = total
            sums[pname] = total
            note = (
                f"{pname}: the weights sum to {total:.10g}, not 1; imported as written, with "
                "utilities on GENIUS's scale (a per-party utility_scale)"
            )
            if best > 1.0 + CAP_TOL:
                note += (
                    f". The best package scores {best:.10g}: GENIUS would cap every bid's "
                    "utility at 1, so bids scoring above 1 here would all be worth 1 there "
                    "(scale the <weight> values to sum to 1 to avoid the difference)"
                )
            notes.append(note)
        party: dict[str, Any] = {
            "name": pname,
            "description": f"GENIUS profile {prof.path.name}",
            "preferences": {"weights": weights, "values": prof.values},
        }
        if scale is not None:
            party["utility_scale"] = scale
        if prof.reservation is not None:
            party["reservation_value"] = prof.reservation
        if prof.discount is not None:
            discounts[pname] = prof.discount
        if prof.formulas:
            formulas[pname] = {i: f"clip({f}, 0, 1)" for i, f in prof.formulas.items()}
        parties.append(party)

    issues: list[dict[str, Any]] = []
    for issue in domain.issues:
        entry: dict[str, Any] = {"name": issue.name}
        if issue.description:
            entry["description"] = issue.description
        if issue.kind == "discrete":
            entry["options"] = list(issue.options)
        else:
            entry.update({"min": issue.lo, "max": issue.hi, "step": 1})
        issues.append(entry)

    genius_meta: dict[str, Any] = {
        "domain": domain.path.name,
        "profiles": {n: p.path.name for n, p in zip(names, profiles, strict=True)},
        "discount_factors": discounts,
    }
    if formulas:
        genius_meta["integer_evaluators"] = formulas
    if sums:
        genius_meta["weight_sums"] = sums
    if notes:
        genius_meta["notes"] = notes
    data: dict[str, Any] = {
        "name": name or _scenario_name(domain),
        "description": (
            f"Imported from the GENIUS domain {domain.path.name} with the profiles "
            + ", ".join(p.path.name for p in profiles)
            + ". Utilities equal GENIUS's; discount factors are kept in the metadata and "
            "ignored by the search."
        ),
        "utility_scale": 1,
        "parties": parties,
        "issues": issues,
        "metadata": {"genius": genius_meta},
    }
    from optimizer.scenario.files import scenario_from_data

    try:
        return scenario_from_data(data, source=str(domain_path))
    except ScenarioValidationError as e:
        lines = "; ".join(str(p) for p in e.problems)
        raise ScenarioFileError(
            f"{domain_path}: the imported scenario is not valid: {lines}"
        ) from None
