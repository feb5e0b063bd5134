"""Generators of heavy and hostile scenarios (issue 15) for the bounded-work tests."""

from __future__ import annotations

import random
from typing import Any


def many_issues(
    n_issues: int,
    n_options: int,
    n_parties: int = 2,
    *,
    seed: int = 0,
    reference: bool = False,
    linked: bool = False,
) -> dict[str, Any]:
    """A scenario with ``n_issues`` categorical issues of ``n_options`` options and random
    integer scores (so the frontier is large); ``linked`` adds cross-issue rules."""
    rng = random.Random(seed)
    issues = []
    for i in range(n_issues):
        issue: dict[str, Any] = {"name": f"i{i}", "options": [f"o{k}" for k in range(n_options)]}
        if reference:
            issue["value"] = "o0"
        issues.append(issue)
    parties = []
    for p in range(n_parties):
        parties.append(
            {
                "name": f"P{p}",
                "preferences": {
                    "weights": {f"i{i}": rng.randint(1, 9) for i in range(n_issues)},
                    "values": {
                        f"i{i}": {f"o{k}": rng.randint(0, 100) for k in range(n_options)}
                        for i in range(n_issues)
                    },
                },
            }
        )
    constraints = []
    if linked:
        for i in range(0, n_issues - 1, 2):
            constraints.append(
                {"type": "forbidden", "combination": {f"i{i}": "o1", f"i{i + 1}": "o1"}}
            )
    return {"name": "heavy", "parties": parties, "issues": issues, "constraints": constraints}
