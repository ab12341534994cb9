"""The catalog: calls, recordings, transcripts and QA data in SQL (SQLAlchemy 2 async).

SQLite through ``aiosqlite`` is the embedded default (``sqlite+aiosqlite:///PATH``, WAL mode,
``busy_timeout`` so that several worker processes can write). The schema is owned by Alembic
(``hotline/recording/migrations``): :meth:`Catalog.upgrade` runs ``alembic upgrade head`` (the service
does at start, or ``hotline catalog upgrade``).

Tables::

    calls                 linkedid PK, caller_num, started_at, ended_at
    recordings            id, linkedid, seq (linked set: 1, 2, ...), rel_path UNIQUE, path, uniqueid,
                          status (recording|queued|skipped|failed|purged), skip_reason, rate_hz,
                          channels, duration_s, size_bytes, started_at, closed_at, job_id, purged_at
    transcripts           job_id PK, linkedid, path, status (done|skipped|failed), worker,
                          finished_at, attempts, model, duration_s, rate_hz, channels, no_speech,
                          skipped, error, flags ("complaint,urgent"), text, body (JSON)
    transcript_segments   id, job_id, linkedid, position, speaker, channel, start_s, end_s, text,
                          search_text, words (JSON: word, start_s, end_s, conf)
    segments_fts          FTS5(search_text) tokenize=trigram, external content = transcript_segments
    qa_flags              id, job_id, linkedid, flag, keyword, speaker, start_s, end_s, text
    qa_reviews            id, linkedid, reviewer, score, notes, created_at

Full-text search over Chinese: Vosk writes Chinese words separated by spaces (``我 要 投诉``);
the indexed ``search_text`` drops the spaces between CJK characters (``我要投诉``) and queries
are normalised the same way. FTS5's trigram tokenizer matches any substring of three or more
characters; shorter queries (``投诉``, two characters, common in Chinese) fall back to ``LIKE``
over ``search_text`` (a scan: fine for QA searches, not for a hot path). Needs SQLite >= 3.34
(Python 3.11 on Debian 12 has 3.40.1). Other databases (PostgreSQL through ``asyncpg``) work
for everything else, and search uses ``LIKE`` there.

:class:`Catalog` implements :class:`hotline.speech.store.TranscriptSink`: ``put`` inserts the transcript
row, its segments and flags in one transaction, and a second ``put`` for the same ``job_id``
(a reclaimed job decoded twice) hits the primary key and stores nothing: exactly once.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import threading
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from hotline.recording.errors import CatalogUnavailable, MigrationFailed
from hotline.speech.jobs import JobOutcome

T = TypeVar("T")

metadata = MetaData()

calls = Table(
    "calls", metadata,
    Column("linkedid", String(64), primary_key=True),
    Column("caller_num", String(64)),
    Column("started_at", Float, nullable=False),
    Column("ended_at", Float),
)
recordings = Table(
    "recordings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("linkedid", String(64), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("rel_path", String(512), nullable=False, unique=True),
    Column("path", String(1024), nullable=False),
    Column("uniqueid", String(64)),
    Column("status", String(16), nullable=False),
    Column("skip_reason", String(32)),
    Column("rate_hz", Integer),
    Column("channels", Integer),
    Column("duration_s", Float),
    Column("size_bytes", Integer),
    Column("started_at", Float, nullable=False),
    Column("closed_at", Float),
    Column("job_id", String(64)),
    Column("purged_at", Float),
)
transcripts = Table(
    "transcripts", metadata,
    Column("job_id", String(64), primary_key=True),
    Column("linkedid", String(64), nullable=False, index=True),
    Column("path", String(1024), nullable=False),
    Column("status", String(16), nullable=False),
    Column("worker", String(128), nullable=False),
    Column("finished_at", Float, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("model", String(128)),
    Column("duration_s", Float),
    Column("rate_hz", Integer),
    Column("channels", Integer),
    Column("no_speech", Boolean),
    Column("skipped", String(32)),
    Column("error", Text),
    Column("flags", String(256), nullable=False),
    Column("text", Text, nullable=False),
    Column("body", Text, nullable=False),
)
segments = Table(
    "transcript_segments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(64), nullable=False, index=True),
    Column("linkedid", String(64), nullable=False),
    Column("position", Integer, nullable=False),
    Column("speaker", String(32), nullable=False),
    Column("channel", Integer, nullable=False),
    Column("start_s", Float, nullable=False),
    Column("end_s", Float, nullable=False),
    Column("text", Text, nullable=False),
    Column("search_text", Text, nullable=False),
    Column("words", Text, nullable=False),
)
qa_flags = Table(
    "qa_flags", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(64), nullable=False, index=True),
    Column("linkedid", String(64), nullable=False),
    Column("flag", String(64), nullable=False, index=True),
    Column("keyword", String(128), nullable=False),
    Column("speaker", String(32), nullable=False),
    Column("start_s", Float, nullable=False),
    Column("end_s", Float, nullable=False),
    Column("text", Text, nullable=False),
)
qa_reviews = Table(
    "qa_reviews", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("linkedid", String(64), nullable=False, index=True),
    Column("reviewer", String(128), nullable=False),
    Column("score", Integer),
    Column("notes", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

#: FTS5 needs at least this many characters to use the trigram index.
TRIGRAM_MIN_CHARS = 3


# ------------------------------------------------------------------ pure helpers
def _spaceless(ch: str) -> bool:
    """Scripts written without spaces between words (Han, kana, ...): Vosk's spaces there are noise."""
    if not ch:
        return False
    name = unicodedata.name(ch, "")
    return name.startswith(("CJK ", "HIRAGANA", "KATAKANA", "CJK COMPATIBILITY")) or "IDEOGRAPH" in name


