"""What-if analysis on the SaaS renewal: change one thing at a time and see what the optimizer says.

Run from the repository root: ``python examples/what_if.py``. Each what-if edits a copy of the
scenario (a weight, a status, a constraint), re-validates it and prints the best Pareto-improving
package over the deal on the table, with each side's gain.
"""

from __future__ import annotations

from pathlib import Path

from optimizer import AcceptableConstraint, Scenario, improve

EXAMPLE = Path(__file__).with_name("saas_renewal.yaml")


def show(title: str, scenario: Scenario) -> None:
    """Print the best package (max-min gain) and what it changes."""
    result = improve(scenario, objective="maxmin")
    print(f"== {title}")
    if not result.packages:
        print(f"   no Pareto-improving package: {result.explanation}")
        return
    best = result.packages[0]
    gains = ", ".join(f"{p} {g:+.1f}" for p, g in (best.gains or {}).items())
    print(f"   gains: {gains}")
    for change in best.changes:
        if change.change != "kept":
            print(f"   {change.issue}: {change.reference} -> {change.value} ({change.change})")


def main() -> None:
    base = Scenario.load(EXAMPLE)
    ref = base.utilities([base.reference()])[0]
    print(f"{base.name}: {base.summary_line()}")
    print(
        "deal on the table: "
        + ", ".join(f"{p} {u:.1f}" for p, u in zip(base.party_names, ref, strict=True))
    )
    show("as estimated", base)

    # What if the vendor cares more about the price than we thought?
    s = base.model_copy(deep=True)
    s.party("CloudDesk").preferences.weights["price per seat"] = 70
    show("vendor weight on price 40 -> 70", s.revalidate())

    # What if we reopen the SLA, which is agreed today?
    s = base.model_copy(deep=True)
    s.issue("SLA").status = "provisional"
    show("SLA reopened (agreed -> provisional)", s.revalidate())

    # What if we insist on premium support or better (a new hard constraint)?
    s = base.model_copy(deep=True)
    s.constraints.append(
        AcceptableConstraint(
            name="support at least premium",
            party="Northwind Ops",
            issue="support tier",
            options=["premium", "enterprise"],
        )
    )
    show("we insist on premium support", s.revalidate())


if __name__ == "__main__":
    main()
