"""The service's error hierarchy: one base class, one subclass per failure.

Each error carries what an operator needs to act (which step, which AMI action, the tail
of a log). Library errors are translated into these at the adapter boundary.
"""

from __future__ import annotations


class HotlineError(Exception):
    """Base class of every error hotline raises on purpose."""


class ConfigError(HotlineError, ValueError):
    """The configuration is invalid; ``problems`` lists every problem found (file, key path, message)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))


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