def search_text(text_: str) -> str:
    """Text as indexed and searched: lower case, runs of spaces collapsed, and no spaces between
    two CJK characters (``"我 要 投诉 noise"`` -> ``"我要投诉 noise"``). Korean keeps its spaces."""
    words = text_.lower().split()
    out: list[str] = []
    for w in words:
        if out and _spaceless(out[-1][-1]) and _spaceless(w[0]):
            out[-1] += w
        else:
            out.append(w)
    return " ".join(out)


def fts_query(query: str) -> str:
    """An FTS5 MATCH expression that finds ``query`` as a substring (one quoted phrase)."""
    return '"' + search_text(query).replace('"', '""') + '"'


def like_pattern(query: str) -> str:
    r"""A LIKE pattern (escape ``\``) that finds ``query`` as a substring."""
    q = search_text(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{q}%"


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A transcript segment that contains the searched text.

    Attributes:
        linkedid: the call.
        job_id: the transcript.
        speaker: ``caller``, ``agent`` or ``mixed``.
        start_s / end_s: where in the recording, seconds.
        text: the segment as Vosk wrote it.
        path: the recording.
    """

    linkedid: str
    job_id: str
    speaker: str
    start_s: float
    end_s: float
    text: str
    path: str


# ------------------------------------------------------------------ alembic
def alembic_config(url: str) -> Any:
    """An Alembic ``Config`` for the catalog at ``url`` (no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


_ALEMBIC_LOCK = threading.Lock()


def upgrade_sync(url: str, revision: str = "head") -> None:
    """``alembic upgrade head`` (blocking; runs its own event loop: call from a thread or the CLI).

    Creates the SQLite file's folder first.

    Raises:
        MigrationFailed: the migration failed (the message says why).
        FullTextUnsupported: SQLite lacks FTS5 trigram.
    """
    from alembic import command

    from hotline.recording.errors import CatalogError

    _ensure_sqlite_dir(url)
    try:
        with _ALEMBIC_LOCK, _file_lock(url):  # one upgrade at a time: in this process, and on this host
            command.upgrade(alembic_config(url), revision)
    except CatalogError:
        raise
    except Exception as exc:  # alembic and drivers raise many kinds; report them as one
        # two processes upgrading at once (service + worker starting together): the loser's DDL
        # fails on tables the winner created; the schema is still up to date.
        if revision == "head" and current_revision_sync(url) == head_revision():
            return
        raise MigrationFailed(f"alembic upgrade {revision} on {_redact(url)} failed: {exc}") from exc


def head_revision() -> str | None:
    """The newest migration's revision id (``hotline/recording/migrations/versions``)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(Path(__file__).with_name("migrations"))).get_current_head()


def current_revision_sync(url: str) -> str | None:
    """The catalog's Alembic revision (None for an empty database). Blocking."""
    import sqlalchemy as sa

    sync_url = url.replace("+aiosqlite", "")
    engine = sa.create_engine(sync_url)
    try:
        with engine.connect() as conn:
            try:
                return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            except SQLAlchemyError:
                return None
    finally:
        engine.dispose()


@contextmanager
def _file_lock(url: str) -> Iterator[None]:
    """For SQLite, an exclusive ``flock`` on ``<db>.migrate.lock`` (the service and workers of one
    host may start together); other databases rely on the check after a failed upgrade."""
    path = _sqlite_path(url)
    if path is None:
        yield
        return
    with open(path + ".migrate.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _sqlite_path(url: str) -> str | None:
    if url.startswith("sqlite") and ":///" in url:
        path = url.split(":///", 1)[1].split("?", 1)[0]
        if path and path != ":memory:":
            return path
    return None


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite") and ":///" in url:
        path = url.split(":///", 1)[1].split("?", 1)[0]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


# ------------------------------------------------------------------ the catalog
class Catalog:
    """The catalog database (async). Also a :class:`hotline.speech.store.TranscriptSink`.

    Args:
        url: SQLAlchemy async URL (``sqlite+aiosqlite:///PATH``).
        timeout_s: budget of each operation, seconds (:class:`CatalogUnavailable` past it).
    """

    def __init__(self, url: str, *, timeout_s: float = 10.0) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.is_sqlite = url.startswith("sqlite")
        _ensure_sqlite_dir(url)
        self.engine: AsyncEngine = create_async_engine(url)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)

    async def upgrade(self) -> None:
        """Bring the schema to the newest revision (``alembic upgrade head``, in a thread)."""
        await asyncio.to_thread(upgrade_sync, self.url)

    async def close(self) -> None:
        await self.engine.dispose()

    async def __aenter__(self) -> Catalog:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -------------------------------------------------------------- plumbing
    async def _run(self, operation: str, awaitable: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout(self.timeout_s):
                return await awaitable
        except TimeoutError as exc:
            raise CatalogUnavailable(operation, f"no answer within {self.timeout_s:.1f}s") from exc
        except (SQLAlchemyError, OSError) as exc:
            raise CatalogUnavailable(operation, str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as conn:
            yield conn

    # -------------------------------------------------------------- calls and recordings
    async def call_started(self, linkedid: str, started_at: float, caller_num: str | None = None) -> None:
        """Record a call unless known (idempotent). ``started_at``: epoch seconds."""
        async def go() -> None:
            async with self._tx() as c:
                exists = await c.scalar(select(calls.c.linkedid).where(calls.c.linkedid == linkedid))
                if exists is None:
                    await c.execute(insert(calls).values(linkedid=linkedid, caller_num=caller_num or None,
                                                         started_at=started_at))
        await self._run("call_started", go())

    async def call_ended(self, linkedid: str, ended_at: float) -> None:
        """Set a call's end time (the last leg's hangup, epoch seconds)."""
        async def go() -> None:
            async with self._tx() as c:
                await c.execute(update(calls).where(calls.c.linkedid == linkedid).values(ended_at=ended_at))
        await self._run("call_ended", go())

    async def recording_started(
        self, linkedid: str, seq: int, rel_path: str, path: str, uniqueid: str, started_at: float
    ) -> None:
        """A recording began (status ``recording``); idempotent by ``rel_path``."""
        async def go() -> None:
            async with self._tx() as c:
                exists = await c.scalar(select(recordings.c.id).where(recordings.c.rel_path == rel_path))
                if exists is None:
                    await c.execute(insert(recordings).values(
                        linkedid=linkedid, seq=seq, rel_path=rel_path, path=path, uniqueid=uniqueid,
                        status="recording", started_at=started_at,
                    ))
        await self._run("recording_started", go())

    async def recording_closed(
        self,
        rel_path: str,
        *,
        status: str,
        closed_at: float,
        rate_hz: int | None = None,
        channels: int | None = None,
        duration_s: float | None = None,
        size_bytes: int | None = None,
        skip_reason: str | None = None,
        job_id: str | None = None,
    ) -> None:
        """A recording's file is closed: ``status`` is ``queued`` (sent to transcription),
        ``closed`` (not transcribed), ``skipped`` (header-only or too short) or ``failed``."""
        async def go() -> None:
            async with self._tx() as c:
                await c.execute(update(recordings).where(recordings.c.rel_path == rel_path).values(
                    status=status, closed_at=closed_at, rate_hz=rate_hz, channels=channels,
                    duration_s=duration_s, size_bytes=size_bytes, skip_reason=skip_reason, job_id=job_id,
                ))
        await self._run("recording_closed", go())

    async def recordings_of(self, linkedid: str) -> list[dict[str, Any]]:
        """A call's recordings (its linked set), in ``seq`` order, as dicts of the columns."""
        async def go() -> list[dict[str, Any]]:
            async with self.engine.connect() as c:
                rows = await c.execute(select(recordings).where(recordings.c.linkedid == linkedid)
                                       .order_by(recordings.c.seq))
                return [dict(r._mapping) for r in rows]
        return await self._run("recordings_of", go())

    async def mark_purged(self, rel_paths: Sequence[str], at: float) -> int:
        """Mark recordings whose files the retention policy deleted. Returns rows updated."""
        async def go() -> int:
            async with self._tx() as c:
                n = 0
                for i in range(0, len(rel_paths), 500):
                    res = await c.execute(update(recordings).where(recordings.c.rel_path.in_(rel_paths[i:i + 500]))
                                          .values(status="purged", purged_at=at))
                    n += res.rowcount or 0
                return n
        return await self._run("mark_purged", go())

    # -------------------------------------------------------------- TranscriptSink
    async def put(self, outcome: JobOutcome) -> bool:
        """Store a job outcome unless one is stored for its job id (first write wins).

        The transcript row, its segments (with word timestamps and speaker labels) and its QA
        flags go in one transaction; a duplicate ``job_id`` rolls it back.

        Returns:
            True if stored now, False if an outcome for the job was already stored.
        Raises:
            CatalogUnavailable: the database failed or timed out.
        """
        t = outcome.transcript
        row = {
            "job_id": outcome.job_id, "linkedid": outcome.linkedid, "path": outcome.path,
            "status": outcome.status, "worker": outcome.worker, "finished_at": outcome.finished_at,
            "attempts": outcome.attempts, "error": outcome.error,
            "model": t.model if t else None, "duration_s": t.duration_s if t else None,
            "rate_hz": t.rate_hz if t else None, "channels": t.channels if t else None,
            "no_speech": t.no_speech if t else None, "skipped": t.skipped if t else None,
            "flags": ",".join(t.flags) if t else "", "text": t.text if t else "",
            "body": outcome.to_json(),
        }
        segs = [
            {"job_id": outcome.job_id, "linkedid": outcome.linkedid, "position": i, "speaker": s.speaker,
             "channel": s.channel, "start_s": s.start_s, "end_s": s.end_s, "text": s.text,
             "search_text": search_text(s.text),
             "words": json.dumps([w.to_dict() for w in s.words], ensure_ascii=False, separators=(",", ":"))}
            for i, s in enumerate(t.segments if t else ())
        ]
        flags = [
            {"job_id": outcome.job_id, "linkedid": outcome.linkedid, "flag": h.flag, "keyword": h.keyword,
             "speaker": h.speaker, "start_s": h.start_s, "end_s": h.end_s, "text": h.text}
            for h in (t.hits if t else ())
        ]

        async def go() -> bool:
            try:
                async with self._tx() as c:
                    await c.execute(insert(transcripts).values(**row))
                    if segs:
                        await c.execute(insert(segments), segs)
                    if flags:
                        await c.execute(insert(qa_flags), flags)
                    await c.execute(update(recordings).where(recordings.c.job_id == outcome.job_id)
                                    .values(status="transcribed" if outcome.status == "done" else outcome.status))
                return True
            except IntegrityError:
                return False
        return await self._run("put transcript", go())

    async def has(self, job_id: str) -> bool:
        """True when an outcome for ``job_id`` is stored."""
        async def go() -> bool:
            async with self.engine.connect() as c:
                return (await c.scalar(select(transcripts.c.job_id).where(transcripts.c.job_id == job_id))) is not None
        return await self._run("has transcript", go())

    async def get(self, job_id: str) -> JobOutcome | None:
        """The stored outcome of a job (transcript with segments, words and hits), or None."""
        async def go() -> JobOutcome | None:
            async with self.engine.connect() as c:
                body = await c.scalar(select(transcripts.c.body).where(transcripts.c.job_id == job_id))
                return JobOutcome.from_json(body) if body else None
        return await self._run("get transcript", go())

    async def transcripts_of(self, linkedid: str) -> list[JobOutcome]:
        """Every stored outcome of a call (one per recording of its linked set)."""
        async def go() -> list[JobOutcome]:
            async with self.engine.connect() as c:
                rows = await c.execute(select(transcripts.c.body).where(transcripts.c.linkedid == linkedid)
                                       .order_by(transcripts.c.path))
                return [JobOutcome.from_json(b) for (b,) in rows]
        return await self._run("transcripts_of", go())

    async def count_transcripts(self, job_id: str | None = None) -> int:
        """Stored outcomes (of one job id: 0 or 1)."""
        async def go() -> int:
            q = select(func.count()).select_from(transcripts)
            if job_id is not None:
                q = q.where(transcripts.c.job_id == job_id)
            async with self.engine.connect() as c:
                return int(await c.scalar(q) or 0)
        return await self._run("count transcripts", go())

    async def calls_by_speaker(self) -> dict[str, int]:
        """Calls (distinct linkedid) with at least one transcript segment per speaker label.

        Returns:
            e.g. ``{"caller": 12, "agent": 12}``: how many calls had speech recognised on each side.
        """
        async def go() -> dict[str, int]:
            q = (select(segments.c.speaker, func.count(func.distinct(segments.c.linkedid)))
                 .group_by(segments.c.speaker))
            async with self.engine.connect() as c:
                return {str(k): int(v) for k, v in (await c.execute(q)).all()}
        return await self._run("count calls by speaker", go())

    # -------------------------------------------------------------- search and QA
    async def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Transcript segments containing ``query`` (a substring, spaces between CJK ignored).

        Three or more characters use the FTS5 trigram index; shorter queries scan with LIKE.
        Newest transcripts first, then by time in the recording.
        """
        q = search_text(query)
        if not q:
            return []
        cols = (segments.c.linkedid, segments.c.job_id, segments.c.speaker, segments.c.start_s,
                segments.c.end_s, segments.c.text, transcripts.c.path)
        base = select(*cols).join(transcripts, transcripts.c.job_id == segments.c.job_id)
        if self.is_sqlite and len(q) >= TRIGRAM_MIN_CHARS:
            stmt: Any = text(
                "SELECT s.linkedid, s.job_id, s.speaker, s.start_s, s.end_s, s.text, t.path"
                " FROM segments_fts JOIN transcript_segments s ON s.id = segments_fts.rowid"
                " JOIN transcripts t ON t.job_id = s.job_id"
                " WHERE segments_fts MATCH :q ORDER BY t.finished_at DESC, s.start_s LIMIT :limit"
            ).bindparams(q=fts_query(q), limit=limit)
        else:
            stmt = (base.where(segments.c.search_text.like(like_pattern(q), escape="\\"))
                    .order_by(transcripts.c.finished_at.desc(), segments.c.start_s).limit(limit))

        async def go() -> list[SearchHit]:
            async with self.engine.connect() as c:
                return [SearchHit(*r) for r in await c.execute(stmt)]
        return await self._run("search", go())

    async def flagged(self, flag: str, limit: int = 100) -> list[dict[str, Any]]:
        """QA targeting: keyword hits of one flag (``complaint``, ``threat`` ...), newest first."""
        async def go() -> list[dict[str, Any]]:
            async with self.engine.connect() as c:
                rows = await c.execute(select(qa_flags).where(qa_flags.c.flag == flag)
                                       .order_by(qa_flags.c.id.desc()).limit(limit))
                return [dict(r._mapping) for r in rows]
        return await self._run("flagged", go())

    async def add_review(self, linkedid: str, reviewer: str, score: int | None, notes: str, at: float) -> int:
        """Store a QA review of a call; returns its id."""
        async def go() -> int:
            async with self._tx() as c:
                res = await c.execute(insert(qa_reviews).values(linkedid=linkedid, reviewer=reviewer, score=score,
                                                                notes=notes, created_at=at))
                key = res.inserted_primary_key
                assert key is not None  # a one-row INSERT
                return int(key[0])
        return await self._run("add_review", go())

    async def forget_transcript(self, job_id: str) -> None:
        """Delete a stored outcome (to transcribe a recording again with a new model)."""
        async def go() -> None:
            async with self._tx() as c:
                for table in (qa_flags, segments, transcripts):
                    await c.execute(delete(table).where(table.c.job_id == job_id))
        await self._run("forget_transcript", go())


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
