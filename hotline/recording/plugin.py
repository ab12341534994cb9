"""Builds the recorder from its settings slices and named collaborators.

Called by the composition root (:mod:`hotline.app.service`). What is built here:

* the recording catalog (``recording.catalog.url``, ``recording.catalog.timeout_s``);
* with ``recording.transcribe``: the transcription job stream on Redis at ``redis.url``
  (``speech.stream`` / ``speech.group``);
* the :class:`hotline.recording.mixmonitor.Recorder`, which closes both on ``stop``, subscribed to the
  call tracker's ``CallEnded`` so it forgets finished calls.
"""

from __future__ import annotations

from hotline.kernel.settings import RedisConfig
from hotline.recording.mixmonitor import Recorder
from hotline.recording.settings import RecordingSettings
from hotline.speech.settings import SpeechSettings
from hotline.speech.store import RedisJobQueue, connect
from hotline.telephony.ami import AmiClient
from hotline.telephony.tracker import CallTracker

__all__ = ["build_recorder"]


def build_recorder(cfg: RecordingSettings, ami: AmiClient, *, redis: RedisConfig, speech: SpeechSettings,
                   calls: CallTracker | None = None) -> Recorder:
    """The recorder (nothing connects until ``start``).

    Args:
        cfg: the ``recording:`` section.
        ami: the service's AMI client.
        redis: the top-level ``redis:`` section (``url``: the transcription job stream).
        speech: the ``speech:`` section (``stream``, ``group``: where transcription jobs go).
        calls: the call tracker, whose ``CallEnded`` lets the recorder forget finished calls; None: not
            subscribed.
    """
    # imported here, as before: SQLAlchemy loads only when recording is enabled
    from hotline.recording.catalog import Catalog

    catalog = Catalog(cfg.catalog.url, timeout_s=cfg.catalog.timeout_s)
    jobs = None
    if cfg.transcribe:
        jobs = RedisJobQueue(connect(redis.url), speech.stream, speech.group)
    recorder = Recorder(ami, cfg, catalog=catalog, jobs=jobs)
    recorder.owned = [catalog.close]
    if jobs is not None:
        recorder.owned.append(jobs.redis.aclose)
    if calls is not None:
        calls.subscribe(recorder.on_call)
    return recorder
