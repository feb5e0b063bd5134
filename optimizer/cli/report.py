"""``dealopt summary``, ``dealopt log`` and ``dealopt proposal``: from packages to the table.

* ``summary FILE [--json] [--csv FILE] [--xlsx FILE]`` -- the progress summary in the article's words ("We have agreed on A
  and B. C is still provisional and D is in good shape. Now we're having trouble with E.") and
  what is left to gain.
* ``log FILE [--json]`` -- the offers and counter-offers with every party's utility per round and
  the concession analysis. ``log FILE --add PARTY --set ISSUE=VALUE ... [--status ISSUE=STATUS]
  [--date YYYY-MM-DD] [--note TEXT] (-o OUT | --in-place)`` records one more offer in the file.
* ``proposal FILE [--format md|docx|pdf] [-o OUT] [--package N | --meso K]
  [--audience counterpart|internal]`` -- the proposal document (Markdown to standard output when
  there is no ``-o``); never replaces an existing OUT without ``--force``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from optimizer.cli.args import (
    MAX_MESO,
    MAX_PACKAGE_RANK,
    add_solver_args,
    add_table_args,
    bounded_int,
    check_table_args,
    save_table,
)


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser(
        "summary", help="where the negotiation stands, in plain sentences, and what is left to gain"
    )
    s.add_argument("file", help="scenario file (.yaml, .yml or .json)")
    s.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_solver_args(s)
    add_table_args(s, "the summary per issue")
    s.set_defaults(handler=_summary, _parser=s)

    g = sub.add_parser(
        "log", help="the offers and counter-offers, the utility path and who conceded what"
    )
    g.add_argument("file", help="scenario file (.yaml, .yml or .json)")
    g.add_argument("--json", action="store_true", help="print the log report as JSON")
    g.add_argument("--add", metavar="PARTY", help="record an offer made by PARTY")
    g.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="ISSUE=VALUE",
        help="a term of the recorded offer (repeat for each issue)",
    )
    g.add_argument(
        "--status",
        action="append",
        default=[],
        metavar="ISSUE=STATUS",
        help="a status change the offer brought (open, provisional, agreed)",
    )
    g.add_argument("--date", help="date of the offer, YYYY-MM-DD (default: today)")
    g.add_argument("--note", default="", help="a note on the offer")
    g.add_argument("-o", "--output", help="write the updated scenario here")
    g.add_argument("--in-place", action="store_true", help="update FILE itself")
    g.add_argument("--force", action="store_true", help="replace an existing --output file")
    g.set_defaults(handler=_log, _parser=g)

    p = sub.add_parser("proposal", help="write a proposal (counterpart) or a brief (internal)")
    p.add_argument("file", help="scenario file (.yaml, .yml or .json)")
    p.add_argument(
        "--format", choices=["md", "docx", "pdf"], help="output format (default: from -o, else md)"
    )
    p.add_argument("-o", "--output", metavar="OUT", help="file to write (default: print Markdown)")
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--package",
        type=bounded_int(1, MAX_PACKAGE_RANK, "packages"),
        metavar="N",
        help=f"propose the N-th best win-win package (default 1, at most {MAX_PACKAGE_RANK})",
    )
    which.add_argument(
        "--meso",
        type=bounded_int(1, MAX_MESO, "offers"),
        metavar="K",
        help=f"propose K equivalent offers to choose from (2-4; at most {MAX_MESO})",
    )
    which.add_argument(
        "--package-file",
        metavar="PKG.yaml",
        help="propose this package: a YAML or JSON mapping issue: value (issues not named keep "
        "their value on the table)",
    )
    p.add_argument(
        "--objective",
        choices=["maxmin", "welfare", "nash"],
        default="maxmin",
        help="the ranking --package N counts in (as improve --objective; default maxmin)",
    )
    p.add_argument(
        "--override",
        action="store_true",
        help="propose even a package below our walk-away point or worse for us than our latest "
        "offer (the internal brief records the override)",
    )
    p.add_argument(
        "--tolerance",
        type=float,
        default=1.0,
        help="equivalent offers: how far apart (utility points) they may be for us (default 1)",
    )
    p.add_argument(
        "--audience",
        choices=["counterpart", "internal"],
        default="counterpart",
        help="counterpart: to send (no preference numbers); internal: the brief for our team",
    )
    p.add_argument("--force", action="store_true", help="replace an existing OUT")
    add_solver_args(p)
    p.set_defaults(handler=_proposal, _parser=p)


def _summary(args: argparse.Namespace) -> int:
    from optimizer.reports.summary import TOP_PACKAGES, progress_summary
    from optimizer.scenario.files import load_scenario
    from optimizer.scenario.models import numbers_out
    from optimizer.searches.improve import improve

    check_table_args(args._parser, args)
    scenario = load_scenario(args.file)
    res = improve(scenario, top=TOP_PACKAGES, solver=args.solver, time_limit=args.time_limit)
    s = progress_summary(scenario, solver=args.solver, improve_result=res)
    if args.csv or args.xlsx:
        from optimizer.reports.tables import summary_table

        save_table(args, summary_table(scenario, s))
    if args.json:
        print(json.dumps(numbers_out(s.model_dump(mode="json")), indent=2, ensure_ascii=False))
    else:
        print(s.text)
    return 0


def _parse_pairs(
    parser: argparse.ArgumentParser, items: list[str], names: list[str], what: str
) -> dict[str, str]:
    """ISSUE=VALUE pairs; the issue may itself contain '=' (the longest known name wins)."""
    out: dict[str, str] = {}
    for item in items:
        cuts = [i for i, c in enumerate(item) if c == "="]
        for i in reversed(cuts):
            if item[:i].strip() in names:
                out[item[:i].strip()] = item[i + 1 :].strip()
                break
        else:
            if not cuts:
                parser.error(f"{what} {item!r} needs the form ISSUE=VALUE")
            parser.error(
                f"{what} {item!r}: unknown issue {item[: cuts[0]].strip()!r} "
                f"(issues: {', '.join(names)})"
            )
    return out


def _log(args: argparse.Namespace) -> int:
    from optimizer.reports.negotiation_log import format_log, log_report
    from optimizer.scenario.files import load_scenario
    from optimizer.scenario.models import numbers_out

    parser = args._parser
    if args.add is None:
        from optimizer.scenario.files import load_scenario

        if args.set or args.status or args.output or args.in_place or args.date or args.note:
            parser.error("--set, --status, --date, --note, -o and --in-place need --add PARTY")
        scenario = load_scenario(args.file)
        report = log_report(scenario)
        if args.json:
            print(
                json.dumps(
                    numbers_out(report.model_dump(mode="json")), indent=2, ensure_ascii=False
                )
            )
        else:
            print(format_log(scenario, report))
        return 0
    if bool(args.output) == bool(args.in_place):
        parser.error("recording an offer needs exactly one of -o OUT or --in-place")
    if args.in_place:
        from optimizer.scenario.files import file_lock

        # Read, change and save under one lock: concurrent updates of FILE wait for each other.
        with file_lock(args.file):
            updated, target, kept = _record(args, Path(args.file))
    else:
        updated, target, kept = _record(args, Path(args.output))
    print(f"{target}: recorded offer {len(updated.history)} by {args.add}")
    if not kept:
        print(
            f"note: {target}: the comments of {args.file} could not be kept in this edit",
            file=sys.stderr,
        )
    print(format_log(updated))
    return 0


def _record(args: argparse.Namespace, target: Path) -> tuple[Any, Path, bool]:
    """Read FILE, add the offer and save to ``target`` (FILE itself with --in-place); the saved
    YAML keeps the user's comments and layout where it can. Returns (scenario, path, kept)."""
    from optimizer.errors import DealoptError
    from optimizer.reports.negotiation_log import apply_offer, offer_entry, record_offer
    from optimizer.scenario.files import (
        dumps_scenario,
        edited_text,
        file_format,
        parse_text,
        read_text,
        save_bytes,
        scenario_from_data,
    )

    parser = args._parser
    text = read_text(args.file)
    fmt = file_format(args.file)
    scenario = scenario_from_data(parse_text(text, fmt=fmt, source=args.file), args.file)
    names = scenario.issue_names
    terms: dict[str, Any] = _parse_pairs(parser, args.set, names, "--set")
    for name, value in list(terms.items()):
        if scenario.issue(name).is_numeric:
            try:
                terms[name] = float(value)
            except ValueError:
                raise DealoptError(f"--set {name}={value}: {name!r} needs a number") from None
    statuses = _parse_pairs(parser, args.status, names, "--status")
    bad = {k: v for k, v in statuses.items() if v not in ("open", "provisional", "agreed")}
    if bad:
        parser.error(
            "a status is open, provisional or agreed (got "
            + ", ".join(f"{k}={v}" for k, v in bad.items())
            + ")"
        )
    offer = offer_entry(args.add, terms, args.date, statuses, args.note)
    updated = record_offer(
        scenario,
        by=args.add,
        package=terms,
        date=args.date,
        status_changes=statuses,  # type: ignore[arg-type]
        note=args.note,
    )
    kind = fmt if fmt != "auto" else ("json" if text.lstrip().startswith(("{", "[")) else "yaml")
    out_kind = kind if args.in_place else file_format(target)
    if out_kind == "auto":
        out_kind = "yaml"  # as save_scenario: JSON only for a .json name
    if out_kind == kind:
        new_text, kept = edited_text(text, kind, lambda doc: apply_offer(doc, offer), updated)
    else:  # YAML to JSON or back: written afresh (JSON has no comments)
        new_text, kept = dumps_scenario(updated, out_kind), "#" not in text
    save_bytes(
        target,
        new_text.encode("utf-8"),
        overwrite=bool(args.in_place or args.force),
        exists_hint="pass --force to replace it",
    )
    return updated, target, kept


