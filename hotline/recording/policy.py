"""Recording policy as plain data (pure: no Asterisk, no files, no clock reads).

What this decides:

* **which calls to record**: every two-party bridge of a call (the caller bridged with an
  agent, AMI ``BridgeEnter`` with ``BridgeNumChannels: 2``), unless the caller's number matches
  an excluded prefix. The recorded leg is the caller's: the leg whose ``Uniqueid`` equals the
  call's ``Linkedid`` (the channel that started the call), else the leg that entered the bridge
  first.
* **naming**: by linkedid and the call's local start date, ``YYYY/MM/DD/<linkedid>.wav``; a call
  that needs more than one recording (a consultation bridge between two agents while the caller
  waits, a transfer that replaced the recorded channel) gets a linked set ``<linkedid>-2.wav``,
  ``<linkedid>-3.wav`` ... MixMonitor runs on the caller's channel, so a blind transfer (the
  caller's channel moved into a new bridge) stays in ONE recording.
* **legs**: MixMonitor writes what the caller says (``r()``, read from the channel) and what the
  caller hears (``t()``, the agent) as two mono files ``<stem>.caller.wav`` / ``<stem>.agent.wav``
  (``wav16`` names for wideband channels); they are merged into one stereo WAV, caller left.
* **when a file is closed**: Asterisk emits no event when MixMonitor closes its file after a
  hangup, so the adapter polls the size and the WAV header; :func:`wav_closed` says when.
* **retention** (days, by the recording's date) and the **storage usage report**.

The state machine :func:`handle` takes domain events (``telephony.events``) and returns the
commands for the adapter (:mod:`hotline.recording.mixmonitor`) to execute.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hotline.telephony import events as ev

#: Characters allowed in a file name made from a linkedid (Asterisk's are ``[system-]epoch.seq``).
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_DATED = re.compile(r"^(\d{4})/(\d{2})/(\d{2})/([^/]+)$")
_STEM = re.compile(r"^(?P<linkedid>.+?)(?:-(?P<seq>\d+))?$")
#: What retention and the usage report count: stereo files and the mono legs kept beside them.
RECORDING_SUFFIXES = (".wav", ".wav16")


# ------------------------------------------------------------------ naming
def safe_linkedid(linkedid: str) -> str:
    """A linkedid usable as a file name (anything but ``[A-Za-z0-9._-]`` becomes ``_``).

    Raises:
        ValueError: empty linkedid, or one made only of dots.
    """
    s = _UNSAFE.sub("_", linkedid)
    if not s.strip("."):
        raise ValueError(f"linkedid {linkedid!r} cannot name a recording")
    return s


def recording_stem(linkedid: str, seq: int, started_at: float, tz: str = "Asia/Shanghai") -> str:
    """The relative path of a recording without extension: ``YYYY/MM/DD/<linkedid>[-<seq>]``.

    Args:
        linkedid: the call (AMI ``Linkedid``).
        seq: 1 for the call's first recording, 2.. for the rest of a linked set.
        started_at: epoch seconds the recording started (AMI ``Timestamp`` of the ``BridgeEnter``).
        tz: IANA zone whose local date names the folder (the hotline's day, not UTC's).
    Raises:
        ValueError: ``seq < 1`` or an unusable linkedid.
    """
    if seq < 1:
        raise ValueError("seq starts at 1")
    day = datetime.fromtimestamp(started_at, ZoneInfo(tz)).date()
    name = safe_linkedid(linkedid) + ("" if seq == 1 else f"-{seq}")
    return f"{day:%Y/%m/%d}/{name}"


@dataclass(frozen=True, slots=True)
class RecordingName:
    """A recording's relative path taken apart (see :func:`parse_recording_path`)."""

    day: date
    linkedid: str
    seq: int
    suffix: str  # ".wav", ".caller.wav", ...


def parse_recording_path(rel_path: str) -> RecordingName | None:
    """Parse ``YYYY/MM/DD/<linkedid>[-<seq>]<suffix>``; None for anything else.

    A linkedid that itself ends in ``-<digits>`` is ambiguous; hotline's names never are, since
    Asterisk linkedids end in ``.<digits>``.
    """
    m = _DATED.match(rel_path.replace("\\", "/"))
    if not m:
        return None
    y, mo, d, name = m.groups()
    try:
        day = date(int(y), int(mo), int(d))
    except ValueError:
        return None
    for suffix in (".caller.wav16", ".agent.wav16", ".caller.wav", ".agent.wav", ".wav"):
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            break
    else:
        return None
    sm = _STEM.match(stem)
    if not sm or not sm.group("linkedid"):
        return None
    return RecordingName(day, sm.group("linkedid"), int(sm.group("seq") or 1), suffix)


