"""The few named exceptions of the library (one line of docstring each, as in cvxpy)."""

from __future__ import annotations


class DealoptError(Exception):
    """Base class of every error this library raises on purpose."""


class ScenarioFileError(DealoptError):
    """A scenario file cannot be read: missing, not a file, not text, not YAML/JSON, too deep."""


class ScenarioValidationError(DealoptError):
    """A scenario breaks one or more rules; ``problems`` lists each with its location."""

    def __init__(self, problems: list, source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{head}{len(self.problems)} problem(s) in the scenario:\n{lines}")


class PackageError(DealoptError):
    """A package names an unknown issue or option, or misses an issue."""


class SolverError(DealoptError):
    """The solver failed or is not available."""


class ModelError(DealoptError):
    """The compiled model disagrees with the numpy evaluator: an internal error, never ignored."""


class FastPathNotApplicable(DealoptError):
    """The exact numpy fast path cannot handle this scenario (the caller falls back to the MILP)."""


class ProposalGuardError(DealoptError):
    """A proposal would be below our walk-away point or behind our own offer (not overridden)."""

    def __init__(self, message: str, problems: list | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class WorkspaceError(DealoptError):
    """The app's workspace database cannot be opened, read or written (locked, read-only, corrupt)."""


class TimeLimitReached(DealoptError):
    """The command's time budget ran out inside a loop; the search returns what it found."""


class TooLargeError(DealoptError):
    """The work or memory a request needs is past what the engine accepts (a cap, with advice)."""


class OutputExistsError(DealoptError, FileExistsError):
    """The file to write exists and replacing it was not asked for."""


class SaveError(DealoptError):
    """A file could not be written; whatever was there before is left as it was."""