def read_package_file(scenario: Any, path: str) -> dict[str, Any]:
    """A package from a YAML/JSON file (issue: value; an issue not named keeps its value on the
    table), checked against the scenario; a bad file is a DealoptError naming the file and the
    problem."""
    import yaml

    from optimizer.errors import DealoptError, PackageError
    from optimizer.scenario.files import read_bytes

    raw = read_bytes(Path(path), "a package file")
    try:
        data = yaml.safe_load(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, yaml.YAMLError) as e:
        reason = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise DealoptError(f"{path}: not a YAML or JSON package ({reason})") from None
    if isinstance(data, dict) and isinstance(data.get("package"), dict):
        data = data["package"]
    if not isinstance(data, dict) or not data:
        raise DealoptError(f"{path}: a package file is a mapping 'issue: value', one per issue")
    package = {str(k): v for k, v in data.items()}
    for name, v in list(package.items()):
        if name not in scenario.issue_names:
            continue  # encode names the unknown issue
        issue = scenario.issue(name)
        if issue.is_numeric and isinstance(v, str):
            try:
                package[name] = float(v)
            except ValueError:
                raise DealoptError(f"{path}: {name!r} needs a number (got {v!r})") from None
        elif issue.options is not None and not isinstance(v, str) and str(v) in issue.options:
            package[name] = str(v)  # YAML read the option 2000 as a number
    for issue in scenario.issues:  # terms not named keep their value on the table
        if issue.name not in package and issue.value is not None:
            package[issue.name] = issue.value
    try:
        scenario.encode(package)
    except PackageError as e:
        raise DealoptError(f"{path}: {e}") from None
    return package


