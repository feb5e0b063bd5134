"""Preferences fitted to statements and offers (issue 13): the LP's ranges against brute force,
contradictions, offers recovering an issue ranking, and the ``dealopt estimate`` contract."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from optimizer import Scenario
from optimizer.cli.main import main
from optimizer.errors import ScenarioValidationError
from optimizer.searches.estimate import (
    EQUAL_TOL,
    MARGIN,
    SWING_FACTOR,
    add_statement,
    apply_estimate,
    estimate,
    next_question,
)

OPTS = {"a": ["a0", "a1", "a2"], "b": ["b0", "b1", "b2"], "c": ["c0", "c1"]}


def _scenario(statements: list, history: list | None = None, extra_issue: bool = False) -> Scenario:
    issues = [{"name": k, "options": v} for k, v in OPTS.items()]
    if extra_issue:
        issues.append({"name": "price", "min": 0, "max": 4, "step": 1, "unit": "k"})
    flat = {
        "weights": {k: 1 for k in OPTS},
        "values": {k: {o: 1 for o in v} for k, v in OPTS.items()},
    }
    return Scenario.from_dict(
        {
            "name": "t",
            "parties": [
                {"name": "Us", "preferences": flat},
                {"name": "Them", "preferences": flat, "statements": statements},
            ],
            "issues": issues,
            "history": history or [],
        }
    )


# ---------------------------------------------------------------------------- brute force

ORDERS = [
    {"issue": "a", "order": ["a2", "a1", "a0"]},
    {"issue": "b", "order": ["b0", "b1", "b2"]},
    {"issue": "c", "order": ["c1", "c0"]},
]
BEST = {"a": "a2", "b": "b0", "c": "c1"}
WORST = {"a": "a0", "b": "b2", "c": "c0"}
MID = {"a": "a1", "b": "b1"}


def _u(w: dict[str, float], mid: dict[str, float], pkg: dict[str, str]) -> float:
    """Utility of a partial package under weights ``w`` and middle-option values ``mid``."""
    total = 0.0
    for k, o in pkg.items():
        v = 1.0 if o == BEST[k] else 0.0 if o == WORST[k] else mid[k]
        total += w[k] * v
    return total


def _holds(st: dict, w: dict[str, float], mid: dict[str, float], tol: float = 1e-9) -> bool:
    if "prefers" in st:
        return _u(w, mid, st["prefers"]) - _u(w, mid, st["over"]) >= MARGIN - tol
    if "equal" in st:
        return abs(_u(w, mid, st["equal"][0]) - _u(w, mid, st["equal"][1])) <= EQUAL_TOL + 1e-9
    if "swing" in st:
        ratio_lo, ratio_hi = st["times"] / SWING_FACTOR, st["times"] * SWING_FACTOR
        a, b = w[st["swing"]], w[st["than"]]
        return a >= ratio_lo * b - 1e-9 and a <= ratio_hi * b + 1e-9 and b >= MARGIN - 1e-9
    order = st["order"]
    return all(
        _u(w, mid, {st["issue"]: x}) - _u(w, mid, {st["issue"]: y}) >= MARGIN - 1e-9
        for x, y in itertools.pairwise(order)
    )


def _random_statements(rng: np.random.Generator, truth_w, truth_mid, n: int) -> list[dict]:
    """Statements a party with the given true utility would make (so they are consistent)."""
    out = list(ORDERS)
    packages = [dict(zip(OPTS, combo, strict=True)) for combo in itertools.product(*OPTS.values())]
    while len(out) < len(ORDERS) + n:
        p, q = rng.choice(len(packages), 2, replace=False)
        keys = [k for k in OPTS if packages[p][k] != packages[q][k]]
        a = {k: packages[p][k] for k in keys}
        b = {k: packages[q][k] for k in keys}
        d = _u(truth_w, truth_mid, a) - _u(truth_w, truth_mid, b)
        if abs(d) <= MARGIN * 2:
            continue
        out.append({"prefers": a, "over": b} if d > 0 else {"prefers": b, "over": a})
    return out


@pytest.mark.parametrize("seed", range(6))
def test_ranges_contain_every_consistent_vector(seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth_w = dict(zip(OPTS, rng.dirichlet(np.ones(3)), strict=True))
    truth_mid = {k: float(rng.uniform(0.1, 0.9)) for k in MID}
    statements = _random_statements(rng, truth_w, truth_mid, n=4 + seed)
    if seed % 2:
        statements.append({"swing": "a", "times": 1.5, "than": "c"})
    est = estimate(_scenario(statements), "Them")
    inside = outside = 0
    for _ in range(4000):
        w = dict(zip(OPTS, rng.dirichlet(np.ones(3)), strict=True))
        mid = {k: float(rng.uniform()) for k in MID}
        consistent = all(_holds(st, w, mid) for st in statements)
        in_ranges = all(
            est.weights[k].low - 1e-6 <= w[k] <= est.weights[k].high + 1e-6 for k in OPTS
        ) and all(
            est.values[k][MID[k]].low - 1e-6 <= mid[k] <= est.values[k][MID[k]].high + 1e-6
            for k in MID
        )
        if consistent:
            inside += 1
            assert in_ranges, (w, mid, est.to_dict())
        if not in_ranges:
            outside += 1
            assert not consistent
    assert inside > 0 and outside > 0  # both sides of the test were exercised
    if not any("swing" in st for st in statements):
        assert est.consistent
    # the likely point is itself consistent (up to the 6 decimals the estimate is reported with)
    w = {k: r.likely for k, r in est.weights.items()}
    mid = {k: est.values[k][MID[k]].likely for k in MID}
    assert all(_holds(st, w, mid, tol=1e-5) for st in statements if "prefers" in st)


def test_ranges_are_attained_and_shrink_with_evidence() -> None:
    few = estimate(_scenario(ORDERS), "Them")
    more = estimate(
        _scenario(ORDERS + [{"prefers": {"a": "a2", "b": "b2"}, "over": {"a": "a0", "b": "b0"}}]),
        "Them",
    )
    for k in OPTS:
        assert few.weights[k].low <= more.weights[k].low + 1e-9
        assert more.weights[k].high <= few.weights[k].high + 1e-9
    # a's swing beats b's (w_a >= w_b + m); c's order needs w_c >= m, b's order w_b >= 2m:
    # so w_b <= (1 - 2m) / 2 and w_a <= 1 - 3m, both attained
    assert more.weights["b"].high == pytest.approx((1 - 2 * MARGIN) / 2, abs=1e-6)
    assert more.weights["a"].high == pytest.approx(1 - 3 * MARGIN, abs=1e-6)
    assert more.weights["c"].low == pytest.approx(MARGIN, abs=1e-6)


# ---------------------------------------------------------------------------- contradictions


def test_contradictory_statements_are_reported_not_fatal() -> None:
    st = [
        {"prefers": {"a": "a1"}, "over": {"a": "a0"}},
        {"prefers": {"a": "a0"}, "over": {"a": "a1"}},
    ]
    s = _scenario(st)
    assert any("contradicts statement 1" in p.message for p in s.warnings())
    est = estimate(s, "Them")
    assert not est.consistent
    locs = {i.location for i in est.inconsistencies}
    assert locs <= {'party "Them" > statements > 1', 'party "Them" > statements > 2'} and locs
    assert sum(i.shortfall for i in est.inconsistencies) == pytest.approx(
        2 * MARGIN * 100, rel=1e-4
    )
    data = est.to_dict()
    assert data["consistent"] is False and data["inconsistencies"][0]["statement"]


def test_cycle_is_an_inconsistency() -> None:
    st = [
        {"prefers": {"a": "a0"}, "over": {"a": "a1"}},
        {"prefers": {"a": "a1"}, "over": {"a": "a2"}},
        {"prefers": {"a": "a2"}, "over": {"a": "a0"}},
        {"swing": "b", "times": 4, "than": "c"},
        {"swing": "c", "times": 4, "than": "b"},
    ]
    est = estimate(_scenario(st), "Them")
    texts = " ".join(i.location for i in est.inconsistencies)
    assert "statements > 4" in texts or "statements > 5" in texts
    assert any(f"statements > {n}" in texts for n in (1, 2, 3))


@pytest.mark.parametrize(
    "statement, where, what",
    [
        (
            {"prefers": {"nope": "a0"}, "over": {"nope": "a1"}},
            "statements > 1 > prefers",
            "unknown issue",
        ),
        ({"prefers": {"a": "zz"}, "over": {"a": "a1"}}, 'statements > 1 > prefers > "a"', "'zz'"),
        ({"prefers": {"a": "a0", "b": "b1"}, "over": {"a": "a1"}}, "statements > 1", "only one"),
        ({"prefers": {"a": "a0"}, "over": {"a": "a0"}}, "statements > 1", "the same"),
        ({"issue": "a", "order": ["a0", "a0"]}, "statements > 1 > order", "more than once"),
        ({"issue": "q", "order": ["a0", "a1"]}, "statements > 1 > issue", "unknown issue"),
        ({"swing": "a", "times": 2, "than": "zz"}, "statements > 1 > than", "unknown issue"),
        ({"swing": "a", "times": 2, "than": "a"}, "statements > 1", "two different"),
    ],
)
def test_bad_statements_are_located(statement: dict, where: str, what: str) -> None:
    with pytest.raises(ScenarioValidationError) as e:
        _scenario([statement])
    msgs = [str(p) for p in e.value.problems]
    assert any(where in m and what in m for m in msgs), msgs


# ---------------------------------------------------------------------------- offers


def _concession_log(true_w: dict[str, float], rounds: int = 8) -> list[dict]:
    """Them concedes from its best package by its true utility; Us asks for Them's worst."""
    packages = [dict(zip(OPTS, combo, strict=True)) for combo in itertools.product(*OPTS.values())]

    def u(p: dict[str, str]) -> float:
        return sum(true_w[k] * (OPTS[k].index(p[k]) / (len(OPTS[k]) - 1)) for k in OPTS)

    ranked = sorted(packages, key=u, reverse=True)
    log = []
    for r in range(rounds):
        day = f"2025-01-{2 * r + 1:02d}"
        ours = ranked[-1 - r]
        theirs = ranked[min(len(ranked) - 1, (r * len(ranked)) // (2 * rounds))]
        log.append({"date": day, "by": "Us", "package": ours})
        log.append({"date": f"2025-01-{2 * r + 2:02d}", "by": "Them", "package": theirs})
    return log


def test_offers_recover_the_issue_ranking() -> None:
    true_w = {"a": 0.6, "b": 0.3, "c": 0.1}
    s = _scenario([], history=_concession_log(true_w))
    est = estimate(s, "Them")
    assert est.consistent
    assert est.evidence["offers"] == 8
    likely = {k: r.likely for k, r in est.weights.items()}
    assert sorted(likely, key=likely.get, reverse=True) == ["a", "b", "c"]
    assert est.best["a"] == "a2" and est.worst["a"] == "a0"
    # without the offers nothing is known
    assert estimate(s, "Them", offers=False).weights["a"].high == pytest.approx(1.0)


# ---------------------------------------------------------------------------- next question


def test_next_question_splits_and_answers_narrow_the_ranges() -> None:
    s = _scenario(ORDERS)
    truth_w = {"a": 0.5, "b": 0.35, "c": 0.15}
    truth_mid = {"a": 0.3, "b": 0.7}
    width0 = sum(r.high - r.low for r in estimate(s, "Them").weights.values())
    for _ in range(4):
        q = next_question(s, "Them")
        assert q.informative
        assert 1 <= len(q.prefers) <= 2 and set(q.prefers) == set(q.over)
        d = _u(truth_w, truth_mid, q.prefers) - _u(truth_w, truth_mid, q.over)
        choice = "equal" if abs(d) <= EQUAL_TOL else "first" if d > 0 else "second"
        s = add_statement(s, "Them", q.answer(choice))
    est = estimate(s, "Them")
    assert est.consistent
    width = sum(r.high - r.low for r in est.weights.values())
    assert width < width0 * 0.7
    for k, w in truth_w.items():
        assert est.weights[k].low - 1e-6 <= w <= est.weights[k].high + 1e-6


def test_numeric_issue_gets_a_fitted_shape() -> None:
    st = ORDERS + [
        {"prefers": {"price": 0}, "over": {"price": 4}},
        {"prefers": {"price": 2, "a": "a0"}, "over": {"price": 4, "a": "a2"}},
    ]
    s = _scenario(st, extra_issue=True)
    open_est = estimate(s, "Them")
    assert "price" in open_est.assumed_order  # nothing says whether 0 or 2 is best
    data = s.to_dict()
    data["parties"][1]["preferences"]["values"]["price"] = {"shape": "decreasing"}
    est = estimate(Scenario.from_dict(data), "Them")
    pts = est.shapes["price"]
    assert [x for x, _ in pts] == [0, 1, 2, 3, 4]
    assert pts[0][1].likely == 1.0 and pts[-1][1].likely == 0.0
    assert all(a.likely >= b.likely for (_, a), (_, b) in itertools.pairwise(pts))
    assert "price" not in est.assumed_order and est.consistent
    # price 2 vs 4 outweighs a's whole swing, so price's weight exceeds a's
    assert est.weights["price"].low >= est.weights["a"].low


# ---------------------------------------------------------------------------- CLI


@pytest.fixture
def scenario_file(tmp_path):
    s = _scenario(ORDERS + [{"prefers": {"a": "a2", "b": "b2"}, "over": {"a": "a0", "b": "b0"}}])
    path = tmp_path / "s.yaml"
    s.save(path)
    return path


def test_cli_json_contract(scenario_file, capsys) -> None:
    assert main(["estimate", str(scenario_file), "--party", "Them", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["party"] == "Them"
    assert set(data["weights"]) == set(OPTS)
    for r in data["weights"].values():
        assert set(r) >= {"low", "likely", "high"} and r["low"] <= r["likely"] <= r["high"]
    assert set(data["values"]["a"]) == set(OPTS["a"])
    assert data["values"]["a"]["a2"] == {"low": 1.0, "likely": 1.0, "high": 1.0}
    assert data["inconsistencies"] == []
    assert main(["estimate", str(scenario_file), "--party", "Them", "--next", "--json"]) == 0
    q = json.loads(capsys.readouterr().out)
    assert set(q) >= {"prefers", "over"}
    for pkg in (q["prefers"], q["over"]):
        for k, v in pkg.items():
            assert v in OPTS[k]


def test_cli_writes_ranges_and_refuses_overwrite(scenario_file, tmp_path, capsys) -> None:
    out = tmp_path / "fitted.yaml"
    assert main(["estimate", str(scenario_file), "--party", "Them", "-o", str(out)]) == 0
    fitted = Scenario.load(out)
    them = fitted.party("Them")
    assert them.statements and len(them.statements) == 4
    w = them.preferences.weights["a"]
    assert w.low <= w.likely <= w.high and w.high > w.low
    capsys.readouterr()
    before = out.read_text()
    assert main(["estimate", str(scenario_file), "--party", "Them", "-o", str(out)]) == 1
    assert "--force" in capsys.readouterr().err
    assert out.read_text() == before
    assert main(["estimate", str(scenario_file), "--party", "Them", "-o", str(out), "--force"]) == 0


def test_cli_unknown_party_is_a_message(scenario_file, capsys) -> None:
    assert main(["estimate", str(scenario_file), "--party", "Nobody"]) == 1
    err = capsys.readouterr().err
    assert "Nobody" in err and "Them" in err and "Traceback" not in err


def test_apply_estimate_keeps_the_scenario_valid() -> None:
    s = Scenario.load("examples/job_offer.yaml")
    fitted = apply_estimate(s, estimate(s, "Lumen Analytics"))
    assert fitted.party("Lumen Analytics").preferences.values["salary"].shape == "piecewise"
    assert fitted.party("Priya Natarajan").preferences == s.party("Priya Natarajan").preferences


def test_likely_stays_at_the_typed_guess_when_the_evidence_allows_and_moves_when_not() -> None:
    data = _scenario([{"prefers": {"a": "a2"}, "over": {"a": "a0"}}]).to_dict()
    them = data["parties"][1]
    them["preferences"] = {
        "weights": {"a": 3, "b": 2, "c": 1},
        "values": {
            "a": {"a0": 0, "a1": 40, "a2": 100},
            "b": {"b0": 100, "b1": 50, "b2": 0},
            "c": {"c0": 0, "c1": 100},
        },
    }
    est = estimate(Scenario.from_dict(data), "Them")
    assert est.prior == "current"
    assert {k: r.likely for k, r in est.weights.items()} == pytest.approx(
        {"a": 0.5, "b": 1 / 3, "c": 1 / 6}, abs=1e-6
    )
    assert est.values["a"]["a1"].likely == pytest.approx(0.4, abs=1e-6)
    # "c's swing beats a's" contradicts the guess: the likely point moves just enough
    them["statements"].append({"prefers": {"a": "a0", "c": "c1"}, "over": {"a": "a2", "c": "c0"}})
    est = estimate(Scenario.from_dict(data), "Them")
    w = {k: r.likely for k, r in est.weights.items()}
    assert w["c"] >= w["a"] + MARGIN - 1e-6
    assert est.values["a"]["a1"].likely == pytest.approx(0.4, abs=1e-6)  # the shape is kept
