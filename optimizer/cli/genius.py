"""``dealopt import-genius DOMAIN.xml PROFILE.xml [PROFILE.xml ...] [-o OUT] [--force]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-genius",
        help="read a GENIUS/ANAC domain and its linear-additive profiles into a scenario",
        description="Read a GENIUS/ANAC negotiation domain and one linear-additive utility "
        "profile per party into a scenario (YAML, or JSON when OUT ends in .json). Utilities "
        "equal GENIUS's; discount factors are kept in the metadata and ignored by the search.",
    )
    p.add_argument("domain", help="the GENIUS domain file (.xml)")
    p.add_argument("profiles", nargs="+", help="one utility profile (.xml) per party")
    p.add_argument("-o", "--output", help="write the scenario here instead of printing YAML")
    p.add_argument("--force", action="store_true", help="replace OUT if it already exists")
    p.add_argument("--name", help="the scenario's name (default: from the domain file name)")
    p.set_defaults(handler=_import_genius)


def _import_genius(args: argparse.Namespace) -> int:
    from optimizer.errors import DealoptError
    from optimizer.scenario.files import dumps_scenario, save_scenario
    from optimizer.scenario.genius import import_genius

    scenario = import_genius(args.domain, args.profiles, name=args.name)
    for note in scenario.metadata.get("genius", {}).get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    if not args.output:
        text = dumps_scenario(scenario, "yaml")
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is not None:
            sys.stdout.flush()
            buffer.write(text.encode("utf-8"))
            buffer.flush()
        else:
            sys.stdout.write(text)
        return 0
    out = Path(args.output)
    if out.is_dir():
        raise DealoptError(f"{out} is a directory; give a file name ending in .yaml or .json")
    save_scenario(scenario, out, overwrite=args.force, exists_hint="pass --force to replace it")
    print(f"{out}: wrote {scenario.summary_line()} from {Path(args.domain).name}")
    return 0
