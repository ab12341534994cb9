"""The service's error hierarchy: one base class, one subclass per failure.

Each error carries what an operator needs to act (which step, which AMI action, the tail
of a log). Library errors are translated into these at the adapter boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar


class HotlineError(Exception):
    """Base class of every error hotline raises on purpose."""


class ProblemsError(HotlineError, ValueError):
    """Something (a file, a form, a request) is invalid; ``problems`` lists every problem found.

    Report every problem together rather than the first one. The message is ``headline`` followed
    by the problems, one per indented line (``inline = False``, the default) or ``"; "``-separated
    on one line (``inline = True``)::

        invalid configuration:
          hotline.yaml: ami.port: Input should be a valid integer

    Attributes:
        problems: the problems as given (strings, or objects whose ``str()`` is one line).
    """

    #: the message's first part (a subclass sets it, or passes ``headline=``)
    headline: ClassVar[str] = "invalid"
    #: problems ``"; "``-joined on the headline's line instead of one per indented line
    inline: ClassVar[bool] = False

    def __init__(self, problems: Sequence[Any], headline: str | None = None) -> None:
        self.problems: list[Any] = list(problems)
        super().__init__(problem_text(headline if headline is not None else self.headline, self.problems,
                                      inline=self.inline))


def problem_text(headline: str, problems: Sequence[object], *, inline: bool = False) -> str:
    """``headline: a; b`` (inline) or ``headline:`` then each problem on its own line indented by two spaces."""
    if inline:
        return f"{headline}: " + "; ".join(str(p) for p in problems)
    return f"{headline}:" + "".join(f"\n  {p}" for p in problems)


class ConfigError(ProblemsError):
    """The configuration is invalid; ``problems`` lists every problem found (file, key path, message)."""

    headline = "invalid configuration"


class LabError(HotlineError):
    """A lab step failed.

    Attributes:
        step: the step's name (``host-packages``, ``chroot``, ``asterisk`` ...).
        log_tail: the last lines of the step's log, to show the operator.
        log_path: where the whole log is.
    """

    def __init__(self, step: str, message: str, log_tail: str = "", log_path: str = "") -> None:
        self.step = step
        self.log_tail = log_tail
        self.log_path = log_path
        text = f"lab step '{step}' failed: {message}"
        if log_path:
            text += f"\n  log: {log_path}"
        if log_tail:
            text += "\n  last lines:\n    " + "\n    ".join(log_tail.rstrip().splitlines())
        super().__init__(text)
