"""QA errors reach HTTP through one mapping: QA error -> request category -> HTTP_STATUS."""

from __future__ import annotations

import pytest

from hotline.qa.errors import BadMediaLink, InvalidAnswers, NotAssigned, PathEscape, PlanError, ScoreLocked, UnknownPlan
from hotline.qa.store import QaStoreUnavailable, SampleExists
from hotline.web.errors import status_of
from hotline.web.qa_pages import _to_web


@pytest.mark.parametrize(("exc", "status", "error_id"), [
    (NotAssigned("ann", "assignment 3"), 403, "forbidden"),
    (BadMediaLink("expired"), 403, "forbidden"),
    (ScoreLocked(3), 409, "conflict"),
    (SampleExists("daily", "2025-01-02"), 409, "conflict"),
    (InvalidAnswers(["q1: missing"]), 400, "invalid-request"),
    (PlanError(["qa.yaml: plans: bad"]), 400, "invalid-request"),
    (UnknownPlan("x", ["daily"]), 404, "not-found"),
    (QaStoreUnavailable("save score", "timeout"), 503, "unavailable"),
])
def test_given_a_qa_error_when_answered_then_its_category_status_and_qa_id(exc, status, error_id) -> None:
    web = _to_web(exc)
    assert (status_of(web), web.error_id, web.details["qa_error"]) == (status, error_id, exc.error_id)
    assert web.message == str(exc)


def test_given_a_path_escape_when_answered_then_403_without_the_path() -> None:
    web = _to_web(PathEscape("../../etc/passwd", "leaves the storage root"))
    assert (status_of(web), web.message, web.details) == (403, "recording not available", {"qa_error": "path-escape"})


def test_given_invalid_answers_when_answered_then_the_problems_in_details() -> None:
    assert _to_web(InvalidAnswers(["q1: missing", "q9: unknown"])).details["problems"] == ["q1: missing", "q9: unknown"]


def test_no_qa_error_carries_an_http_status() -> None:
    for cls in (NotAssigned, BadMediaLink, ScoreLocked, SampleExists, InvalidAnswers, PlanError, UnknownPlan,
                QaStoreUnavailable, PathEscape):
        assert not hasattr(cls, "status_code")
