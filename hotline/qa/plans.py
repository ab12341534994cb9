"""Sampling plans and scoring forms in YAML (pydantic v2, ``extra="forbid"``), checked all at once.

One file holds both (``QaConfig.plans_file``), e.g.::

    plans:
      daily:
        description: 5% of each day's calls, proportional by queue, plus the calls worth a look
        timezone: Asia/Shanghai
        exclude: {shorter_than_s: 20}                  # and unanswered / unrecorded calls
        random: {percent: 5, stratify_by: [queue]}     # queue, skill, district, call_type
        agent_minimum: {per_week: 2}                   # every agent reviewed at least twice a week
        targeted:
          keyword_flags: [complaint, threat]           # speech.transcript keyword flags
          longer_than_s: 900
          waited_longer_than_s: 120
          repeat_callers: {min_calls: 3, within_days: 7}
          dissatisfied_at_most: 2                      # follow-up rating 1-5
        reviewers: [qa1, qa2, qa3]
        calibration: {calls: 2, reviewers_per_call: 3}
        form: standard
    forms:
      standard: {title: ..., criteria: [...]}          # see qa.scoring

:func:`load_definitions` reports every problem together, each as ``file: dotted.path: message``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hotline.kernel.yamlmodel import read_yaml, validation_problems
from hotline.qa.errors import PlanError, UnknownPlan
from hotline.qa.scoring import ScoringForm

StrataKey = Literal["queue", "skill", "district", "call_type"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Exclusions(_Strict):
    """Calls never sampled: shorter than ``shorter_than_s``; unanswered; without a recording."""

    shorter_than_s: float = Field(0.0, ge=0)
    unanswered: bool = True
    unrecorded: bool = True


class RandomRule(_Strict):
    """``percent`` of the day's eligible calls, optionally allocated proportionally across strata."""

    percent: float = Field(gt=0, le=100)
    stratify_by: tuple[StrataKey, ...] = ()

    @field_validator("stratify_by")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError("stratify_by keys must be unique")
        return v


class AgentMinimum(_Strict):
    """At least ``per_week`` sampled calls per agent per ISO week (Monday-Sunday, plan time zone)."""

    per_week: int = Field(ge=1)


class RepeatCallers(_Strict):
    """A call is a repeat when its number called ``min_calls`` times or more within ``within_days`` up to it."""

    min_calls: int = Field(2, ge=2)
    within_days: float = Field(7.0, gt=0)


class Targeted(_Strict):
    """Calls taken whenever they match (each match is a reason)."""

    keyword_flags: tuple[str, ...] = ()
    longer_than_s: float | None = Field(None, gt=0)
    waited_longer_than_s: float | None = Field(None, ge=0)
    repeat_callers: RepeatCallers | None = None
    dissatisfied_at_most: int | None = Field(None, ge=1, le=5)

    @property
    def any(self) -> bool:
        return bool(self.keyword_flags) or any(
            v is not None for v in (self.longer_than_s, self.waited_longer_than_s,
                                    self.repeat_callers, self.dissatisfied_at_most))


class Calibration(_Strict):
    """``calls`` calls of each sample go to ``reviewers_per_call`` reviewers each (agreement is reported)."""

    calls: int = Field(ge=1)
    reviewers_per_call: int = Field(ge=2)


class SamplingPlan(_Strict):
    """One sampling plan. At least one of ``random``, ``agent_minimum`` or a ``targeted`` rule is required."""

    description: str = ""
    timezone: str = "Asia/Shanghai"
    exclude: Exclusions = Exclusions()
    random: RandomRule | None = None
    agent_minimum: AgentMinimum | None = None
    targeted: Targeted = Targeted()
    reviewers: tuple[str, ...] = ()
    calibration: Calibration | None = None
    form: str | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v

    @model_validator(mode="after")
    def _check(self) -> SamplingPlan:
        if self.random is None and self.agent_minimum is None and not self.targeted.any:
            raise ValueError("the plan samples nothing: give random, agent_minimum or a targeted rule")
        if len(set(self.reviewers)) != len(self.reviewers):
            raise ValueError("reviewers must be unique")
        if self.calibration and self.reviewers and self.calibration.reviewers_per_call > len(self.reviewers):
            raise ValueError(f"calibration needs {self.calibration.reviewers_per_call} reviewers per call, "
                             f"the plan has {len(self.reviewers)}")
        return self


class QaDefinitions(_Strict):
    """Everything in the QA YAML file: plans and forms by name."""

    plans: dict[str, SamplingPlan] = {}
    forms: dict[str, ScoringForm] = {}

    @model_validator(mode="after")
    def _forms_exist(self) -> QaDefinitions:
        missing = [f"plans.{n}.form: no form named {p.form!r}" for n, p in self.plans.items()
                   if p.form is not None and p.form not in self.forms]
        if missing:
            raise ValueError("; ".join(missing))
        return self

    def plan(self, name: str) -> SamplingPlan:
        """The plan called ``name``. Raises UnknownPlan."""
        if name not in self.plans:
            raise UnknownPlan(name, sorted(self.plans))
        return self.plans[name]

    def form(self, name: str) -> ScoringForm:
        """The form called ``name``. Raises UnknownPlan."""
        if name not in self.forms:
            raise UnknownPlan(name, sorted(self.forms))
        return self.forms[name]


def parse_definitions(data: Any, source: str = "<qa>") -> QaDefinitions:
    """Validate already-parsed YAML. Raises PlanError with every problem as ``source: path: message``."""
    if not isinstance(data, dict):
        raise PlanError([f"{source}: the top level must be a mapping, got {type(data).__name__}"])
    try:
        return QaDefinitions.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc, source)
        # the cross-reference check runs only on a valid tree: redo it on the raw data so it is reported too
        plans, forms = data.get("plans"), data.get("forms")
        if isinstance(plans, dict):
            names = set(forms) if isinstance(forms, dict) else set()
            for n, p in plans.items():
                f = p.get("form") if isinstance(p, dict) else None
                if f is not None and f not in names and not any(f"plans.{n}.form:" in x for x in problems):
                    problems.append(f"{source}: plans.{n}.form: no form named {f!r}")
        raise PlanError(problems) from exc


def load_definitions(path: str | os.PathLike[str]) -> QaDefinitions:
    """Read and validate the QA YAML file (blocking: call it at start-up or in a thread).

    Raises:
        PlanError: unreadable file, bad YAML, or invalid plans/forms (every problem listed).
    """
    return parse_definitions(read_yaml(path, PlanError, empty={}), str(Path(path)))
