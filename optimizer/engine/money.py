"""Gains in money: what a utility gain is worth in the scenario's money issue, for each side.

Utility points mean little to a buyer; "worth as much to them as 4 USD/month off the price" does.
The **money issue** is the issue named by the scenario's ``money_issue``, else the numeric issue
whose unit names a currency (``USD``, ``EUR``, ``kUSD/year``, ``$``, ``€``...) and that the sides
weight most (the sum of the parties' weight shares; the first such issue on a tie). A scenario
without one has no money equivalents (``money_issue`` returns None).

The **money equivalent** of a gain ``g`` for party ``p`` is how far the money issue would have to
move, from its value on the table, in the direction ``p`` prefers, to give ``p`` the same ``g``
utility points -- from ``p``'s own weight of that issue and its own value shape (a piecewise-linear
function of the amount; a peak shape walks towards the peak). A loss walks the other way. Where
the whole range of the issue is not worth ``g`` to ``p``, the equivalent is *outside the issue's
range*: the amount shown is the most the range can give (``outside=True``: "more than ..."). With no
value on the table the walk starts at the middle of the range.

``money_equivalents(scenario, gains)`` is the one implementation; the searches' results, the CLI,
the app and the proposal brief all call it (``annotate_money`` fills a result's packages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from optimizer.scenario.models import ValueShape, format_number
from optimizer.scenario.utility import weight_shares

if TYPE_CHECKING:
    from optimizer.scenario.models import Issue, Scenario

#: Currency codes and symbols recognised in a numeric issue's unit.
CURRENCIES = (
    "USD|EUR|GBP|CHF|JPY|CNY|CAD|AUD|NZD|SEK|NOK|DKK|PLN|CZK|HUF|INR|BRL|MXN|ZAR|SGD|HKD|KRW|"
    "RUB|TRY|ILS|AED|SAR|THB|IDR|MYR|PHP|VND|NGN|KES|EGP|ARS|CLP|COP|PEN|UAH|RON|BGN|ISK"
)
_CODE = re.compile(rf"(?<![A-Za-z])[kKmM]?(?:{CURRENCIES})(?![A-Za-z])")
_SYMBOL = re.compile(r"[$€£¥₹₩₽₺₪]")
#: Samples per unit interval of the range when inverting a value shape (plus its breakpoints).
_SAMPLES = 4001


def is_currency_unit(unit: str) -> bool:
    """True when a unit names money: a currency code (``USD``, ``kEUR/year``) or symbol."""
    return bool(_CODE.search(unit or "") or _SYMBOL.search(unit or ""))


def money_issue(scenario: Scenario) -> Issue | None:
    """The scenario's money issue (see the module docstring), or None."""
    named = getattr(scenario, "money_issue", None)
    if named:
        issue = scenario.issue(named)
        return issue if issue.is_numeric else None
    candidates = [
        (k, i) for k, i in enumerate(scenario.issues) if i.is_numeric and is_currency_unit(i.unit)
    ]
    if not candidates:
        return None
    shares = [weight_shares(scenario, p) for p in scenario.parties]
    best = max(candidates, key=lambda c: (sum(float(s[c[0]]) for s in shares), -c[0]))
    return best[1]


@dataclass(frozen=True)
class MoneyEquivalent:
    """One party's gain as an amount of the money issue."""

    party: str
    gain: float
    amount: float
    outside: bool
    """True when the issue's whole range is not worth the gain (``amount`` is what it can give)."""

    def text(self, issue: Issue) -> str:
        """'12 USD/month', '-3 USD/month' or 'more than 20 USD/month' (outside the range)."""
        shown = _amount_text(abs(self.amount), issue)
        sign = "-" if self.amount < 0 and not _is_zero(self.amount, issue) else ""
        if self.outside:
            return f"{'a loss of ' if self.gain < 0 else ''}more than {shown}"
        return f"{sign}{shown}"


def _is_zero(x: float, issue: Issue) -> bool:
    return abs(x) < _resolution(issue) / 2


def _resolution(issue: Issue) -> float:
    """How finely an amount is shown: a tenth of the issue's step, at least 1e-6."""
    return max(float(issue.step_size) / 10.0, 1e-6)


def round_amount(x: float, issue: Issue) -> float:
    """An amount rounded for people: whole units from 100 up, else two decimals."""
    digits = 0 if abs(x) >= 100 else 2
    return round(float(x), digits) + 0.0


def _amount_text(x: float, issue: Issue) -> str:
    value = round_amount(x, issue)
    text = format_number(value)
    if abs(value) >= 10000 and float(value).is_integer():
        text = f"{int(value):,}"
    return f"{text} {issue.unit}".strip()


