"""Estimates, not facts: win-win probabilities, robust packages, questions to ask, sensitivity.

The public face of the uncertainty features (one import for the CLI, the UI and scripts):

* ``has_ranges(scenario)`` -- any weight, option score or walk-away point given as a range;
* ``annotate(scenario, result, samples=10000, seed=0)`` -- fills ``p_win_win``, ``acceptance`` and
  the gain band (``extra``) of every package of an ``ImproveResult`` / ``FrontierResult``
  (``optimizer.sampling``);
* ``robust_improve(scenario, alpha, samples=200, seed=0, top=1, solver=None)`` -- our best gain
  subject to ``p_win_win >= alpha`` by sample-average approximation, plus the most robust package
  (``optimizer.robust``);
* ``questions(scenario, k=3)`` -- the estimates most likely to change the recommendation, as
  questions to ask across the table; ``sensitivity(scenario)`` -- per weight, the interval over
  which the recommended package stays best (``optimizer.questions``).
"""

from __future__ import annotations

from optimizer.questions import (
    Question,
    SensitivityItem,
    SensitivityResult,
    questions,
    sensitivity,
)
from optimizer.robust import robust_improve
from optimizer.sampling import (
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

__all__ = [
    "PackageStats",
    "Param",
    "Question",
    "SampleSet",
    "SensitivityItem",
    "SensitivityResult",
    "annotate",
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
