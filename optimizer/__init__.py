"""dealopt: find Pareto-improving package deals for multi-issue negotiations.

Scripting in three lines::

    from optimizer import Scenario, improve, frontier
    s = Scenario.load("examples/saas_renewal.yaml")
    print(improve(s, top=3).packages[0].package)

Heavy modules (PuLP) are imported on first use, so ``import optimizer`` stays fast.
"""

from __future__ import annotations

from typing import Any

from optimizer.errors import (
    DealoptError,
    InfeasibleError,
    PackageError,
    ScenarioFileError,
    ScenarioValidationError,
    SolverError,
)
from optimizer.models import (
    AcceptableConstraint,
    BudgetConstraint,
    ForbiddenConstraint,
    ImpliesConstraint,
    Issue,
    Offer,
    PackageRef,
    Party,
    Preferences,
    Problem,
    Range,
    Scenario,
    Synergy,
    ValueShape,
)

__version__ = "0.1.0"

# Public functions that live in modules importing PuLP: resolved lazily (PEP 562).
_LAZY = {
    "improve": "optimizer.search",
    "frontier": "optimizer.pareto",
    "explain_infeasible": "optimizer.diagnose",
    "import_genius": "optimizer.genius",
    "progress_summary": "optimizer.summary",
    "explain_trade": "optimizer.explain",
    "equivalent_offers": "optimizer.meso",
    "record_offer": "optimizer.log",
    "proposal_document": "optimizer.proposal",
    "annotate": "optimizer.uncertainty",
    "robust_improve": "optimizer.uncertainty",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'optimizer' has no attribute {name!r}")


__all__ = [
    "AcceptableConstraint",
    "BudgetConstraint",
    "DealoptError",
    "ForbiddenConstraint",
    "ImpliesConstraint",
    "InfeasibleError",
    "Issue",
    "Offer",
    "PackageError",
    "PackageRef",
    "Party",
    "Preferences",
    "Problem",
    "Range",
    "Scenario",
    "ScenarioFileError",
    "ScenarioValidationError",
    "SolverError",
    "Synergy",
    "ValueShape",
    "annotate",
    "equivalent_offers",
    "explain_infeasible",
    "explain_trade",
    "frontier",
    "import_genius",
    "improve",
    "progress_summary",
    "proposal_document",
    "record_offer",
    "robust_improve",
]
