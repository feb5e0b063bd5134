"""The command line: ``dealopt`` / ``python -m optimizer``.

Each subcommand lives in its own module exposing ``register(subparsers)``; the module is imported
only when the command line is built, and heavy imports (PuLP, plotting) happen inside the handlers,
so ``dealopt validate`` starts lean. Exit codes: 0 success, 1 bad input or no result, 2 a wrong
command line (argparse).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from optimizer.engine.budget import time_budget
from optimizer.errors import DealoptError, ModelError, ScenarioFileError, ScenarioValidationError

#: Modules that add subcommands (each has ``register(subparsers)``).
COMMAND_MODULES: list[str] = [
    "optimizer.cli.validate",
    "optimizer.cli.improve",
    "optimizer.cli.genius",
    "optimizer.cli.frontier",
    "optimizer.cli.report",
    "optimizer.cli.uncertainty",
    "optimizer.cli.estimate",
    "optimizer.cli.sheets",
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with a short usage line
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dealopt",
        description="Find Pareto-improving package deals for multi-issue negotiations.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        # --time-limit is the whole command's wall time (optimizer.engine.budget).
        with time_budget(getattr(args, "time_limit", None)):
            return int(args.handler(args) or 0)
    except ScenarioValidationError as e:
        print(f"{e.source or 'scenario'}: invalid scenario", file=sys.stderr)
        for p in e.problems:
            print(str(p), file=sys.stderr)
        return 1
    except ScenarioFileError as e:
        print(str(e), file=sys.stderr)
        return 1
    except ModelError as e:
        print(f"internal error: {e} (please report it with the scenario file)", file=sys.stderr)
        return 1
    except DealoptError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `dealopt frontier f.yaml | head`
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
