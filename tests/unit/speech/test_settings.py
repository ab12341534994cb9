"""speech.settings: the ``speech:`` configuration section."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hotline.speech.errors import ModelNotFound
from hotline.speech.settings import SpeechSettings, probe
from tests.unit.speech.test_models import fake_model


def test_defaults_are_valid_and_caller_is_left() -> None:
    s = SpeechSettings()
    assert s.speakers == ("caller", "agent")
    assert "投诉" in s.keywords["complaint"]


@pytest.mark.parametrize(
    "data",
    [
        {"processes": 0},
        {"speakers": ["agent", "agent"]},
        {"keywords": {"complaint": []}},
        {"keywords": {"complaint": ["投诉", " "]}},
        {"visibility_timeout_s": 0},
        {"model": "/x"},  # unknown key: extra="forbid"
    ],
)
def test_bad_settings_are_rejected(data: dict) -> None:
    with pytest.raises(ValidationError):
        SpeechSettings.model_validate(data)


def test_probe_checks_the_model_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_VOSK_MODEL", raising=False)
    assert probe(SpeechSettings(model_path=fake_model(tmp_path / "m"))) == (tmp_path / "m").resolve()
    with pytest.raises(ModelNotFound):
        probe(SpeechSettings(model_path=tmp_path / "missing"))
    with pytest.raises(ModelNotFound):
        probe(SpeechSettings())
