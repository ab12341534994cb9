"""speech.jobs: job fields codec, stable ids, outcomes."""

from __future__ import annotations

import pytest

from hotline.speech.jobs import (
    InvalidJob,
    JobOutcome,
    TranscriptionJob,
    failed_outcome,
    job_id_for,
    new_job,
    outcome_for,
    should_give_up,
)
from hotline.speech.transcript import skipped_transcript


def test_given_job_when_encoded_as_redis_bytes_then_decoded_equal() -> None:
    job = new_job("/var/spool/asterisk/monitor/1700000000.42.wav", "1700000000.42", now=1700000100.5)
    as_redis = {k.encode(): v.encode() for k, v in job.to_fields().items()}

    assert TranscriptionJob.from_fields(as_redis) == job


def test_given_same_recording_when_enqueued_twice_then_same_job_id() -> None:
    a = new_job("/rec/a.wav", "L1", now=1.0)
    b = new_job("/rec/a.wav", "L1", now=2.0)
    assert a.job_id == b.job_id == job_id_for("/rec/a.wav", "L1")
    assert new_job("/rec/b.wav", "L1", now=1.0).job_id != a.job_id
    assert new_job("/rec/a.wav", "L1", now=1.0, job_id="again-1").job_id == "again-1"


@pytest.mark.parametrize(
    "fields", [{}, {b"path": b"/a.wav"}, {"job_id": "x", "path": "p", "enqueued_at": "soon"}]
)
def test_given_foreign_entry_when_parsed_then_invalid_job(fields: dict) -> None:
    with pytest.raises(InvalidJob):
        TranscriptionJob.from_fields(fields)


@pytest.mark.parametrize(("times", "limit", "give_up"), [(1, 3, False), (3, 3, False), (4, 3, True)])
def test_should_give_up(times: int, limit: int, give_up: bool) -> None:
    assert should_give_up(times, limit) is give_up


def test_outcomes_round_trip_and_status() -> None:
    job = new_job("/rec/a.wav", "L1", now=1.0)
    skipped = outcome_for(job, skipped_transcript("/rec/a.wav", "sub_second"), worker="w1", now=2.0)
    failed = failed_outcome(job, "boom", worker="w2", now=3.0, attempts=4)

    assert skipped.status == "skipped" and failed.status == "failed" and failed.transcript is None
    for o in (skipped, failed):
        assert JobOutcome.from_json(o.to_json()) == o


def test_given_job_with_legs_at_own_rates_when_encoded_then_legs_survive_and_id_follows_the_path() -> None:
    legs = ("/rec/L1.caller.wav", "/rec/L1.agent.wav16")
    job = new_job("/rec/L1.wav", "L1", now=3.0, legs=legs)
    as_redis = {k.encode(): v.encode() for k, v in job.to_fields().items()}

    assert TranscriptionJob.from_fields(as_redis).legs == legs
    assert job.job_id == new_job("/rec/L1.wav", "L1", now=3.0).job_id
    assert "legs" not in new_job("/rec/L1.wav", "L1", now=3.0).to_fields()
