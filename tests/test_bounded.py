"""Bounded under heavy and hostile input (issue 15): one time budget per command, capped
frontiers and counts, numbers the solvers cannot handle, a deal on the table that breaks a rule.

Time assertions are only "the time limit is honoured", with a generous margin (limit + 10 s) for
a loaded 2-core machine; each heavy case runs in-process (no interpreter start-up counted).
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import numpy as np
import pytest
from heavy import many_issues

from optimizer.cli.main import main
from optimizer.engine.budget import check_time, current_budget, time_budget
from optimizer.engine.fastpath import nondominated
from optimizer.engine.reference import contradicting_rules, package_breaks, reference_breaks
from optimizer.engine.results import Termination
from optimizer.errors import TimeLimitReached, TooLargeError
from optimizer.scenario.files import scenario_from_data
from optimizer.scenario.models import Scenario
from optimizer.searches.frontier import frontier

ROOT = Path(__file__).resolve().parents[1]
SAAS = str(ROOT / "examples" / "saas_renewal.yaml")
MARGIN = 10.0


def _write(tmp_path: Path, data: dict, name: str = "s.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def _run(capsys, *argv: str) -> tuple[int, str, str, float]:
    t0 = time.perf_counter()
    try:
        code = main(list(argv))
    except SystemExit as e:  # argparse: a wrong command line
        code = int(e.code or 0)
    seconds = time.perf_counter() - t0
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, out.err, seconds


# --------------------------------------------------------------------------------------------
# The time budget
# --------------------------------------------------------------------------------------------


def test_budgets_nest_and_never_outlive_the_outer_one() -> None:
    assert current_budget().remaining() is None
    with time_budget(5) as outer:
        with time_budget(100) as inner:
            assert inner.deadline == outer.deadline  # an inner budget never ends later
        with time_budget(0.5) as short:
            assert short.deadline < outer.deadline  # type: ignore[operator]
    assert current_budget().remaining() is None
    with time_budget(1e-9):
        time.sleep(0.01)
        with pytest.raises(TimeLimitReached):
            check_time()


def test_a_solve_after_the_budget_returns_time_limit_at_once() -> None:
    import pulp

    from optimizer.engine.solvers import solve

    prob = pulp.LpProblem("p", pulp.LpMaximize)
    x = prob.add_variable("x", 0, 1, pulp.LpInteger)
    prob += x
    with time_budget(1e-9):
        time.sleep(0.01)
        t0 = time.perf_counter()
        out = solve(prob)
    assert out.termination == Termination.time_limit and not out.has_solution
    assert time.perf_counter() - t0 < 1.0


def test_the_pairwise_filter_stops_at_the_budget() -> None:
    rng = np.random.default_rng(0)
    U = rng.random((3000, 4))
    with time_budget(1e-9):
        time.sleep(0.01)
        with pytest.raises(TimeLimitReached):
            nondominated(U)
    assert len(nondominated(U)) > 0  # outside a budget it runs to the end


def test_frontier_200_issues_honours_the_time_limit(tmp_path: Path, capsys) -> None:
    path = _write(tmp_path, many_issues(200, 10, 2, seed=1))
    code, out, _, seconds = _run(capsys, "frontier", path, "--time-limit", "1", "--json")
    assert code == 0
    assert seconds < 1 + MARGIN
    res = json.loads(out)
    assert res["exact"] is False and res["packages"]
    assert res["notes"], "the reason for inexactness is given"
    # bounded memory: far fewer points than the 16,654 the issue saw growing without bound
    assert len(res["packages"]) <= 100_000 // 200


def test_frontier_with_cross_issue_rules_is_bounded_too(tmp_path: Path) -> None:
    s = scenario_from_data(many_issues(200, 10, 2, seed=2, linked=True))
    t0 = time.perf_counter()
    res = frontier(s, time_limit=1)
    assert time.perf_counter() - t0 < 1 + MARGIN
    assert not res.exact and res.packages
    assert res.status.termination in (Termination.time_limit, Termination.optimal)
    assert res.capped or res.status.termination == Termination.time_limit


def test_five_parties_twelve_issues_finish_within_the_limit() -> None:
    s = scenario_from_data(many_issues(12, 6, 5, seed=3))
    t0 = time.perf_counter()
    res = frontier(s, time_limit=2)
    assert time.perf_counter() - t0 < 2 + MARGIN
    assert res.packages
    if res.status.termination == Termination.time_limit:
        assert not res.exact and "time limit" in res.status.message
    # what is returned is non-dominated among itself and feasible (utilities re-evaluated)
    U = res.utility_matrix()
    assert len(nondominated(U)) == len(U)
    for p in res.packages:
        got = s.utilities([p.package])[0]
        assert np.allclose(got, [p.utilities[n] for n in s.party_names])


def test_forced_enumeration_of_ten_million_packages_stops_at_the_limit(capsys, tmp_path) -> None:
    path = _write(tmp_path, many_issues(7, 10, 2, seed=4, linked=True))
    code, out, _, seconds = _run(
        capsys, "frontier", path, "--method", "enumeration", "--time-limit", "1", "--json"
    )
    assert seconds < 1 + MARGIN
    res = json.loads(out)
    assert res["exact"] is False and res["status"] == "time_limit"
    assert any("of 10,000,000 packages" in n for n in res["notes"])
    assert code in (0, 1)


def test_questions_and_sensitivity_are_bounded_as_a_whole(tmp_path: Path, capsys) -> None:
    data = many_issues(30, 5, 3, seed=5, reference=True)
    for p in data["parties"][1:]:
        p["preferences"]["weights"] = {
            k: [max(0, v - 1), v, v + 2] for k, v in p["preferences"]["weights"].items()
        }
    path = _write(tmp_path, data)
    for command in ("questions", "sensitivity"):
        code, out, _, seconds = _run(capsys, command, path, "--time-limit", "1")
        assert seconds < 1 + MARGIN, command
        assert "not exact" in out, (command, out)
        assert code in (0, 1)
    code, out, _, _ = _run(capsys, "questions", path, "--time-limit", "1", "--json")
    assert json.loads(out)["exact"] is False


def test_a_million_value_issue_is_capped_not_exhausted() -> None:
    data = {
        "name": "million",
        "parties": [
            {
                "name": "A",
                "preferences": {
                    "weights": {"x": 1, "y": 1},
                    "values": {"x": {"shape": "increasing"}, "y": {"a": 1, "b": 0}},
                },
            },
            {
                "name": "B",
                "preferences": {
                    "weights": {"x": 1, "y": 1},
                    "values": {"x": {"shape": "peak", "peak": 300000}, "y": {"a": 0, "b": 1}},
                },
            },
        ],
        "issues": [{"name": "x", "min": 0, "max": 999999}, {"name": "y", "options": ["a", "b"]}],
    }
    s = scenario_from_data(data)
    res = frontier(s, time_limit=20, max_points=500)
    assert res.capped and not res.exact and 0 < len(res.packages) <= 500
    assert "capped" in res.status.message and "--max-points" in res.status.message


# --------------------------------------------------------------------------------------------
# Caps on counts
# --------------------------------------------------------------------------------------------


def test_max_points_caps_a_small_frontier_and_says_so(capsys) -> None:
    code, out, _, _ = _run(capsys, "frontier", SAAS, "--json")
    full = json.loads(out)
    assert full["exact"] is True and not full["capped"]
    n = len(full["packages"])
    assert n > 3
    code, out, _, _ = _run(capsys, "frontier", SAAS, "--json", "--max-points", "3")
    capped = json.loads(out)
    assert capped["capped"] is True and capped["exact"] is False
    assert 1 <= len(capped["packages"]) <= 3
    assert any(note.startswith("capped") for note in capped["notes"])
    utilities = {tuple(sorted(p["utilities"].items())) for p in full["packages"]}
    for p in capped["packages"]:  # here the thinning only drops points: the rest are exact
        assert tuple(sorted(p["utilities"].items())) in utilities


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["improve", SAAS, "--meso", "1000"], "--meso: must be from 1 to 10"),
        (["improve", SAAS, "--top", "1000"], "--top: must be from 1 to 100"),
        (["improve", SAAS, "--samples", "100000000"], "--samples: must be from 1 to 100,000"),
        (["proposal", SAAS, "--package", "1000"], "--package: must be from 1 to 100"),
        (["proposal", SAAS, "--meso", "26"], "--meso: must be from 1 to 10"),
        (["frontier", SAAS, "--max-points", "0"], "--max-points: must be from 1"),
        (["questions", SAAS, "-k", "1000"], "must be from 1 to 100"),
    ],
)
def test_counts_out_of_range_exit_2_with_the_range(capsys, argv, words) -> None:
    code, _, err, _ = _run(capsys, *argv)
    assert code == 2
    assert words in err


def test_samples_are_refused_before_allocating_what_cannot_fit() -> None:
    from optimizer.searches.sampling import sample

    s = Scenario.load(SAAS)
    with pytest.raises(TooLargeError, match="samples fit"):
        sample(s, 10**9)
    assert sample(s, 1000).n == 1000


def test_the_robust_milp_refuses_more_samples_than_it_can_hold() -> None:
    from optimizer.searches.robust import MAX_MILP_SAMPLES, robust_improve

    with pytest.raises(TooLargeError, match="at most"):
        robust_improve(Scenario.load(SAAS), 0.8, samples=MAX_MILP_SAMPLES + 1, method="milp")


def test_min_diff_beyond_the_issues_reports_the_real_bound(capsys) -> None:
    s = Scenario.load(SAAS)
    free = sum(1 for i in s.issues if i.status != "agreed" and i.size > 1)
    code, out, _, _ = _run(capsys, "improve", SAAS, "--min-diff", "1000", "--top", "3")
    assert f"at most {free} issues" in out
    assert "at least 1000 issues" not in out


def test_package_statistics_of_many_packages_stay_in_chunks() -> None:
    from optimizer.searches.sampling import STATS_CELLS, package_stats, sample

    s = Scenario.load(SAAS)
    samples = sample(s, 2000)
    rng = np.random.default_rng(0)
    index = np.stack([rng.integers(0, i.size, 1500) for i in s.issues], axis=1)
    assert 2000 * 1500 * len(s.parties) > STATS_CELLS  # several chunks
    stats = package_stats(s, index, samples)
    one = package_stats(s, index[-1:], samples)
    assert stats.win_win_count[-1] == one.win_win_count[0]
    assert stats.expected_gain[-1] == pytest.approx(one.expected_gain[0])


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------


def _base() -> dict:
    return {
        "name": "n",
        "parties": [
            {
                "name": "A",
                "preferences": {
                    "weights": {"price": 1, "y": 1},
                    "values": {"price": {"shape": "increasing"}, "y": {"a": 1, "b": 0}},
                },
            },
            {
                "name": "B",
                "preferences": {
                    "weights": {"price": 1, "y": 1},
                    "values": {"price": {"shape": "decreasing"}, "y": {"a": 0, "b": 1}},
                },
            },
        ],
        "issues": [
            {"name": "price", "min": 0, "max": 10, "value": 5},
            {"name": "y", "options": ["a", "b"], "value": "a"},
        ],
    }


def _extreme_cases() -> dict[str, tuple[dict, str]]:
    cases = {}
    c = _base()
    c["utility_scale"] = 1e308
    cases["utility_scale"] = (c, "utility_scale: utility_scale 1e+308 is outside")
    c = _base()
    c["constraints"] = [{"type": "budget", "costs": {"y": {"a": 1e300, "b": 1}}, "limit": 1e308}]
    cases["cost"] = (c, 'costs > "y" > "a": 1e+300 is out of range')
    c = _base()
    c["constraints"] = [{"type": "budget", "costs": {"y": {"a": -1e308, "b": 1}}, "limit": 10}]
    cases["negative cost"] = (c, "-1e+308 is out of range: a cost")
    c = _base()
    c["issues"][0] = {"name": "price", "min": -1e308, "max": 1e308, "step": 1e308}
    cases["range"] = (c, 'issue "price" > min: -1e+308 is out of range')
    c = _base()
    c["parties"][0]["utility_scale"] = 1e-300
    cases["party scale"] = (c, "utility_scale 1e-300 is outside")
    return cases


@pytest.mark.parametrize("case", list(_extreme_cases()))
def test_extreme_numbers_are_refused_with_located_messages(tmp_path: Path, capsys, case) -> None:
    data, words = _extreme_cases()[case]
    path = _write(tmp_path, data)
    for command in ("validate", "frontier", "improve", "summary"):
        code, _, err, _ = _run(capsys, command, path)
        assert code == 1, (command, err)
        assert words in err, (command, err)


def test_a_5000_digit_integer_is_refused_in_json_and_yaml(tmp_path: Path, capsys) -> None:
    text = json.dumps(_base()).replace('"max": 10', '"max": ' + "9" * 5000)
    (tmp_path / "big.json").write_text(text)
    import yaml

    ytext = yaml.safe_dump(_base()).replace("max: 10", "max: " + "9" * 5000)
    (tmp_path / "big.yaml").write_text(ytext)
    for name in ("big.json", "big.yaml"):
        code, _, err, _ = _run(capsys, "validate", str(tmp_path / name))
        assert code == 1
        assert 'issue "price" > max: must be a finite number' in err


def test_the_largest_accepted_numbers_still_solve(tmp_path: Path, capsys) -> None:
    c = _base()
    c["utility_scale"] = 1e6
    c["constraints"] = [{"type": "budget", "costs": {"y": {"a": 1e12, "b": 1}}, "limit": 1e12}]
    path = _write(tmp_path, c)
    code, out, err, _ = _run(capsys, "improve", path, "--json")
    assert code in (0, 1)
    res = json.loads(out)
    assert res["exact"] is True


def test_genius_weights_of_1e308_are_refused(tmp_path: Path, capsys) -> None:
    data = ROOT / "tests" / "data" / "genius"
    prof = (data / "traveller.xml").read_text(encoding="utf-8")
    import re

    bad = re.sub(r'(<weight index="1" value=")[^"]*"', r'\g<1>1e308"', prof, count=1)
    assert bad != prof
    (tmp_path / "bad.xml").write_text(bad, encoding="utf-8")
    code, _, err, _ = _run(
        capsys,
        "import-genius",
        str(data / "holiday-domain.xml"),
        str(tmp_path / "bad.xml"),
        str(data / "agency.xml"),
    )
    assert code == 1
    assert "weight 1e+308 is out of range" in err


# --------------------------------------------------------------------------------------------
# A deal on the table that breaks a rule
# --------------------------------------------------------------------------------------------


def _breaking() -> dict:
    c = _base()
    c["constraints"] = [{"type": "acceptable", "issue": "price", "max": 3, "party": "B"}]
    return c


def test_the_reference_check_matches_the_constraint_semantics() -> None:
    s = scenario_from_data(_breaking())
    breaks = reference_breaks(s)
    assert [b.label for b in breaks] == ["constraint 1"] and breaks[0].party == "B"
    # brute force: every package, the check against "price <= 3"
    for price in range(11):
        for y in ("a", "b"):
            broken = package_breaks(s, {"price": price, "y": y})
            assert bool(broken) == (price > 3)
    ok = _base()
    assert reference_breaks(scenario_from_data(ok)) == []


def test_validate_improve_and_proposal_on_a_breaking_reference(tmp_path: Path, capsys) -> None:
    path = _write(tmp_path, _breaking())
    code, out, err, _ = _run(capsys, "validate", path)
    assert code == 0  # a warning: the file is consistent, the searches still run
    assert "warning: constraint 1: the deal on the table breaks this rule" in err
    assert "B's maximum price of 3" in err
    code, out, err, _ = _run(capsys, "improve", path)
    assert "already on the Pareto frontier" not in out
    assert "The deal on the table breaks a hard rule (B's maximum price of 3)" in out
    code, out, err, _ = _run(capsys, "proposal", path)
    assert code == 1 and "no package to propose" in err
    assert "| price | open | 5 | 5 |" not in out


def test_contradictory_rules_are_reported(tmp_path: Path, capsys) -> None:
    c = _base()
    c["constraints"] = [
        {"type": "acceptable", "issue": "price", "max": 3},
        {"type": "acceptable", "issue": "price", "min": 6},
    ]
    s = scenario_from_data(copy.deepcopy(c))
    assert contradicting_rules(s) and "allow no value" in contradicting_rules(s)[0]
    path = _write(tmp_path, c)
    code, out, err, _ = _run(capsys, "validate", path)
    assert "the rules on 'price' allow no value at all" in err
    code, out, err, _ = _run(capsys, "improve", path)
    assert "already on the Pareto frontier" not in out
    assert "cannot both hold" in out
