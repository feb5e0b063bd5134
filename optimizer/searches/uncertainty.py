"""Estimates, not facts: win-win probabilities, robust packages, questions to ask, sensitivity.

The public face of the uncertainty features (one import for the CLI, the UI and scripts):

* ``has_ranges(scenario)`` -- any weight, option score or walk-away point given as a range;
* ``annotate(scenario, result, samples=10000, seed=0)`` -- fills ``p_win_win``, ``acceptance`` and
  the gain band (``extra``) of every package of an ``ImproveResult`` / ``FrontierResult``
  (``optimizer.searches.sampling``);
* ``robust_improve(scenario, alpha, samples=200, seed=0, top=1, solver=None)`` -- our best gain
  subject to ``p_win_win >= alpha`` by sample-average approximation, plus the most robust package
  (``optimizer.searches.robust``);
* ``annotated_improve(scenario, objective, top, samples, seed)`` -- ``improve`` then ``annotate``
  (one call that returns the annotated result, for caches and scripts); ``annotated_frontier``
  likewise for the frontier;
* ``questions(scenario, k=3)`` -- the estimates most likely to change the recommendation, as
  questions to ask across the table; ``sensitivity(scenario)`` -- per weight, the interval over
  which the recommended package stays best (``optimizer.searches.questions``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optimizer.searches.questions import (
    Question,
    SensitivityItem,
    SensitivityResult,
    questions,
    sensitivity,
)
from optimizer.searches.robust import robust_improve
from optimizer.searches.sampling import (
    PackageStats,
    Param,
    SampleSet,
    annotate,
    draw,
    estimates,
    has_ranges,
    package_stats,
    sample,
    uncertain_parameters,
)

if TYPE_CHECKING:
    from optimizer.engine.results import FrontierResult, ImproveResult
    from optimizer.scenario.models import Scenario


def annotated_improve(
    scenario: Scenario,
    objective: str = "maxmin",
    top: int = 1,
    *,
    min_diff: int = 1,
    samples: int = 10000,
    seed: int = 0,
    solver: str | None = None,
    time_limit: float | None = None,
) -> ImproveResult:
    """``optimizer.searches.improve.improve`` with the win-win probabilities filled in (when there are ranges)."""
    from optimizer.searches.improve import improve

    result = improve(
        scenario,
        objective=objective,  # type: ignore[arg-type]
        top=top,
        min_diff=min_diff,
        solver=solver,
        time_limit=time_limit,
    )
    annotate(scenario, result, samples=samples, seed=seed)
    return result


def annotated_frontier(
    scenario: Scenario,
    parties: list[str] | None = None,
    *,
    samples: int = 10000,
    seed: int = 0,
    solver: str | None = None,
    time_limit: float | None = None,
) -> FrontierResult:
    """``optimizer.searches.frontier.frontier`` with the win-win probabilities filled in (when there are ranges)."""
    from optimizer.searches.frontier import frontier

    result = frontier(scenario, parties=parties, solver=solver, time_limit=time_limit)
    annotate(scenario, result, samples=samples, seed=seed)
    return result


__all__ = [
    "PackageStats",
    "Param",
    "Question",
    "SampleSet",
    "SensitivityItem",
    "SensitivityResult",
    "annotate",
    "annotated_frontier",
    "annotated_improve",
    "draw",
    "estimates",
    "has_ranges",
    "package_stats",
    "questions",
    "robust_improve",
    "sample",
    "sensitivity",
    "uncertain_parameters",
]
