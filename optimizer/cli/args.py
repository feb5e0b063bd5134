"""Argument types and options shared by the subcommands (one definition, one message each).

Each type raises ``argparse.ArgumentTypeError`` with a sentence naming what was expected, so a
wrong command line exits 2 with that sentence instead of a traceback.
"""

from __future__ import annotations

import argparse
import math


def positive_int(text: str) -> int:
    """A whole number >= 1 (K, top, samples)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {n})")
    return n


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
