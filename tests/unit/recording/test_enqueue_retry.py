"""A transcription job is retried while Redis fails, never dropped on the first timeout (no sockets)."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.recording.mixmonitor import Recorder
from hotline.recording.settings import RecordingSettings
from hotline.speech.errors import QueueUnavailable


class FlakyJobs:
    """A job stream whose first ``fail`` XADDs time out (what a stalled Redis did in the demo)."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.jobs: list[Any] = []

    async def enqueue(self, job: Any) -> str:
        if self.fail > 0:
            self.fail -= 1
            raise QueueUnavailable("XADD", "no answer within 5.0s")
        self.jobs.append(job)
        return "1-0"


class NoAmi:
    def subscribe(self, handler: Any) -> None:
        pass


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)

    monkeypatch.setattr("hotline.recording.mixmonitor.asyncio.sleep", sleep)
    return slept


async def test_given_redis_times_out_twice_when_a_recording_closes_then_its_job_is_queued_once(
        no_sleep: list[float]) -> None:
    jobs = FlakyJobs(fail=2)
    rec = Recorder(NoAmi(), RecordingSettings(), jobs=jobs)  # type: ignore[arg-type]
    job_id = await rec._enqueue("/rec/a.wav", "L1", (), "2026/12/07/L1.wav")
    assert [j.job_id for j in jobs.jobs] == [job_id]
    assert no_sleep == [0.5, 1.0]  # backoff doubling


async def test_given_redis_down_past_the_retry_bound_then_the_failure_is_raised(no_sleep: list[float]) -> None:
    jobs = FlakyJobs(fail=10**6)
    rec = Recorder(NoAmi(), RecordingSettings(enqueue_retry_s=0.0), jobs=jobs)  # type: ignore[arg-type]
    with pytest.raises(QueueUnavailable):
        await rec._enqueue("/rec/a.wav", "L1", (), "2026/12/07/L1.wav")
    assert jobs.jobs == []
