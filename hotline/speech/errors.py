"""Errors of the speech pipeline: one base class, one subclass per failure.

Expected outcomes are values, not exceptions: a header-only or sub-second recording is a
:class:`hotline.speech.audio.RecordingTooShort`, silent audio is a transcript with ``no_speech=True``.
These classes are for what an operator has to fix (a missing model, an unreadable file, Redis
down). Where a builtin fits, the class also subclasses it (``ModelNotFound`` is a
``FileNotFoundError``), so callers that only know the builtin still catch it.
"""

from __future__ import annotations

from hotline.kernel.errors import HotlineError


class SpeechError(HotlineError):
    """Base class of every error raised by ``speech``, under the service-wide ``HotlineError``.

    Subclasses keep their constructor arguments in ``_init_args`` so that they survive the
    pickling between a decoder process and the worker (``BaseException`` would re-create them
    from the message alone).
    """

    _init_args: tuple[object, ...] = ()

    def __reduce__(self) -> str | tuple[object, ...]:
        if self._init_args:
            return (type(self), self._init_args)
        return super().__reduce__()


class UnreadableRecording(SpeechError, ValueError):
    """The file is not a PCM WAV that ``wave`` can read (truncated RIFF, compressed format).

    Attributes:
        path: the recording.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: not a readable PCM WAV file: {reason}")
        self._init_args = (path, reason)
        self.path = path
        self.reason = reason


class UnsupportedAudio(SpeechError, ValueError):
    """The WAV is readable but cannot be decoded (Vosk needs 16-bit PCM).

    Attributes:
        path: the recording.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: unsupported audio: {reason}")
        self._init_args = (path, reason)
        self.path = path
        self.reason = reason


class ModelNotFound(SpeechError, FileNotFoundError):
    """The configured Vosk model folder does not exist or is not a Vosk model.

    Attributes:
        path: the configured folder.
        missing: the parts that are missing (``am/final.mdl``, ``conf/``, ...).
    """

    def __init__(self, path: str, missing: list[str]) -> None:
        super().__init__(
            f"{path}: not a Vosk model folder (missing: {', '.join(missing)}); "
            "install one with `hotline speech install-model`"
        )
        self.path = path
        self.missing = missing
        self._init_args = (path, missing)


class ModelInstallFailed(SpeechError):
    """``install_model`` could not install the model (bad archive, checksum, download)."""


class ModelDownloadFailed(ModelInstallFailed, ConnectionError):
    """The model list or archive could not be downloaded within the timeout.

    Attributes:
        url: what was being fetched.
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"cannot download {url}: {reason}. Without network access, install from a local "
            "archive or folder: `hotline speech install-model /path/to/vosk-model-xx.zip`"
        )
        self.url = url
        self.reason = reason
        self._init_args = (url, reason)


class ChecksumMismatch(ModelInstallFailed):
    """A downloaded archive does not match the expected digest."""

    def __init__(self, what: str, algorithm: str, expected: str, actual: str) -> None:
        super().__init__(f"{what}: {algorithm} mismatch: expected {expected}, got {actual}")
        self._init_args = (what, algorithm, expected, actual)
        self.algorithm = algorithm
        self.expected = expected
        self.actual = actual


class QueueUnavailable(SpeechError, ConnectionError):
    """A Redis call of the job queue or the transcript sink failed or timed out.

    Attributes:
        operation: the Redis command (``XREADGROUP``, ``XAUTOCLAIM``, ...).
    """

    def __init__(self, operation: str, reason: str) -> None:
        super().__init__(f"redis {operation} failed: {reason}")
        self.operation = operation
        self.reason = reason
        self._init_args = (operation, reason)


class DecoderCrashed(SpeechError):
    """A decoder process died (killed, or Kaldi crashed) while decoding a recording.

    The pool is rebuilt for the next recording; the job is not acknowledged, so it is retried
    (up to the queue's delivery limit).
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: decoder process died: {reason}")
        self.path = path
        self.reason = reason
        self._init_args = (path, reason)
