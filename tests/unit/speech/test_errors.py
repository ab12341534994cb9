"""speech.errors survive the trip from a decoder process (pickling) with their attributes."""

from __future__ import annotations

import pickle

import pytest

from hotline.kernel.errors import HotlineError
from hotline.speech.errors import (
    ChecksumMismatch,
    DecoderCrashed,
    ModelDownloadFailed,
    ModelNotFound,
    QueueUnavailable,
    SpeechError,
    UnreadableRecording,
    UnsupportedAudio,
)


@pytest.mark.parametrize(
    "error",
    [
        UnreadableRecording("/r/a.wav", "truncated"),
        UnsupportedAudio("/r/a.wav", "8-bit"),
        ModelNotFound("/m", ["am/final.mdl"]),
        ModelDownloadFailed("http://x/list.json", "timed out"),
        ChecksumMismatch("a.zip", "sha256", "00", "11"),
        QueueUnavailable("XACK", "connection refused"),
        DecoderCrashed("/r/a.wav", "killed"),
    ],
)
def test_error_pickles_with_message_and_attributes(error: SpeechError) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error) and str(back) == str(error) and vars(back) == vars(error)
    assert isinstance(back, HotlineError)