def mixmonitor_format(native_format: str) -> str:
    """The MixMonitor file format for a channel's native audio format (Asterisk format names).

    ``CHANNEL(audionativeformat)`` reads e.g. ``(ulaw)``, ``(g722)`` or ``(ulaw|alaw)``.
    Wideband codecs (G.722, 16 kHz signed linear, Opus, SILK16, speex16) record as ``wav16``
    (16 kHz); everything else as ``wav`` (8 kHz). Recording at the native rate keeps the ASR
    accurate: 8 kHz audio decoded at 8000 Hz is never worse than upsampled, and wideband audio
    loses most of its accuracy when squeezed into 8 kHz.
    """
    names = {n.strip().lower() for n in native_format.strip("() ").split("|") if n.strip()}
    wide = {"g722", "slin16", "opus", "silk16", "speex16", "siren7", "g719", "siren14"}
    return "wav16" if names & wide else "wav"


def leg_formats(caller_native: str, agent_native: str) -> tuple[str, str]:
    """The MixMonitor formats of the two legs: ``(caller's r() file, agent's t() file)``.

    Each leg is recorded at its own channel's native rate: a G.711 citizen and a G.722 agent
    phone give ``("wav", "wav16")``. The ``t()`` direction of the caller's channel carries the
    agent's audio as the bridge delivers it, before it is transcoded to the caller's codec
    (Asterisk's ``transcode_via_sln`` picks ``slin16`` between G.722 and G.711, verified on the
    lab's Asterisk 22), so a ``wav16`` agent file holds real wideband audio.

    Args:
        caller_native: ``CHANNEL(audionativeformat)`` of the caller's channel, e.g. ``(ulaw)``.
        agent_native: the same of the agent's channel; empty when unknown (then the caller's).
    """
    caller = mixmonitor_format(caller_native)
    return caller, mixmonitor_format(agent_native) if agent_native.strip("() ") else caller


# ------------------------------------------------------------------ the state machine
@dataclass(frozen=True, slots=True)
class Rules:
    """Which calls to record.

    Attributes:
        enabled: record at all.
        exclude_caller_prefixes: callers whose number starts with one of these are not recorded
            (test lines, numbers a data-protection rule exempts).
        only_caller_prefixes: when not empty, only callers whose number starts with one of these
            are recorded (a pilot on some lines; tests that share a PBX).
        tz: zone whose local date names the day folders.
    """

    enabled: bool = True
    exclude_caller_prefixes: tuple[str, ...] = ()
    tz: str = "Asia/Shanghai"
    only_caller_prefixes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StartRecording:
    """Command: start MixMonitor on ``uniqueid`` writing ``<stem>.caller.<fmt>`` and ``<stem>.agent.<fmt>``.

    Attributes:
        linkedid: the call.
        uniqueid: the recorded leg (the caller's).
        channel: its channel name at the time of the ``BridgeEnter`` (for the AMI action only).
        seq: position in the call's linked set (1 = ``<linkedid>.wav``).
        stem: relative path without extension.
        started_at: epoch seconds.
        peer_channel: the other leg's (the agent's) channel name, to read its native format.
    """

    linkedid: str
    uniqueid: str
    channel: str
    seq: int
    stem: str
    started_at: float
    peer_channel: str = ""


@dataclass(frozen=True, slots=True)
class CollectRecording:
    """Command: the recorded leg hung up or MixMonitor stopped: pick the files up once closed."""

    linkedid: str
    uniqueid: str
    seq: int
    stem: str
    started_at: float
    ended_at: float


Command = StartRecording | CollectRecording


@dataclass(frozen=True, slots=True)
class _Active:
    linkedid: str
    uniqueid: str
    seq: int
    stem: str
    started_at: float


@dataclass(frozen=True, slots=True)
class _Bridge:
    legs: tuple[tuple[str, str, str, str], ...] = ()  # (uniqueid, linkedid, channel, caller_num)


@dataclass(frozen=True, slots=True)
class RecorderState:
    """What the recorder knows.

    Attributes:
        bridges: bridge id -> legs in the order they entered.
        active: uniqueid -> the recording running on it.
        next_seq: linkedid -> the seq the call's next recording gets.
    """

    bridges: dict[str, _Bridge] = field(default_factory=dict)
    active: dict[str, _Active] = field(default_factory=dict)
    next_seq: dict[str, int] = field(default_factory=dict)
    caller_num: dict[str, str] = field(default_factory=dict)  # uniqueid -> number (Newchannel)


def _pick_caller(legs: Sequence[tuple[str, str, str, str]]) -> tuple[str, str, str, str]:
    for leg in legs:
        if leg[0] == leg[1]:  # Uniqueid == Linkedid: the channel that started the call
            return leg
    return legs[0]


