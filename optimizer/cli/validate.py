"""``dealopt validate FILE`` and ``dealopt schema``.

``validate`` prints one summary line and exits 0 for a valid scenario (warnings go to stderr);
otherwise ``cli.main`` prints every problem as ``location: message`` and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check a scenario file; every problem with its location")
    p.add_argument("file", help="scenario file (.yaml, .yml or .json)")
    p.set_defaults(handler=_validate)
    s = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    s.add_argument("-o", "--output", help="write to this file instead of printing")
    s.add_argument("--force", action="store_true", help="replace the output file if it exists")
    s.set_defaults(handler=_schema)


def _validate(args: argparse.Namespace) -> int:
    from optimizer.errors import DealoptError
    from optimizer.scenario.files import load_scenario

    try:
        scenario = load_scenario(args.file)  # file/validation errors: printed by cli.main (exit 1)
        warnings = scenario.warnings()
    except DealoptError:
        raise
    except Exception as e:  # never a traceback for a user's file
        print(f"{args.file}: could not be checked ({type(e).__name__}: {e})", file=sys.stderr)
        return 1
    print(f"{args.file}: valid: {scenario.summary_line()}")
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0


def schema_text() -> str:
    """The JSON Schema of scenario files as written to ``optimizer/scenario.schema.json``."""
    from optimizer.scenario.files import scenario_json_schema

    return json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False) + "\n"


def _schema(args: argparse.Namespace) -> int:
    text = schema_text()
    if args.output:
        from optimizer.scenario.files import save_bytes

        save_bytes(  # refusals (exists, cannot write) are printed by cli.main (exit 1)
            Path(args.output),
            text.encode("utf-8"),
            overwrite=args.force,
            exists_hint="pass --force to replace it",
        )
    else:
        sys.stdout.write(text)
    return 0
