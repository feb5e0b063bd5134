"""Build a scenario in code, evaluate every package with numpy, then ask for the frontier.

Run from the repository root: ``python examples/build_in_code.py``. A freelance web-design
contract: the designer (us) and a client negotiate the fee, the deadline, revision rounds and who
owns the source files. Plain dicts are enough; the models validate them.
"""

from __future__ import annotations

import itertools

import numpy as np

from optimizer import Scenario, frontier, improve


def build() -> Scenario:
    """The scenario, written as plain data."""
    return Scenario(
        name="Freelance web design",
        parties=[
            {
                "name": "Designer",
                "reservation_value": 30,
                "preferences": {
                    "weights": {"fee": 50, "deadline": 20, "revisions": 20, "source files": 10},
                    "values": {
                        "fee": {"shape": "increasing"},
                        "deadline": {"2 weeks": 10, "4 weeks": 80, "6 weeks": 100},
                        "revisions": {"1": 100, "2": 80, "unlimited": 0},
                        "source files": {"designer keeps": 100, "client owns": 40},
                    },
                },
            },
            {
                "name": "Client",
                "reservation_value": 30,
                "preferences": {
                    "weights": {"fee": 40, "deadline": 35, "revisions": 10, "source files": 15},
                    "values": {
                        "fee": {"shape": "decreasing"},
                        "deadline": {"2 weeks": 100, "4 weeks": 85, "6 weeks": 10},
                        "revisions": {"1": 20, "2": 80, "unlimited": 100},
                        "source files": {"designer keeps": 0, "client owns": 100},
                    },
                },
            },
        ],
        issues=[
            {"name": "fee", "min": 4000, "max": 8000, "step": 500, "unit": "EUR", "value": 6000},
            {"name": "deadline", "options": ["2 weeks", "4 weeks", "6 weeks"], "value": "2 weeks"},
            # Option names that look like numbers stay text: "1" and "2" are names here.
            {"name": "revisions", "options": [1, 2, "unlimited"], "value": 2},
            {
                "name": "source files",
                "options": ["designer keeps", "client owns"],
                "status": "agreed",
                "value": "client owns",
            },
        ],
    )


def main() -> None:
    s = build()
    print(f"{s.name}: {s.summary_line()}")
    print("revisions options:", s.issue("revisions").options)

    # Every package at once: grid positions for each issue, one row per package.
    grids = [range(issue.size) for issue in s.issues]
    packages = np.array(list(itertools.product(*grids)), dtype=np.int64)
    utilities = s.utilities(packages)
    best_joint = int(np.argmax(utilities.sum(axis=1)))
    print(f"{len(packages)} packages; best joint utility:", s.decode(packages[best_joint]))

    ref = s.reference()
    table = s.utilities([ref])[0]
    print(
        "deal on the table:",
        {p: round(float(u), 1) for p, u in zip(s.party_names, table, strict=True)},
    )

    result = improve(s, top=2)
    for pkg in result.packages:
        print("improvement:", pkg.package, "gains", pkg.gains)

    front = frontier(s)
    print(f"frontier: {len(front.packages)} packages (exact: {front.exact})")
    for pkg in front.packages:
        print("  ", pkg.utilities, pkg.package)


if __name__ == "__main__":
    main()
