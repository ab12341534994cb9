"""In-memory stand-ins for the header-injection tests: a callbacks store and an AMI client that
records the exact bytes it would write (``encode_action``, the client's own encoder)."""

from __future__ import annotations

from collections.abc import Mapping

from hotline.callbacks.keepplace import CallbackRequest
from hotline.callbacks.model import Job
from hotline.telephony.ami import AmiResponse, AmiStats, FieldValue, encode_action
from hotline.telephony.frames import AmiMessage


class MemoryStore:
    """The part of ``CallbackStore`` the API's create paths use (``add_job``, ``add_request``)."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.requests: dict[str, CallbackRequest] = {}

    async def add_job(self, job: Job) -> tuple[Job, bool]:
        if job.job_id in self.jobs:
            return self.jobs[job.job_id], False
        self.jobs[job.job_id] = job
        return job, True

    async def add_request(self, request: CallbackRequest) -> tuple[CallbackRequest, bool]:
        self.requests.setdefault(request.request_id, request)
        return self.requests[request.request_id], True


class CaptureAmi:
    """``AmiClient.action`` without a socket: encodes exactly as the client does and keeps the bytes."""

    connected = True

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.stats = AmiStats()  # read by the web app's metrics sampler
        self._n = 0

    def next_action_id(self, name: str) -> str:
        self._n += 1
        return f"t.{self._n}.{name}"

    async def action(self, name: str, fields: Mapping[str, FieldValue] | None = None, *, timeout: float | None = None,
                     action_id: str | None = None, check: bool = False) -> AmiResponse:
        del timeout, check
        self.sent.append(encode_action(name, action_id or self.next_action_id(name), fields))
        return AmiResponse(AmiMessage({"Response": "Success"}))


def headers_of(data: bytes) -> list[tuple[str, str]]:
    """The ``(name, value)`` lines of one encoded action, checked to be exactly one well-formed frame."""
    assert data.endswith(b"\r\n\r\n") and data.count(b"\r\n\r\n") == 1, data
    lines = data[:-4].decode("utf-8").split("\r\n")
    out = []
    for line in lines:
        name, sep, value = line.partition(": ")
        assert sep and name and "\r" not in line and "\n" not in line, line
        out.append((name, value))
    return out