def handle(state: RecorderState, event: ev.DomainEvent, rules: Rules) -> tuple[RecorderState, list[Command]]:
    """Apply one domain event; return the new state and the commands to run.

    Events used (``telephony.events``): ``ChannelCreated`` (caller number, AMI ``Newchannel``),
    ``BridgeEntered``/``BridgeLeft`` (``BridgeEnter``/``BridgeLeave`` with ``BridgeUniqueid`` and
    ``BridgeNumChannels``), ``MixMonitorChanged`` (``MixMonitorStop``, sent for an explicit stop
    only) and ``ChannelHungUp`` (``Hangup``). Everything else is ignored.

    Args:
        state: the current state (not mutated).
        event: one domain event, in AMI order.
        rules: which calls to record.
    Returns:
        ``(state, commands)``; at most one :class:`StartRecording` per leg at a time.
    """
    if isinstance(event, ev.ChannelCreated):
        if not event.caller_num:
            return state, []
        return replace(state, caller_num={**state.caller_num, event.uniqueid: event.caller_num}), []
    if isinstance(event, ev.BridgeEntered):
        return _on_bridge_enter(state, event, rules)
    if isinstance(event, ev.BridgeLeft):
        bridge = state.bridges.get(event.bridge_id)
        if bridge is None:
            return state, []
        legs = tuple(leg for leg in bridge.legs if leg[0] != event.uniqueid)
        bridges = dict(state.bridges)
        if legs:
            bridges[event.bridge_id] = _Bridge(legs)
        else:
            del bridges[event.bridge_id]
        return replace(state, bridges=bridges), []
    if isinstance(event, ev.MixMonitorChanged) and not event.started:
        return _on_leg_done(state, event.uniqueid, event.at, forget=False)
    if isinstance(event, ev.ChannelHungUp):
        return _on_leg_done(state, event.uniqueid, event.at, forget=True)
    return state, []


def _on_bridge_enter(
    state: RecorderState, e: ev.BridgeEntered, rules: Rules
) -> tuple[RecorderState, list[Command]]:
    bridge = state.bridges.get(e.bridge_id, _Bridge())
    legs = tuple(leg for leg in bridge.legs if leg[0] != e.uniqueid)
    legs += ((e.uniqueid, e.linkedid, e.channel, state.caller_num.get(e.uniqueid, "")),)
    state = replace(state, bridges={**state.bridges, e.bridge_id: _Bridge(legs)})
    if not rules.enabled or len(legs) != 2 or e.num_channels not in (0, 2):
        return state, []
    if any(leg[0] in state.active for leg in legs):
        return state, []  # the caller's channel is already recorded (e.g. a blind transfer)
    uniqueid, linkedid, channel, caller_num = _pick_caller(legs)
    if caller_num and any(caller_num.startswith(p) for p in rules.exclude_caller_prefixes):
        return state, []
    if rules.only_caller_prefixes and not any(caller_num.startswith(p) for p in rules.only_caller_prefixes):
        return state, []
    seq = state.next_seq.get(linkedid, 1)
    stem = recording_stem(linkedid, seq, e.at, rules.tz)
    active = {**state.active, uniqueid: _Active(linkedid, uniqueid, seq, stem, e.at)}
    state = replace(state, active=active, next_seq={**state.next_seq, linkedid: seq + 1})
    peer = next((leg[2] for leg in legs if leg[0] != uniqueid), "")
    return state, [StartRecording(linkedid, uniqueid, channel, seq, stem, e.at, peer)]


def _on_leg_done(
    state: RecorderState, uniqueid: str, at: float, *, forget: bool
) -> tuple[RecorderState, list[Command]]:
    cmds: list[Command] = []
    active = state.active
    rec = active.get(uniqueid)
    if rec is not None:
        active = {k: v for k, v in active.items() if k != uniqueid}
        cmds.append(CollectRecording(rec.linkedid, uniqueid, rec.seq, rec.stem, rec.started_at, at))
    caller_num = state.caller_num
    if forget and uniqueid in caller_num:
        caller_num = {k: v for k, v in caller_num.items() if k != uniqueid}
    if active is state.active and caller_num is state.caller_num:
        return state, cmds
    return replace(state, active=active, caller_num=caller_num), cmds


def forget_call(state: RecorderState, linkedid: str) -> RecorderState:
    """Drop a finished call's seq counter (call it when the call model reports ``CallEnded``)."""
    if linkedid not in state.next_seq:
        return state
    return replace(state, next_seq={k: v for k, v in state.next_seq.items() if k != linkedid})


