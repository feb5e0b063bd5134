"""Every search command rejects the same bad option values with the same message (exit 2)."""

from __future__ import annotations

import pytest

from optimizer.cli.main import main

EXAMPLE = "examples/saas_renewal.yaml"
COMMANDS = [
    ["improve", EXAMPLE],
    ["frontier", EXAMPLE],
    ["summary", EXAMPLE],
    ["proposal", EXAMPLE],
    ["questions", EXAMPLE],
    ["sensitivity", EXAMPLE],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "must be a positive number of seconds (got -1)"),
        ("0", "must be a positive number of seconds (got 0)"),
        ("nan", "must be a positive number of seconds (got nan)"),
        ("inf", "must be a positive number of seconds (got inf)"),
        ("soon", "expected a number of seconds, got 'soon'"),
    ],
)
def test_bad_time_limit_exits_2_with_a_sentence(command, value, message, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main([*command, "--time-limit", value])
    assert e.value.code == 2
    assert f"argument --time-limit: {message}" in capsys.readouterr().err


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_unknown_solver_exits_2(command, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main([*command, "--solver", "gurobi"])
    assert e.value.code == 2
    assert "invalid choice: 'gurobi'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--top", "0"], "argument --top: must be from 1 to 100 packages (got 0)"),
        (["--top", "x"], "argument --top: expected a whole number, got 'x'"),
        (["--robust", "1.5"], "argument --robust: ALPHA must be in (0, 1] (got 1.5)"),
        (["--seed", "-3"], "argument --seed: must be 0 or more (got -3)"),
    ],
)
def test_improve_counts_and_probabilities(argv, message, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(["improve", EXAMPLE, *argv])
    assert e.value.code == 2
    assert message in capsys.readouterr().err
