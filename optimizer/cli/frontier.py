"""``dealopt frontier FILE [--parties A,B] [--json] [--solver highs|cbc] [--time-limit S]``.

Prints the Pareto frontier as a table (one row per package, the solution concepts marked) or, with
``--json``, the docs/design.md JSON object. Imports stay lean: PuLP is loaded only when the MILP runs.
"""

from __future__ import annotations

import argparse
import sys

from optimizer.cli.args import (
    add_solver_args,
    add_table_args,
    bounded_int,
    check_table_args,
    save_table,
)
from optimizer.engine.limits import DEFAULT_MAX_POINTS, MAX_POINTS_LIMIT


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "frontier",
        help="the Pareto frontier: every non-dominated package, solution concepts marked",
        description="Compute the Pareto frontier of a scenario: every distinct non-dominated "
        "utility vector of the packages that meet the constraints, keep agreed issues and clear "
        "every walk-away point. Exact for two parties (and for 3+ where affordable).",
    )
    p.add_argument("file", help="scenario file (.yaml, .yml or .json)")
    p.add_argument("--parties", help="comma-separated party names (default: all parties)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    add_solver_args(p, time_help="cap on the whole computation (seconds)")
    p.add_argument(
        "--method",
        choices=["auto", "fast", "enumeration", "milp"],
        default="auto",
        help="force a method (default: auto picks the fastest exact one)",
    )
    p.add_argument(
        "--max-points",
        type=bounded_int(1, MAX_POINTS_LIMIT, "points"),
        default=DEFAULT_MAX_POINTS,
        metavar="N",
        help=f"keep at most N frontier points (default {DEFAULT_MAX_POINTS:,}; more are thinned, "
        "spread along the frontier, and the result says capped)",
    )
    add_table_args(p, "the frontier points")
    p.set_defaults(handler=_frontier, _parser=p)


def _frontier(args: argparse.Namespace) -> int:
    from optimizer.scenario.files import load_scenario
    from optimizer.searches.frontier import frontier

    check_table_args(args._parser, args)
    scenario = load_scenario(args.file)
    result = frontier(
        scenario,
        parties=args.parties,
        solver=args.solver,
        time_limit=args.time_limit,
        method=args.method,
        max_points=args.max_points,
    )
    if args.csv or args.xlsx:
        from optimizer.reports.tables import package_table

        save_table(args, package_table(scenario, result))
    if args.json:
        sys.stdout.write(result.to_json() + "\n")
    else:
        sys.stdout.write(format_frontier(result) + "\n")
    return 0 if result.packages else 1


def format_frontier(result) -> str:
    """A readable table: one row per frontier package, utilities, concepts and what changes."""
    from optimizer.scenario.models import format_number

    head = (
        f"Pareto frontier of {result.scenario!r}: {len(result.packages)} package(s), "
        f"{'exact' if result.exact else 'NOT exact'} ({result.method}"
        f"{', ' + result.status.solver if result.status.solver else ''})"
    )
    lines = [head]
    if result.status.message:
        lines.append(f"note: {result.status.message}")
    if not result.packages:
        lines.append(result.explanation or "no feasible package")
        return "\n".join(lines)
    parties = result.parties
    widths = [max(8, len(p)) for p in parties]
    lines.append(
        "  ".join(["  #", *[p.rjust(w) for p, w in zip(parties, widths, strict=True)]])
        + "  concepts / changes"
    )
    for n, pkg in enumerate(result.packages, 1):
        cells = [f"{n:3d}"]
        for p, w in zip(parties, widths, strict=True):
            cells.append(format_number(round(pkg.utilities[p], 4)).rjust(w))
        moved = [
            f"{c.issue}={format_number(c.value) if not isinstance(c.value, str) else c.value}"
            + (" (reopened)" if c.change == "reopened" else "")
            for c in pkg.changes
            if c.change != "kept"
        ]
        found_only = "" if result.concepts_exact else " (best of the points found)"
        tag = f"[{', '.join(pkg.concepts)}{found_only}] " if pkg.concepts else ""
        lines.append("  ".join(cells) + "  " + tag + ("; ".join(moved) or "the deal on the table"))
    return "\n".join(lines)
