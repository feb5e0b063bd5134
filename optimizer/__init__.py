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
    PackageError,
    ScenarioFileError,
    ScenarioValidationError,
    SolverError,
)
from optimizer.scenario.models import (
    AcceptableConstraint,
    BudgetConstraint,
    EqualStatement,
    ForbiddenConstraint,
    ImpliesConstraint,
    Issue,
    Offer,
    OrderStatement,
    PackageRef,
    Party,
    Preferences,
    PreferStatement,
    Problem,
    Range,
    Scenario,
    SwingStatement,
    Synergy,
    ValueShape,
)

__version__ = "0.1.0"

# Public functions that live in modules importing PuLP: resolved lazily (PEP 562).
_LAZY = {
    "improve": "optimizer.searches.improve",
    "frontier": "optimizer.searches.frontier",
    "explain_infeasible": "optimizer.searches.diagnose",
    "import_genius": "optimizer.scenario.genius",
    "progress_summary": "optimizer.reports.summary",
    "explain_trade": "optimizer.reports.explain",
    "equivalent_offers": "optimizer.searches.meso",
    "record_offer": "optimizer.reports.negotiation_log",
    "proposal_document": "optimizer.reports.proposal",
    "annotate": "optimizer.searches.uncertainty",
    "robust_improve": "optimizer.searches.uncertainty",
    "estimate": "optimizer.searches.estimate",
    "next_question": "optimizer.searches.estimate",
    "apply_estimate": "optimizer.searches.estimate",
    "add_statement": "optimizer.searches.estimate",
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
    "EqualStatement",
    "ForbiddenConstraint",
    "ImpliesConstraint",
    "Issue",
    "Offer",
    "OrderStatement",
    "PackageError",
    "PackageRef",
    "Party",
    "PreferStatement",
    "Preferences",
    "Problem",
    "Range",
    "Scenario",
    "ScenarioFileError",
    "ScenarioValidationError",
    "SolverError",
    "SwingStatement",
    "Synergy",
    "ValueShape",
    "add_statement",
    "annotate",
    "apply_estimate",
    "equivalent_offers",
    "estimate",
    "explain_infeasible",
    "explain_trade",
    "frontier",
    "import_genius",
    "improve",
    "next_question",
    "progress_summary",
    "proposal_document",
    "record_offer",
    "robust_improve",
]