def _proposal(args: argparse.Namespace) -> int:
    from optimizer.errors import DealoptError
    from optimizer.reports.proposal import format_from_path, proposal_document, write_proposal
    from optimizer.scenario.files import load_scenario

    parser = args._parser
    fmt = args.format
    if fmt is None:
        fmt = format_from_path(args.output) if args.output else "md"
        if fmt is None:
            parser.error(f"cannot tell the format from {args.output!r}; give --format md|docx|pdf")
    if fmt != "md" and not args.output:
        parser.error(f"--format {fmt} needs -o OUT (a binary file is not printed)")
    if args.output:
        implied = format_from_path(args.output)
        if implied is not None and implied != fmt:
            parser.error(
                f"--format {fmt} does not match -o {args.output} (a .{implied} name); "
                f"name the file .{fmt} or leave out --format"
            )
        out = Path(args.output)
        if out.is_dir():
            raise DealoptError(f"{out}: is a directory; give a file name")
        # Checked early to spare the search; the save itself refuses atomically (exclusive create).
        if os.path.lexists(out) and not args.force:
            raise DealoptError(f"{out} exists; pass --force to replace it")
    scenario = load_scenario(args.file)
    package: Any = args.package
    if args.package_file:
        package = read_package_file(scenario, args.package_file)
    doc = proposal_document(
        scenario,
        package=package,
        meso=args.meso,
        audience=args.audience,
        solver=args.solver,
        time_limit=args.time_limit,
        tolerance=args.tolerance,
        objective=args.objective,
        override=args.override,
    )
    if not args.output:
        sys.stdout.write(doc.to_markdown())
        return 0
    path = write_proposal(doc, args.output, fmt, force=args.force)
    print(
        f"{path}: wrote the {args.audience} {'proposal' if args.audience == 'counterpart' else 'brief'} ({fmt})"
    )
    return 0
