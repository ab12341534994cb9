"""Prompt synthesis: every prompt of a catalog (``hotline/ivr/examples/prompts.yaml``) as an 8 kHz mono WAV.

The lab speaks with espeak-ng (Mandarin ``cmn``, Cantonese ``yue``, English ``en-us``: the voice per
language comes from the catalog's ``voices``), resampled by sox to what Asterisk plays without
transcoding: 8000 Hz, mono, 16-bit signed PCM (``.wav`` = Asterisk's ``wav`` format, slin).

Files go to ``<sounds_dir>/<full prompt name>.wav`` (``hotline/yue/main_menu.wav``), so the menu
loader's prompt check (:func:`hotline.ivr.menus.load_menu` with ``prompt_dir=sounds_dir``) finds them.
A file is up to date when the manifest (``<sounds_dir>/.hotline-prompts.json``: name -> digest of
text, voice and recipe) matches and the file exists: a second run synthesizes nothing. Real
deployments drop recorded prompts in with the same names and never run this (or run it for the
names they did not record: files not in the manifest are never overwritten unless ``force``).

:func:`plan` is pure; :func:`synthesize` runs the two programs (blocking: call it from a thread
or a CLI, never from the event loop).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from hotline.ivr.prompt_catalog import PromptCatalog
from hotline.kernel.errors import HotlineError

#: bumped when the synthesis recipe changes, so every prompt is made again
RECIPE = "espeak-ng|sox -r 8000 -c 1 -b 16|1"
MANIFEST = ".hotline-prompts.json"
SAMPLE_RATE_HZ = 8000


class PromptSynthesisError(HotlineError, RuntimeError):
    """A prompt could not be synthesized.

    Attributes:
        name: full prompt name (``hotline/zh/welcome``).
        detail: the failing program and its stderr tail.
    """

    def __init__(self, name: str, detail: str) -> None:
        self.name = name
        self.detail = detail
        super().__init__(f"cannot synthesize prompt {name!r}: {detail}")


@dataclass(frozen=True, slots=True)
class PromptJob:
    """One file to make: ``text`` spoken by espeak-ng ``voice`` into ``path``."""

    name: str
    language: str
    voice: str
    text: str
    path: Path
    digest: str


@dataclass
class SynthesisReport:
    """What :func:`synthesize` did. ``made``/``skipped``/``kept`` hold full prompt names."""

    made: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # a file not made by us (a recording): left alone

    def summary(self) -> str:
        return f"{len(self.made)} made, {len(self.skipped)} up to date, {len(self.kept)} recorded files kept"


def digest(text: str, voice: str) -> str:
    """Stable digest of what makes a prompt file (text, voice, recipe)."""
    return hashlib.sha256(f"{RECIPE}\0{voice}\0{text}".encode()).hexdigest()[:16]


def plan(
    catalog: PromptCatalog,
    sounds_dir: Path,
    manifest: Mapping[str, str],
    existing: Callable[[Path], bool],
    *,
    force: bool = False,
) -> tuple[list[PromptJob], list[str], list[str]]:
    """Decide which prompts to synthesize (pure given ``existing``).

    Args:
        catalog: the prompt texts.
        sounds_dir: Asterisk's sound folder (``/usr/share/asterisk/sounds`` in the chroot).
        manifest: name -> digest of the files made last time.
        existing: whether a file exists (``Path.exists`` in production).
        force: remake every file, recordings included.
    Returns:
        ``(jobs, up_to_date_names, kept_recording_names)``.
    Raises:
        PromptSynthesisError: a language has no voice in the catalog.
    """
    jobs: list[PromptJob] = []
    skipped: list[str] = []
    kept: list[str] = []
    for name, language, text in catalog.texts():
        voice = catalog.voices.get(language)
        if not voice:
            raise PromptSynthesisError(name, f"no espeak-ng voice for language {language!r} in the catalog")
        path = sounds_dir / f"{name}.wav"
        want = digest(text, voice)
        present = existing(path)
        if not force and present and manifest.get(name) == want:
            skipped.append(name)
        elif not force and present and name not in manifest:
            kept.append(name)
        else:
            jobs.append(PromptJob(name, language, voice, text, path, want))
    return jobs, skipped, kept


def _run(argv: list[str], name: str, timeout_s: float) -> None:
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=timeout_s, check=False)
    except FileNotFoundError as exc:
        raise PromptSynthesisError(name, f"{argv[0]} is not installed (apt-get install espeak-ng sox)") from exc
    except subprocess.TimeoutExpired as exc:
        raise PromptSynthesisError(name, f"{argv[0]} timed out after {timeout_s:.0f}s") from exc
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip()[-300:]
        raise PromptSynthesisError(name, f"{argv[0]} exit {proc.returncode}: {tail}")


def _make(job: PromptJob, timeout_s: float) -> None:
    job.path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hotline-prompt-") as tmp:
        raw = Path(tmp) / "raw.wav"
        out = Path(tmp) / "out.wav"
        _run(["espeak-ng", "-v", job.voice, "-w", str(raw), job.text], job.name, timeout_s)
        _run(["sox", str(raw), "-r", str(SAMPLE_RATE_HZ), "-c", "1", "-b", "16", "-e", "signed-integer", str(out)],
             job.name, timeout_s)
        shutil.move(str(out), job.path)  # whole file or nothing: Asterisk never plays a half-written one


def read_manifest(sounds_dir: Path) -> dict[str, str]:
    """The manifest of files made last time ({} if absent or unreadable)."""
    try:
        data = json.loads((sounds_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def synthesize(
    catalog: PromptCatalog,
    sounds_dir: str | Path,
    *,
    force: bool = False,
    workers: int = 2,
    timeout_s: float = 60.0,
) -> SynthesisReport:
    """Make every prompt of ``catalog`` that is missing or out of date (blocking).

    Args:
        catalog: the prompt texts and voices.
        sounds_dir: Asterisk's sound folder; created if missing.
        force: remake every file (recordings that share a name included).
        workers: parallel espeak-ng/sox pipelines.
        timeout_s: per program run.
    Returns:
        What was made, skipped and kept.
    Raises:
        PromptSynthesisError: the first prompt that failed (files made before it are kept and
            recorded in the manifest, so a re-run resumes).
    """
    root = Path(sounds_dir)
    root.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(root)
    jobs, skipped, kept = plan(catalog, root, manifest, Path.exists, force=force)
    report = SynthesisReport(skipped=skipped, kept=kept)
    error: PromptSynthesisError | None = None
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [(job, pool.submit(_make, job, timeout_s)) for job in jobs]
        for job, fut in futures:
            try:
                fut.result()
            except PromptSynthesisError as exc:
                error = error or exc
                continue
            manifest[job.name] = job.digest
            report.made.append(job.name)
    if report.made:
        tmp = root / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False), encoding="utf-8")
        tmp.replace(root / MANIFEST)
    if error is not None:
        raise error
    return report


def wav_duration_s(path: str | Path) -> float:
    """Duration of a PCM WAV file in seconds (for DTMF timelines in tests and the simulator).

    Raises:
        OSError / wave.Error: unreadable or not a WAV file.
    """
    import wave

    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())
