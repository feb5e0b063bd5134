"""One output rounding for every command (issue 11): no float noise, the same numbers in JSON and
text; status words that say what happened; probabilities that never round to certainty."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optimizer.cli.improve import format_improve
from optimizer.cli.main import main
from optimizer.scenario.models import (
    Scenario,
    format_number,
    format_percent,
    number_out,
    numbers_out,
)
from optimizer.searches.improve import improve

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def test_number_out_drops_float_noise() -> None:
    assert number_out(47.00000000000001) == 47 and isinstance(number_out(47.00000000000001), int)
    assert number_out(0.1 + 0.2) == 0.3
    assert number_out(-0.0) == 0 and number_out(5.0) == 5
    assert number_out(12345678901234567) == 12345678901234567  # Python ints stay exact
    assert number_out(1 / 3) == 0.333333333333
    assert number_out(float("inf")) == float("inf")
    assert numbers_out({"a": [0.1 + 0.2, True, "x", None], "b": 47.00000000000001}) == {
        "a": [0.3, True, "x", None],
        "b": 47,
    }
    assert format_number(47.00000000000001) == "47"
    assert format_number(2.5) == "2.5"


def test_percentages_never_round_to_certainty() -> None:
    """Issue 11: P(win-win) 0.9977 printed as "100%"."""
    assert format_percent(0.9977) == "> 99%"
    assert format_percent(0.003) == "< 1%"
    assert format_percent(1.0) == "100%" and format_percent(0.0) == "0%"
    assert format_percent(0.87) == "87%"
    assert format_percent(0.9996, 1) == "> 99.9%"
    assert format_percent(0.0004, 1) == "< 0.1%"
    assert format_percent(0.994) == "99%"


def _noisy(x: object) -> list[float]:
    """Every float in a JSON value that carries float noise (more than 12 significant digits)."""
    if isinstance(x, dict):
        return [v for item in x.values() for v in _noisy(item)]
    if isinstance(x, list):
        return [v for item in x for v in _noisy(item)]
    if isinstance(x, float) and float(f"{x:.12g}") != x:
        return [x]
    return []


@pytest.mark.parametrize("example", ["job_offer.yaml", "saas_renewal.yaml"])
def test_json_numbers_carry_no_float_noise(example: str, capsys) -> None:
    path = str(EXAMPLES / example)
    for command in (["frontier", path, "--json"], ["improve", path, "--json", "--top", "3"]):
        main(command)
        data = json.loads(capsys.readouterr().out)
        assert _noisy(data) == [], command


def test_improve_and_frontier_print_the_same_numbers(capsys) -> None:
    """Issue 11: the same SaaS package was 47.0 in improve --json, 47.00000000000001 in
    frontier --json."""
    path = str(EXAMPLES / "saas_renewal.yaml")
    main(["improve", path, "--json", "--top", "3"])
    improved = json.loads(capsys.readouterr().out)["packages"]
    main(["frontier", path, "--json"])
    front = json.loads(capsys.readouterr().out)["packages"]
    by_package = {json.dumps(p["package"], sort_keys=True): p["utilities"] for p in front}
    shared = 0
    for p in improved:
        key = json.dumps(p["package"], sort_keys=True)
        if key in by_package:
            shared += 1
            assert by_package[key] == p["utilities"]
    assert shared  # the best max-min package is on the frontier


INFEASIBLE = {
    "name": "no package fits",
    "parties": [
        {"name": "A", "preferences": {"weights": {"x": 1}, "values": {"x": {"a": 0, "b": 10}}}},
        {"name": "B", "preferences": {"weights": {"x": 1}, "values": {"x": {"a": 10, "b": 0}}}},
    ],
    "issues": [{"name": "x", "options": ["a", "b"], "value": "a"}],
    "constraints": [
        {"type": "acceptable", "party": "A", "issue": "x", "options": ["b"]},
        {"type": "acceptable", "party": "B", "issue": "x", "options": ["a"]},
    ],
}


def test_an_infeasible_scenario_never_says_optimal(tmp_path: Path, capsys) -> None:
    """Issue 11: an infeasible scenario reported "status": "optimal" (with a correct reason)."""
    path = tmp_path / "infeasible.json"
    path.write_text(json.dumps(INFEASIBLE), encoding="utf-8")
    for command in ("improve", "frontier"):
        assert main([command, str(path), "--json"]) == 1
        data = json.loads(capsys.readouterr().out)
        assert data["status"] == "infeasible" and data["exact"] is True
        assert data["packages"] == [] and data["explanation"]
    # a feasible scenario with no Pareto-improving package stays "optimal": that is a proof
    fits = dict(INFEASIBLE, constraints=[])
    r = improve(Scenario.from_dict(fits))
    assert r.packages == [] and r.status.termination.value == "optimal"


def test_text_output_marks_probabilities_and_nash_fallback() -> None:
    s = Scenario.from_dict(
        {
            "name": "one issue",
            "parties": [
                {
                    "name": "us",
                    "preferences": {
                        "weights": {"x": 1},
                        "values": {"x": {"a": 0, "b": 30, "c": 100, "d": 0}},
                    },
                },
                {
                    "name": "them",
                    "preferences": {
                        "weights": {"x": 1},
                        "values": {"x": {"a": 0, "b": 100, "c": 0, "d": 50}},
                    },
                },
            ],
            "issues": [{"name": "x", "options": ["a", "b", "c", "d"], "value": "a"}],
        }
    )
    r = improve(s, objective="nash", top=3)
    r.packages[0].p_win_win = 0.9977
    r.packages[1].p_win_win = 0.004
    text = format_improve(s, r)
    assert "> 99%" in text and "< 1%" in text and "100%" not in text
    assert "#2-#3 leave some party with no gain" in text
