"""Spreadsheets: ``dealopt export FILE -o OUT.xlsx``, ``dealopt import IN.xlsx [-o OUT.yaml]`` and
``dealopt template -o NEW.xlsx``.

``export`` writes the scenario as a workbook a buyer reads (optimizer.scenario.workbook), ``import``
reads one back (problems located by sheet, row and column, then the normal scenario validation)
and ``template`` writes a blank workbook with a worked example. None of them replaces a file
without ``--force``. Exit codes: 0 done, 1 bad input, 2 a wrong command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from optimizer.cli.args import save_output

MISSING = "openpyxl is not installed; install it with: pip install 'openpyxl>=3.1' (or make venv)"


def register(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser(
        "export",
        help="write a scenario as an Excel workbook (.xlsx)",
        description="Write the scenario as an .xlsx workbook: issues, one sheet per party, "
        "constraints and the negotiation log, with drop-downs and number checks.",
    )
    e.add_argument("file", help="scenario file (.yaml, .yml or .json)")
    e.add_argument("-o", "--output", required=True, metavar="OUT.xlsx", help="the workbook")
    e.add_argument("--force", action="store_true", help="replace OUT if it exists")
    e.set_defaults(handler=_export, _parser=e)

    i = sub.add_parser(
        "import",
        help="read a scenario workbook (.xlsx) into a YAML or JSON scenario",
        description="Read a scenario workbook (from dealopt export or dealopt template); "
        "problems are reported by sheet, row and column.",
    )
    i.add_argument("file", help="the workbook (.xlsx)")
    i.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="scenario file to write (.yaml or .json; default: print YAML)",
    )
    i.add_argument("--force", action="store_true", help="replace OUT if it exists")
    i.set_defaults(handler=_import, _parser=i)

    t = sub.add_parser(
        "template",
        help="write a blank scenario workbook to fill in",
        description="Write a blank .xlsx scenario workbook with a worked example party sheet.",
    )
    t.add_argument("-o", "--output", required=True, metavar="NEW.xlsx", help="the workbook")
    t.add_argument("--force", action="store_true", help="replace NEW if it exists")
    t.set_defaults(handler=_template, _parser=t)


def _need_openpyxl() -> None:
    from importlib.util import find_spec

    from optimizer.errors import DealoptError

    if find_spec("openpyxl") is None:
        raise DealoptError(MISSING)


def _xlsx_name(parser: argparse.ArgumentParser, path: str) -> None:
    from optimizer.scenario.workbook import is_workbook_name

    if not is_workbook_name(path):
        parser.error(f"{path!r}: the workbook's name must end in .xlsx")


def _export(args: argparse.Namespace) -> int:
    from optimizer.scenario.files import load_scenario
    from optimizer.scenario.workbook import scenario_to_xlsx

    _xlsx_name(args._parser, args.output)
    _need_openpyxl()
    scenario = load_scenario(args.file)
    save_output(args.output, scenario_to_xlsx(scenario), args.force)
    print(
        f"{args.output}: wrote {scenario.name!r} ({len(scenario.issues)} issues, "
        f"{len(scenario.parties)} parties)"
    )
    return 0


def _import(args: argparse.Namespace) -> int:
    from optimizer.scenario.files import dumps_scenario
    from optimizer.scenario.workbook import load_xlsx

    if args.output and Path(args.output).suffix.lower() not in (".yaml", ".yml", ".json"):
        args._parser.error(f"{args.output!r}: write the scenario as .yaml, .yml or .json")
    _need_openpyxl()
    scenario, notes = load_xlsx(args.file)
    for n in notes:
        print(f"{args.file}: note: {n}", file=sys.stderr)
    if not args.output:
        sys.stdout.write(dumps_scenario(scenario))
        return 0
    fmt = "json" if args.output.lower().endswith(".json") else "yaml"
    save_output(args.output, dumps_scenario(scenario, fmt), args.force)
    print(f"{args.output}: wrote {scenario.name!r} from {args.file}")
    return 0


def _template(args: argparse.Namespace) -> int:
    from optimizer.scenario.workbook import template_xlsx

    _xlsx_name(args._parser, args.output)
    _need_openpyxl()
    save_output(args.output, template_xlsx(), args.force)
    print(f"{args.output}: wrote a blank scenario workbook (see its 'How to fill in' sheet)")
    return 0
