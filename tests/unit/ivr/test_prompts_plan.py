"""Which prompts the synthesizer makes, skips or leaves alone (pure planning)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.ivr.prompt_catalog import parse_catalog
from hotline.ivr.prompts import PromptSynthesisError, digest, plan

CATALOG = parse_catalog({"prefix": "hotline/{lang}/", "voices": {"zh": "cmn", "en": "en-us"},
                         "prompts": {"welcome": {"zh": "您好", "en": "Hello"}, "bye": {"en": "Bye"}}})
ROOT = Path("/sounds")


def test_given_nothing_made_when_planning_then_every_prompt_is_a_job_with_its_voice() -> None:
    jobs, skipped, kept = plan(CATALOG, ROOT, {}, lambda p: False)
    assert {(j.name, j.voice) for j in jobs} == {("hotline/zh/welcome", "cmn"), ("hotline/en/welcome", "en-us"),
                                                 ("hotline/en/bye", "en-us")}
    assert all(j.path == ROOT / f"{j.name}.wav" for j in jobs)
    assert skipped == kept == []


def test_given_up_to_date_manifest_when_planning_then_skipped_and_changed_text_remade() -> None:
    manifest = {"hotline/zh/welcome": digest("您好", "cmn"), "hotline/en/welcome": digest("Hi there", "en-us"),
                "hotline/en/bye": digest("Bye", "en-us")}
    jobs, skipped, _ = plan(CATALOG, ROOT, manifest, lambda p: True)
    assert [j.name for j in jobs] == ["hotline/en/welcome"]
    assert set(skipped) == {"hotline/zh/welcome", "hotline/en/bye"}


def test_given_recorded_file_not_in_manifest_when_planning_then_kept_unless_forced() -> None:
    _, _, kept = plan(CATALOG, ROOT, {}, lambda p: True)
    assert len(kept) == 3
    jobs, _, kept = plan(CATALOG, ROOT, {}, lambda p: True, force=True)
    assert len(jobs) == 3 and kept == []


def test_given_language_without_voice_when_planning_then_error_names_prompt() -> None:
    catalog = parse_catalog({"voices": {}, "prompts": {"x": {"yue": "你好"}}})
    with pytest.raises(PromptSynthesisError, match="x"):
        plan(catalog, ROOT, {}, lambda p: False)
