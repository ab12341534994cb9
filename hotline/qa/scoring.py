"""Scoring forms: weighted criteria with fatal items, and the pure score computation.

A form is defined in the QA YAML file (see :mod:`hotline.qa.plans`)::

    forms:
      standard:
        title: 12345 call quality
        pass_score: 80
        criteria:
          - {id: greeting, label: 规范问候语, weight: 10}
          - {id: accuracy, label: 政策解答准确, weight: 40}
          - {id: work_order, label: 工单记录完整, weight: 30, allow_na: true}
          - {id: courtesy, label: 服务态度, weight: 20}
          - {id: privacy, label: 未泄露市民隐私, weight: 0, fatal: true}

Each criterion is answered ``yes`` (met), ``no`` (not met) or ``na`` (not applicable, only where
``allow_na``). The score, 0-100, is ``100 * sum(weight of yes) / sum(weight of yes and no)``, rounded
to one decimal; when no weighted criterion applies the score is 100. Any fatal criterion answered
``no`` makes the score 0 whatever the rest (a fatal item failed -> score 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hotline.qa.errors import InvalidAnswers

ANSWERS = ("yes", "no", "na")
Answer = Literal["yes", "no", "na"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criterion(_Strict):
    """One line of a form. ``weight`` is relative (any non-negative number); ``fatal`` fails the call."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1)
    weight: float = Field(ge=0)
    fatal: bool = False
    allow_na: bool = False
    help: str = ""


class ScoringForm(_Strict):
    """A scoring form: criteria in display order and the pass mark (0-100)."""

    title: str = Field(min_length=1)
    criteria: tuple[Criterion, ...] = Field(min_length=1)
    pass_score: float = Field(80.0, ge=0, le=100)

    @model_validator(mode="after")
    def _check(self) -> ScoringForm:
        ids = [c.id for c in self.criteria]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"criterion ids must be unique, repeated: {', '.join(dup)}")
        if sum(c.weight for c in self.criteria) <= 0:
            raise ValueError("at least one criterion needs a weight > 0")
        return self


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """A computed score.

    Attributes:
        score: 0-100, one decimal.
        passed: ``score >= form.pass_score``.
        fatal_failed: ids of fatal criteria answered ``no`` (non-empty -> score 0).
        answers: criterion id -> ``yes``/``no``/``na``, every criterion of the form.
    """

    score: float
    passed: bool
    fatal_failed: tuple[str, ...]
    answers: dict[str, str]


def compute_score(form: ScoringForm, answers: Mapping[str, str]) -> ScoreResult:
    """Score one review.

    Args:
        form: the form.
        answers: criterion id -> ``yes``, ``no`` or ``na``; every criterion must be answered.
    Returns:
        The score (see the module docstring for the formula).
    Raises:
        InvalidAnswers: a criterion unanswered, an unknown criterion, an answer not in
            ``yes/no/na``, or ``na`` where the criterion does not allow it; lists every problem.
    """
    problems: list[str] = []
    known = {c.id for c in form.criteria}
    problems += [f"unknown criterion {k!r}" for k in sorted(set(answers) - known)]
    for c in form.criteria:
        a = answers.get(c.id)
        if a is None:
            problems.append(f"{c.id}: not answered")
        elif a not in ANSWERS:
            problems.append(f"{c.id}: answer must be yes, no or na, got {a!r}")
        elif a == "na" and not c.allow_na:
            problems.append(f"{c.id}: cannot be answered na")
    if problems:
        raise InvalidAnswers(problems)
    fatal = tuple(c.id for c in form.criteria if c.fatal and answers[c.id] == "no")
    met = sum(c.weight for c in form.criteria if answers[c.id] == "yes")
    applicable = sum(c.weight for c in form.criteria if answers[c.id] != "na")
    score = 0.0 if fatal else (100.0 if applicable == 0 else round(100.0 * met / applicable, 1))
    return ScoreResult(score, score >= form.pass_score, fatal, {c.id: answers[c.id] for c in form.criteria})
