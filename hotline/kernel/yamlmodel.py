"""Load a YAML file into a pydantic model, every problem reported together as ``file: key.path: message``.

The one loader behind the configuration (:func:`hotline.app.config.load_settings`), the agents and
queues file (:func:`hotline.queues.config.load_agents_file`) and the QA plans
(:func:`hotline.qa.plans.load_definitions`). Blocking file I/O: call at start or in a thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

#: the error to raise: built from the list of problems (``ConfigError``, ``PlanError`` ...)
ProblemsFactory = Callable[[list[str]], Exception]


def read_yaml(path: str | os.PathLike[str], error: ProblemsFactory, *, empty: Any = None) -> Any:
    """The parsed YAML document in ``path`` (``empty`` when the file holds no document).

    Raises:
        ``error([...])``: ``"<file>: cannot read: <reason>"`` or ``"<file>: not valid YAML: <parser message>"``.
    """
    src = Path(path)
    try:
        data = yaml.safe_load(src.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error([f"{src}: cannot read: {exc.strerror}"]) from exc
    except yaml.YAMLError as exc:
        raise error([f"{src}: not valid YAML: {exc}"]) from exc
    return empty if data is None else data


def validation_problems(exc: ValidationError, source: str | os.PathLike[str]) -> list[str]:
    """One ``"<source>: dotted.key.path: message"`` line per pydantic error (``<root>`` for the top)."""
    return [f"{source}: {'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()]


def validate_mapping(data: Any, model: type[M], error: ProblemsFactory, source: str | os.PathLike[str]) -> M:
    """``model`` validated from ``data``, which must be a mapping (already-parsed YAML).

    Raises:
        ``error([...])``: ``"<source>: the top level must be a mapping, got <type>"``, or every
            validation problem (see :func:`validation_problems`).
    """
    if not isinstance(data, dict):
        raise error([f"{source}: the top level must be a mapping, got {type(data).__name__}"])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(validation_problems(exc, source)) from exc


def load_model(path: str | os.PathLike[str], model: type[M], error: ProblemsFactory) -> M:
    """Read ``path`` (YAML; an empty file is ``{}``) and validate it as ``model``.

    Args:
        path: the YAML file.
        model: the pydantic model of the whole file (``extra="forbid"`` to report unknown keys).
        error: the problems error to raise, e.g. ``hotline.kernel.errors.ConfigError``.
    Returns:
        The validated model.
    Raises:
        ``error(problems)``: unreadable file, bad YAML, a top level that is not a mapping, or every
            invalid key as ``file: dotted.path: message``.
    """
    return validate_mapping(read_yaml(path, error, empty={}), model, error, Path(path))

