"""``dealopt estimate FILE --party NAME [--next] [--json] [-o OUT] [--force]``: a party's
preferences fitted to its statements and offers, or the next comparison to ask it about.

The fit is imported inside the handler (it loads HiGHS)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "estimate",
        help="fit a party's weights and values to its statements and offers",
        description="Fit a party's weights and option values to what it said it prefers "
        "(statements in the scenario) and to its offers in the negotiation log; print each as "
        "low / likely / high, with any contradicting evidence. With --next, print the "
        "comparison worth asking about next.",
    )
    p.add_argument("file", help="scenario file (.yaml, .yml or .json)")
    p.add_argument("--party", required=True, metavar="NAME", help="the party to fit")
    p.add_argument("--next", action="store_true", help="print the next question to ask instead")
    p.add_argument(
        "--no-offers",
        action="store_true",
        help="use the statements only, not the offers in the log",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="write the scenario with the party's preferences replaced by the estimated ranges",
    )
    p.add_argument("--force", action="store_true", help="replace OUT if it already exists")
    p.set_defaults(handler=_estimate)


def _estimate(args: argparse.Namespace) -> int:
    from optimizer.errors import DealoptError
    from optimizer.scenario.files import load_scenario
    from optimizer.scenario.models import numbers_out
    from optimizer.searches.estimate import apply_estimate, describe, estimate, next_question

    scenario = load_scenario(args.file)
    if args.party not in scenario.party_names:
        raise DealoptError(
            f"no party named {args.party!r} in {args.file} "
            f"(parties: {', '.join(scenario.party_names)})"
        )
    if args.next and args.output:
        raise DealoptError("-o writes the fitted preferences; it does not go with --next")
    est = estimate(scenario, args.party, offers=not args.no_offers)
    if args.next:
        q = next_question(scenario, args.party, est=est)
        if args.json:
            print(json.dumps(numbers_out(q.to_dict()), indent=2, ensure_ascii=False))
        else:
            print(q.text)
            if not q.informative:
                print(
                    "(every answer agrees with the evidence so far: the ranges are as narrow as "
                    "these comparisons can make them)"
                )
        return 0
    if args.output:
        out = Path(args.output)
        if out.is_dir():
            raise DealoptError(f"{out} is a directory; give a file name ending in .yaml or .json")
        try:
            apply_estimate(scenario, est).save(out, overwrite=args.force)
        except FileExistsError:
            raise DealoptError(f"{out} already exists; pass --force to replace it") from None
        except OSError as e:
            raise DealoptError(f"cannot write {out}: {e.strerror or e}") from None
    if args.json:
        print(json.dumps(numbers_out(est.to_dict()), indent=2, ensure_ascii=False))
    else:
        print(describe(est, scenario))
        if args.output:
            print(f"{args.output}: wrote the scenario with {args.party}'s estimated ranges")
    if est.inconsistencies and not args.json:
        print(
            f"note: {len(est.inconsistencies)} piece(s) of evidence contradict the rest",
            file=sys.stderr,
        )
    return 0
