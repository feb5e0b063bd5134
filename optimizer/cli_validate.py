"""``dealopt validate FILE`` and ``dealopt schema``."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check a scenario file; every problem with its location")
    p.add_argument("file", help="scenario file (.yaml, .yml or .json)")
    p.set_defaults(handler=_validate)
    s = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    s.add_argument("-o", "--output", help="write to this file instead of printing")
    s.set_defaults(handler=_schema)


def _validate(args: argparse.Namespace) -> int:
    from optimizer.io import load_scenario

    scenario = load_scenario(args.file)  # errors are printed by cli.main (exit 1)
    print(f"{args.file}: valid: {scenario.summary_line()}")
    for w in scenario.warnings():
        print(f"warning: {w}", file=sys.stderr)
    return 0


def _schema(args: argparse.Namespace) -> int:
    from optimizer.io import scenario_json_schema

    text = json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0
