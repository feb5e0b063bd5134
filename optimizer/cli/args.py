"""Argument types and options shared by the subcommands (one definition, one message each).

Each type raises ``argparse.ArgumentTypeError`` with a sentence naming what was expected, so a
wrong command line exits 2 with that sentence instead of a traceback.
"""

from __future__ import annotations

import argparse
import math

#: Caps on counts that set how much work a command does (issue 15): each keeps a run to minutes
#: at most and its memory to a known size; a value past the cap exits 2 with the range.
MAX_TOP = 100
MAX_MESO = 10
MAX_SAMPLES = 100_000
MAX_PACKAGE_RANK = 100


def positive_int(text: str) -> int:
    """A whole number >= 1 (K, top, samples)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {n})")
    return n


def bounded_int(low: int, high: int, what: str):
    """An argument type: a whole number from ``low`` to ``high`` (a cap that bounds the work)."""

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= n <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:,} to {high:,} {what} (got {n:,})")
        return n

    parse.__name__ = f"whole number of {what}"  # argparse names the type in its messages
    return parse


def nonneg_int(text: str) -> int:
    """A whole number >= 0 (seeds, distances)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (got {n})")
    return n


def seconds(text: str) -> float:
    """A finite, positive number of seconds."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (x > 0 and math.isfinite(x)):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds (got {text})")
    return x


def probability(text: str) -> float:
    """A probability in (0, 1] (the robust search's alpha)."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a probability, got {text!r}") from None
    if not 0 < x <= 1:
        raise argparse.ArgumentTypeError(f"ALPHA must be in (0, 1] (got {text})")
    return x


def add_solver_args(
    p: argparse.ArgumentParser,
    time_help: str = "stop after S seconds (the result then says exact: false)",
) -> None:
    """``--solver highs|cbc`` and ``--time-limit S``, the same on every search command."""
    p.add_argument(
        "--solver", choices=["highs", "cbc"], default=None, help="MILP solver (default: highs)"
    )
    p.add_argument("--time-limit", type=seconds, default=None, metavar="S", help=time_help)


def save_output(path: str, content: str | bytes, force: bool) -> None:
    """Write a command's output file through the library's one save function; an existing file is
    replaced only with ``--force`` (the message says so)."""
    from optimizer.errors import DealoptError
    from optimizer.scenario.files import save_file

    try:
        save_file(path, content, overwrite=force)
    except FileExistsError:
        raise DealoptError(f"{path} exists; pass --force to replace it") from None


def add_table_args(p: argparse.ArgumentParser, what: str) -> None:
    """``--csv FILE``, ``--xlsx FILE`` and ``--force``: save the result's table besides printing."""
    p.add_argument("--csv", metavar="FILE", help=f"also save {what} as CSV")
    p.add_argument("--xlsx", metavar="FILE", help=f"also save {what} as a formatted .xlsx sheet")
    p.add_argument("--force", action="store_true", help="replace an existing --csv/--xlsx file")


def check_table_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse a wrong --csv/--xlsx before any search runs (suffix, existing file without --force)."""
    from pathlib import Path

    from optimizer.errors import DealoptError

    if args.xlsx and not args.xlsx.lower().endswith((".xlsx", ".xlsm")):
        parser.error(f"--xlsx {args.xlsx!r}: the file name must end in .xlsx")
    for path in (args.csv, args.xlsx):
        if path and Path(path).exists() and not args.force:
            raise DealoptError(f"{path} exists; pass --force to replace it")
    if args.xlsx:
        from importlib.util import find_spec

        if find_spec("openpyxl") is None:
            raise DealoptError(
                "--xlsx needs openpyxl; install it with: pip install 'openpyxl>=3.1' (or make venv)"
            )


def save_table(args: argparse.Namespace, table: object) -> None:
    """Write the --csv / --xlsx files of a result table (optimizer.reports.tables.Table)."""
    import sys

    from optimizer.reports.tables import to_csv, to_xlsx

    if args.csv:
        save_output(args.csv, to_csv(table), args.force)  # type: ignore[arg-type]
        print(f"{args.csv}: wrote {table.title} (CSV)", file=sys.stderr)  # type: ignore[attr-defined]
    if args.xlsx:
        save_output(args.xlsx, to_xlsx(table), args.force)  # type: ignore[arg-type]
        print(f"{args.xlsx}: wrote {table.title} (xlsx)", file=sys.stderr)  # type: ignore[attr-defined]
