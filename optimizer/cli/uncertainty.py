"""``dealopt questions FILE`` and ``dealopt sensitivity FILE``: what to ask next, how robust the
recommendation is to each weight.

``questions`` prints the (up to) three estimates whose range most often changes the recommended
package, as questions to ask across the table; ``sensitivity`` prints, for every party's weight on
every issue, the share of that party's total weight over which the recommendation stays best, as
a text tornado chart. Both take ``--json``. The searches are imported inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import sys

from optimizer.cli.args import MAX_TOP, add_solver_args, bounded_int


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="scenario file (.yaml, .yml or .json)")
    p.add_argument(
        "--objective",
        choices=["maxmin", "welfare", "nash"],
        default="maxmin",
        help="how the recommended package is chosen (as in improve; default maxmin)",
    )
    add_solver_args(p, time_help="cap on the whole command (seconds)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def register(sub: argparse._SubParsersAction) -> None:
    q = sub.add_parser(
        "questions",
        help="the estimates worth checking across the table, as questions",
        description="Rank the estimate ranges by how often they change the recommended package "
        "(one at a time, the others at their best guess) and turn the top ones into questions.",
    )
    _common(q)
    q.add_argument(
        "-k",
        "--top",
        type=bounded_int(1, MAX_TOP, "questions"),
        default=3,
        metavar="K",
        help="how many",
    )
    q.add_argument(
        "--distribution",
        choices=["triangular", "pert"],
        default="triangular",
        help="distribution on low / likely / high (default triangular)",
    )
    q.set_defaults(handler=_questions)
    s = sub.add_parser(
        "sensitivity",
        help="how far each weight can move before the recommended package changes",
        description="For every party's weight on every issue, the share of that party's total "
        "weight over which the recommended package stays best (a tornado chart).",
    )
    _common(s)
    s.add_argument("--parties", metavar="A,B", help="only these parties' weights (comma-separated)")
    s.set_defaults(handler=_sensitivity)


def _questions(args: argparse.Namespace) -> int:
    from optimizer.scenario.files import load_scenario
    from optimizer.scenario.models import numbers_out
    from optimizer.searches.questions import questions
    from optimizer.searches.sampling import uncertain_parameters

    scenario = load_scenario(args.file)
    uncertain = uncertain_parameters(scenario)
    qs = questions(
        scenario,
        k=args.top,
        objective=args.objective,
        distribution=args.distribution,
        solver=args.solver,
        time_limit=args.time_limit,
    )
    if args.json:
        data = {
            "scenario": scenario.name,
            "objective": args.objective,
            "uncertain": [p.key for p in uncertain],
            "questions": [q.model_dump(mode="json") for q in qs],
            "exact": getattr(qs, "exact", True),
            "notes": [qs.note] if getattr(qs, "note", "") else [],
        }
        print(json.dumps(numbers_out(data), indent=2, ensure_ascii=False))
        return 0
    print(f"{scenario.name}: what to ask next")
    if not uncertain:
        print(
            "No estimate is given as a range (low / likely / high), so nothing is uncertain to "
            "ask about. Give the other side's weights, scores or walk-away point as ranges."
        )
        return 0
    print(
        f"{len(uncertain)} estimates are ranges; each is scored by the probability that it "
        "changes the recommended package (the others at their best guess)."
    )
    if getattr(qs, "note", ""):
        print(f"note: {qs.note} (not exact)")
    if not qs:
        if getattr(qs, "exact", True):
            print(
                "None of them changes the recommendation anywhere in its range: no question needed."
            )
        return 0
    for n, q in enumerate(qs, start=1):
        print(f"\n{n}. {q.text}")
    return 0


def _bar(lo: float, hi: float, now: float, width: int = 40) -> str:
    cells = []
    for c in range(width):
        x = (c + 0.5) / width
        cells.append("=" if lo - 0.5 / width <= x <= hi + 0.5 / width else ".")
    cells[min(width - 1, int(now * width))] = "|"
    return "".join(cells)


def _pct(x: float) -> str:
    from optimizer.scenario.models import format_percent

    return format_percent(x)


def _sensitivity(args: argparse.Namespace) -> int:
    from optimizer.errors import DealoptError
    from optimizer.scenario.files import load_scenario
    from optimizer.searches.questions import sensitivity

    scenario = load_scenario(args.file)
    parties = None
    if args.parties:
        parties = [p.strip() for p in args.parties.split(",") if p.strip()]
        unknown = [p for p in parties if p not in scenario.party_names]
        if unknown:
            raise DealoptError(
                f"unknown part{'y' if len(unknown) == 1 else 'ies'} {', '.join(map(repr, unknown))}"
                f" (parties: {', '.join(scenario.party_names)})"
            )
    res = sensitivity(
        scenario,
        parties=parties,
        objective=args.objective,
        solver=args.solver,
        time_limit=args.time_limit,
    )
    if args.json:
        print(res.model_dump_json(indent=2))
        return 0
    print(f"{scenario.name}: how far each weight can move before the recommendation changes")
    for note in res.notes:
        print(f"note: {note} (not exact)")
    if res.recommended is None and not res.exact:
        return 1
    if res.recommended is None:
        print("No package improves on the deal on the table, so there is no recommendation.")
        return 1
    print(
        "Recommended: "
        + ", ".join(
            f"{k} {scenario.issue(k).display(v)}"
            for k, v in res.recommended.items()
            if scenario.issue(k).status != "agreed"
        )
    )
    print(
        "Each weight moves as a share of its party's total (the others keep their ratios); "
        "'=' marks where the recommendation stays best, '|' the weight now. Narrowest first.\n"
    )
    rows = [("party", "issue", "now", "stays best", "0% .. 100% of the party's weight")]
    for it in res.items:
        rows.append(
            (
                it.party,
                it.issue,
                _pct(it.share),
                f"{_pct(it.low_share)} to {_pct(it.high_share)}",
                _bar(it.low_share, it.high_share, it.share),
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    for n, r in enumerate(rows):
        print("  ".join(cell.ljust(widths[c]) for c, cell in enumerate(r)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print(f"\n{res.solves} solves.", file=sys.stderr)
    return 0