def _curve(scenario: Scenario, party_pos: int, issue: Issue) -> tuple[np.ndarray, np.ndarray]:
    """(amounts, utility points) of one party's contribution from the money issue, dense."""
    party = scenario.parties[party_pos]
    k = scenario.issue_names.index(issue.name)
    lo, hi = float(issue.min), float(issue.max)  # type: ignore[arg-type]
    xs = np.linspace(lo, hi, _SAMPLES)
    spec = party.preferences.values.get(issue.name)
    extra: list[float] = [float(issue.value)] if isinstance(issue.value, float | int) else []
    if isinstance(spec, ValueShape):
        if spec.points:
            extra += [float(p[0]) for p in spec.points]
        if spec.peak is not None:
            extra.append(float(spec.peak))
    xs = np.unique(np.clip(np.concatenate([xs, np.array(extra, dtype=float)]), lo, hi))
    share = float(weight_shares(scenario, party)[k])
    scale = party.utility_scale if party.utility_scale is not None else scenario.utility_scale
    if isinstance(spec, ValueShape):
        values = spec.evaluate(xs, lo, hi)
    else:
        values = np.zeros_like(xs)
    return xs, scale * share * values


def _walk(xs: np.ndarray, ys: np.ndarray, x0: float, target: float) -> tuple[float, bool]:
    """The smallest move from x0 reaching utility ``target`` on the piecewise-linear curve.

    Returns (distance, outside): when no point of the range reaches the target, the distance to
    the point that comes closest (the best the range can do) and outside=True."""
    y0 = float(np.interp(x0, xs, ys))
    up = target >= y0
    best: float | None = None
    for direction in (1, -1):
        order = xs >= x0 if direction == 1 else xs <= x0
        px, py = xs[order], ys[order]
        if direction == -1:
            px, py = px[::-1], py[::-1]
        px = np.concatenate([[x0], px])
        py = np.concatenate([[y0], py])
        hit = py >= target - 1e-12 if up else py <= target + 1e-12
        if not hit.any():
            continue
        j = int(np.argmax(hit))
        if j == 0:
            return 0.0, False
        a, b = py[j - 1], py[j]
        t = 1.0 if b == a else (target - a) / (b - a)
        x = px[j - 1] + t * (px[j] - px[j - 1])
        d = abs(float(x) - x0)
        best = d if best is None else min(best, d)
    if best is not None:
        return best, False
    j = int(np.argmax(ys)) if up else int(np.argmin(ys))
    return abs(float(xs[j]) - x0), True


def money_equivalents(
    scenario: Scenario, gains: dict[str, float | None]
) -> dict[str, MoneyEquivalent | None] | None:
    """Each party's gain as an amount of the money issue (None where it has no gain or does not
    care about the money issue); None when the scenario has no money issue."""
    issue = money_issue(scenario)
    if issue is None:
        return None
    lo, hi = float(issue.min), float(issue.max)  # type: ignore[arg-type]
    x0 = float(issue.value) if isinstance(issue.value, float | int) else (lo + hi) / 2
    out: dict[str, MoneyEquivalent | None] = {}
    for j, p in enumerate(scenario.party_names):
        g = gains.get(p)
        if g is None:
            out[p] = None
            continue
        xs, ys = _curve(scenario, j, issue)
        if float(np.ptp(ys)) <= 1e-12:
            out[p] = None
            continue
        y0 = float(np.interp(x0, xs, ys))
        dist, outside = _walk(xs, ys, x0, y0 + float(g))
        amount = dist if g >= 0 else -dist
        out[p] = MoneyEquivalent(party=p, gain=float(g), amount=float(amount), outside=outside)
    return out


def money_fields(
    scenario: Scenario, gains: dict[str, float] | None
) -> tuple[dict[str, float | None], list[str]] | None:
    """(party -> rounded amount, parties whose amount is outside the range) for JSON; None
    without a money issue or gains."""
    if gains is None:
        return None
    eq = money_equivalents(scenario, dict(gains))
    issue = money_issue(scenario)
    if eq is None or issue is None:
        return None
    amounts = {p: None if e is None else round_amount(e.amount, issue) for p, e in eq.items()}
    outside = [p for p, e in eq.items() if e is not None and e.outside]
    return amounts, outside


def annotate_money(scenario: Scenario, result: Any) -> Any:
    """Fill ``gains_money`` (and ``gains_money_outside``) of every package of a search result,
    and the result's ``money_issue`` / ``money_unit``; returns the result."""
    issue = money_issue(scenario)
    if issue is None:
        return result
    if hasattr(result, "money_issue"):
        result.money_issue = issue.name
        result.money_unit = issue.unit
    annotate_packages(
        scenario, getattr(result, "packages", []), getattr(result, "reference_utilities", None)
    )
    return result


def annotate_packages(
    scenario: Scenario, packages: list[Any], reference: dict[str, float] | None = None
) -> list[Any]:
    """Fill ``gains_money`` / ``gains_money_outside`` of ``PackageResult`` objects (their gains,
    else utility minus ``reference``); returns the list."""
    if money_issue(scenario) is None:
        return packages
    for pkg in packages:
        gains = pkg.gains
        if gains is None and reference:
            gains = {p: pkg.utilities[p] - reference[p] for p in pkg.utilities if p in reference}
        fields = money_fields(scenario, gains)
        if fields is not None:
            pkg.gains_money, pkg.gains_money_outside = fields
    return packages


def money_texts(scenario: Scenario, gains: dict[str, float | None]) -> dict[str, str] | None:
    """Party -> the gain's money equivalent as text ('4 USD/month'); None without a money issue."""
    issue = money_issue(scenario)
    eq = money_equivalents(scenario, gains)
    if issue is None or eq is None:
        return None
    return {p: ("-" if e is None else e.text(issue)) for p, e in eq.items()}
