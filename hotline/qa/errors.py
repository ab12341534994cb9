"""QA errors: one class per failure, each with a stable ``error_id``.

No HTTP here: the web layer maps each to a request error category
(``hotline.web.qa_pages``), whose status is in the one mapping :data:`hotline.web.errors.HTTP_STATUS`.
"""

from __future__ import annotations

from hotline.kernel.errors import HotlineError, ProblemsError


class QaError(HotlineError):
    """Base class of the QA package's errors."""

    error_id = "qa-error"


class PlanError(QaError, ProblemsError):
    """A sampling plan or scoring form file is invalid; ``problems`` lists every problem (file, path, message)."""

    error_id = "invalid-plan"

    headline = "invalid QA configuration"


class UnknownPlan(QaError, KeyError):
    """No plan (or form) of that name."""

    error_id = "unknown-plan"

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(f"no QA plan or form named {name!r} (known: {', '.join(known) or 'none'})")

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


class InvalidAnswers(QaError, ProblemsError):
    """A submitted score does not match its form (missing, unknown or invalid answers)."""

    error_id = "invalid-answers"

    headline = "invalid score"
    inline = True


class ScoreLocked(QaError):
    """The assignment's score was already submitted: a submitted score is final."""

    error_id = "score-locked"

    def __init__(self, assignment_id: int) -> None:
        self.assignment_id = assignment_id
        super().__init__(f"assignment {assignment_id} was already scored; a submitted score is locked")


class NotAssigned(QaError, PermissionError):
    """A reviewer asked for a call or recording that is not assigned to them."""

    error_id = "not-assigned"

    def __init__(self, user: str, what: str) -> None:
        self.user = user
        self.what = what
        super().__init__(f"{user} is not assigned {what}")


class PathEscape(QaError, PermissionError):
    """A recording path would leave the storage root (``..``, encoded dots, absolute, symlink out)."""

    error_id = "path-escape"

    def __init__(self, path: str, why: str) -> None:
        self.path = path
        self.why = why
        super().__init__(f"refused recording path {path!r}: {why}")


class BadMediaLink(QaError, PermissionError):
    """A recording URL whose signature is wrong, whose time ran out, or that belongs to someone else."""

    error_id = "bad-media-link"