# ------------------------------------------------------------------ closed files
def wav_closed(size_bytes: int, previous_size_bytes: int | None, header_data_bytes: int | None) -> bool:
    """True when MixMonitor has closed a WAV file.

    Asterisk's ``wav`` writer fills the RIFF/data sizes in the header when it closes the file,
    so a file is closed when its size did not change since the previous look and the header's
    data size accounts for every byte after the 44-byte header.

    Args:
        size_bytes: the file size now.
        previous_size_bytes: the size at the previous look (None: first look).
        header_data_bytes: the header's data chunk size (None: header unreadable yet).
    """
    if previous_size_bytes is None or size_bytes != previous_size_bytes or header_data_bytes is None:
        return False
    return size_bytes < 44 or header_data_bytes == size_bytes - 44


# ------------------------------------------------------------------ retention and usage
@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file under the recordings folder.

    Attributes:
        rel_path: path relative to the recordings folder, ``/``-separated.
        size_bytes: its size.
        mtime: epoch seconds of its last change.
    """

    rel_path: str
    size_bytes: int
    mtime: float


def file_day(f: StoredFile, tz: str = "Asia/Shanghai") -> date:
    """The day a recording belongs to: from its ``YYYY/MM/DD/`` folder, else its mtime's local date."""
    parsed = parse_recording_path(f.rel_path)
    if parsed is not None:
        return parsed.day
    return datetime.fromtimestamp(f.mtime, ZoneInfo(tz)).date()


def expired(
    files: Iterable[StoredFile], retention_days: int, now: float, tz: str = "Asia/Shanghai"
) -> list[StoredFile]:
    """The files to delete under a retention of ``retention_days`` days.

    A file of day D is kept while ``D >= today - retention_days`` (local dates in ``tz``): with
    90 days, a call of 1 March is deleted on 31 May. Only ``.wav`` and ``.wav16`` (a wideband
    leg kept beside its stereo file) files are considered.

    Args:
        files: what the recordings folder holds.
        retention_days: days to keep; 0 keeps nothing older than today.
        now: epoch seconds.
    Raises:
        ValueError: negative retention.
    """
    if retention_days < 0:
        raise ValueError("retention_days must be >= 0")
    cutoff = datetime.fromtimestamp(now, ZoneInfo(tz)).date() - timedelta(days=retention_days)
    return sorted(
        (f for f in files if f.rel_path.endswith(RECORDING_SUFFIXES) and file_day(f, tz) < cutoff),
        key=lambda f: f.rel_path,
    )


@dataclass(frozen=True, slots=True)
class UsageReport:
    """Storage used by recordings.

    Attributes:
        files: ``.wav`` files counted.
        total_bytes: their sizes added.
        by_month: ``YYYY-MM`` -> (files, bytes), oldest month first.
        oldest_day / newest_day: ISO dates, None when there are no recordings.
        expired_files / expired_bytes: what a purge with the given retention would delete.
        retention_days: the retention the report was made for.
    """

    files: int
    total_bytes: int
    by_month: dict[str, tuple[int, int]]
    oldest_day: str | None
    newest_day: str | None
    expired_files: int
    expired_bytes: int
    retention_days: int

    def to_dict(self) -> dict[str, object]:
        return {
            "files": self.files,
            "total_bytes": self.total_bytes,
            "by_month": {k: {"files": n, "bytes": b} for k, (n, b) in self.by_month.items()},
            "oldest_day": self.oldest_day,
            "newest_day": self.newest_day,
            "retention_days": self.retention_days,
            "expired_files": self.expired_files,
            "expired_bytes": self.expired_bytes,
        }


def usage_report(
    files: Iterable[StoredFile], retention_days: int, now: float, tz: str = "Asia/Shanghai"
) -> UsageReport:
    """Summarise storage by month and what the retention policy would purge now."""
    wavs = [f for f in files if f.rel_path.endswith(RECORDING_SUFFIXES)]
    months: dict[str, tuple[int, int]] = {}
    days = []
    for f in wavs:
        d = file_day(f, tz)
        days.append(d)
        key = f"{d:%Y-%m}"
        n, b = months.get(key, (0, 0))
        months[key] = (n + 1, b + f.size_bytes)
    gone = expired(wavs, retention_days, now, tz)
    return UsageReport(
        files=len(wavs),
        total_bytes=sum(f.size_bytes for f in wavs),
        by_month=dict(sorted(months.items())),
        oldest_day=min(days).isoformat() if days else None,
        newest_day=max(days).isoformat() if days else None,
        expired_files=len(gone),
        expired_bytes=sum(f.size_bytes for f in gone),
        retention_days=retention_days,
    )


def human_bytes(n: int) -> str:
    """``1536`` -> ``1.5 KiB`` (binary units)."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
