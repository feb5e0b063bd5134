"""``dealopt improve FILE``: the best Pareto-improving packages on the command line.

(``dealopt frontier`` lives in ``optimizer.cli.frontier``.) Default output is a readable table
(issues as rows, packages as columns, changed values marked, utilities and gains below);
``--json`` prints the docs/design.md JSON object (``result.to_json()``). ``--meso K`` and
``--robust ALPHA`` switch to ``optimizer.searches.meso.equivalent_offers`` / ``optimizer.searches.uncertainty.
robust_improve``; scenarios with estimate ranges get win-win probabilities via
``optimizer.searches.uncertainty.annotate``.
PuLP and the searches are imported inside the handlers so the command line starts lean.
Exit codes: 0 with at least one package, 1 for bad input or no package, 2 for a wrong command line.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from optimizer.cli.args import (
    MAX_MESO,
    MAX_SAMPLES,
    MAX_TOP,
    add_solver_args,
    add_table_args,
    bounded_int,
    check_table_args,
    nonneg_int,
    positive_int,
    probability,
    save_table,
)

OBJECTIVE_NAMES = {
    "maxmin": "largest smallest gain",
    "welfare": "largest total gain",
    "nash": "largest product of gains (Nash)",
    "meso": "equivalent offers for us (MESOs)",
    "robust": "robust to the estimate ranges",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "improve",
        help="the best Pareto-improving packages over the deal on the table",
        description="Find packages at least as good as the deal on the table for every party "
        "and better for at least one, best first.",
    )
    p.add_argument("file", help="scenario file (.yaml, .yml or .json)")
    p.add_argument(
        "--top",
        type=bounded_int(1, MAX_TOP, "packages"),
        default=1,
        metavar="K",
        help=f"how many packages (1 to {MAX_TOP})",
    )
    p.add_argument(
        "--objective",
        choices=["maxmin", "welfare", "nash"],
        default="maxmin",
        help="rank by the smallest gain (default), the total gain or the Nash product",
    )
    p.add_argument(
        "--min-diff",
        type=positive_int,
        default=1,
        metavar="D",
        help="each package differs from the earlier ones in at least D issues",
    )
    add_solver_args(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument(
        "--meso",
        type=bounded_int(1, MAX_MESO, "offers"),
        metavar="K",
        help=f"instead: K offers (1 to {MAX_MESO}) equally good for us that differ for the other "
        "side",
    )
    p.add_argument(
        "--robust",
        type=probability,
        metavar="ALPHA",
        help="instead: packages win-win with probability at least ALPHA over the ranges",
    )
    p.add_argument(
        "--samples",
        type=bounded_int(1, MAX_SAMPLES, "samples"),
        default=None,
        metavar="N",
        help="samples of the estimate ranges for win-win probabilities (default 10000); "
        "with --robust, also the samples of the robust search",
    )
    p.add_argument("--seed", type=nonneg_int, default=0, metavar="S", help="random seed")
    add_table_args(p, "the packages")
    p.set_defaults(handler=_improve, _parser=p)


def _fail(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _improve(args: argparse.Namespace) -> int:
    from optimizer.scenario.files import load_scenario

    if args.meso is not None and args.robust is not None:
        return _fail("choose either --meso or --robust, not both", 2)
    check_table_args(args._parser, args)
    scenario = load_scenario(args.file)
    if args.meso is not None:
        from optimizer.searches.meso import equivalent_offers

        result = equivalent_offers(
            scenario, k=args.meso, solver=args.solver, time_limit=args.time_limit
        )
    elif args.robust is not None:
        from optimizer.searches.uncertainty import robust_improve

        extra: dict[str, Any] = {}
        if args.samples is not None:
            extra = {"samples": args.samples, "check_samples": args.samples}
        result = robust_improve(
            scenario,
            args.robust,
            seed=args.seed,
            top=args.top,
            solver=args.solver,
            time_limit=args.time_limit,
            **extra,
        )
    else:
        from optimizer.searches.improve import improve

        result = improve(
            scenario,
            objective=args.objective,
            top=args.top,
            min_diff=args.min_diff,
            solver=args.solver,
            time_limit=args.time_limit,
        )
    if args.robust is None:  # robust_improve already reports its out-of-sample probabilities
        _annotate(scenario, result, args)
    from optimizer.engine.money import annotate_money
    from optimizer.reports.guards import table_below_walkaway
    from optimizer.scenario.models import numbers_out

    annotate_money(scenario, result)
    check = table_below_walkaway(scenario, solver=args.solver, time_limit=args.time_limit)
    if args.csv or args.xlsx:
        from optimizer.reports.tables import package_table

        save_table(args, package_table(scenario, result))
    if args.json:
        data = result.to_json_dict()
        if check.below:
            data["below_walkaway"] = {
                "ours": check.ours,
                "walkaway": check.walkaway,
                "text": check.text,
                "packages": [p.to_json_dict() for p in check.packages],
            }
        print(json.dumps(numbers_out(data), indent=2, ensure_ascii=False))
    else:
        if check.below:
            print(f"WARNING: {check.text}\n")
        print(format_improve(scenario, result))
    return 0 if result.packages else 1


def _annotate(scenario: Any, result: Any, args: argparse.Namespace) -> None:
    """Win-win probabilities over the estimate ranges, when the scenario has ranges."""
    from optimizer.searches import uncertainty

    if uncertainty.has_ranges(scenario):
        samples = 10000 if args.samples is None else args.samples
        uncertainty.annotate(scenario, result, samples=samples, seed=args.seed)


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def _num(x: float) -> str:
    from optimizer.scenario.models import format_number

    return format_number(round(float(x), 4))


def _signed(x: float) -> str:
    text = _num(x)
    return text if text.startswith("-") else f"+{text}"


def _grid(rows: list[list[str]], header_rows: int = 1) -> str:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[c]) for c, cell in enumerate(r)).rstrip())
        if n + 1 == header_rows:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _status_line(result: Any) -> str:
    st = result.status
    exact = "exact" if result.exact else f"NOT exact ({st.termination.value})"
    over = getattr(result, "exact_over", None)
    if over and not result.exact and st.termination.value == "optimal":
        exact = f"NOT exact: exact over {over}"  # a robust search over a candidate set
    return f"{exact}; solver {st.solver or '-'}, {st.solves} solves, {st.seconds:.2f} s"


def format_improve(scenario: Any, result: Any) -> str:
    """The improve result as a table: issues as rows, the deal on the table then each package."""
    from optimizer.scenario.models import format_percent

    what = OBJECTIVE_NAMES.get(result.objective, result.objective)
    out = [f"{scenario.name}: Pareto-improving packages, ranked by {what}", _status_line(result)]
    if result.nash_method:
        out.append(f"Nash: {result.nash_method}")
    if result.objective == "nash" and "welfare" in result.ranking:
        shown = [n + 1 for n, p in enumerate(result.packages) if p.ranked_by == "welfare"]
        which = f"#{shown[0]}" if len(shown) == 1 else f"#{shown[0]}-#{shown[-1]}"
        out.append(
            f"{which} leave{'s' if len(shown) == 1 else ''} some party with no gain (Nash product "
            "0): ranked by total gain, after the packages that improve every party"
        )
    if not result.packages:
        out.append("")
        out.append(result.explanation or "No Pareto-improving package was found.")
        return "\n".join(out)
    head = ["issue", "status", "on the table"] + [f"#{n + 1}" for n in range(len(result.packages))]
    rows = [head]
    for j, issue in enumerate(scenario.issues):
        row = [issue.name, issue.status, issue.display(issue.value)]
        for p in result.packages:
            ch = p.changes[j] if j < len(p.changes) else None
            text = issue.display(p.package[issue.name])
            if ch is not None and ch.change == "changed":
                text += " *"
            elif ch is not None and ch.change == "reopened":
                text += " * (reopened)"
            row.append(text)
        rows.append(row)
    for party in result.parties:
        row = [f"utility {party}", "", _num(result.reference_utilities.get(party, 0.0))]
        for p in result.packages:
            gain = (p.gains or {}).get(party)
            text = _num(p.utilities[party])
            if gain is not None:
                text += f" ({_signed(gain)})"
            row.append(text)
        rows.append(row)
    money = [p.gains_money for p in result.packages]
    if any(m for m in money) and getattr(result, "money_issue", None):
        issue = scenario.issue(result.money_issue)
        for party in result.parties:
            row = [f"gain in {issue.name}: {party}", "", ""]
            for p in result.packages:
                amount = (p.gains_money or {}).get(party)
                if amount is None:
                    row.append("-")
                    continue
                text = f"{_signed(amount)} {issue.unit}".strip()
                if party in (p.gains_money_outside or []):
                    text = f"more than {text}" if amount >= 0 else f"a loss of more than {text}"
                row.append(text)
            rows.append(row)
    if any(p.objective is not None for p in result.packages):
        rows.append(
            ["objective", result.objective, ""]
            + ["-" if p.objective is None else _num(p.objective) for p in result.packages]
        )
    if any(p.p_win_win is not None for p in result.packages):
        rows.append(
            ["P(win-win)", "", ""]
            + ["-" if p.p_win_win is None else format_percent(p.p_win_win) for p in result.packages]
        )
    out.append("")
    out.append(_grid(rows))
    out.append("")
    out.append(
        "* changed from the deal on the table; (reopened): a provisional issue moved for a gain"
    )
    if result.explanation:
        out.append(result.explanation)
    return "\n".join(out)
