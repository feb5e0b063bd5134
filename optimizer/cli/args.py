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
