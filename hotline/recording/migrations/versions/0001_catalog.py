"""The catalog: calls, recordings, transcripts with segments, FTS5 trigram index, QA flags and reviews.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("linkedid", sa.String(64), primary_key=True),
        sa.Column("caller_num", sa.String(64)),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("ended_at", sa.Float),
    )
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("linkedid", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("rel_path", sa.String(512), nullable=False, unique=True),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("uniqueid", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("skip_reason", sa.String(32)),
        sa.Column("rate_hz", sa.Integer),
        sa.Column("channels", sa.Integer),
        sa.Column("duration_s", sa.Float),
        sa.Column("size_bytes", sa.Integer),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("closed_at", sa.Float),
        sa.Column("job_id", sa.String(64)),
        sa.Column("purged_at", sa.Float),
    )
    op.create_index("ix_recordings_linkedid", "recordings", ["linkedid"])
    op.create_index("ix_recordings_job_id", "recordings", ["job_id"])
    op.create_table(
        "transcripts",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("linkedid", sa.String(64), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("worker", sa.String(128), nullable=False),
        sa.Column("finished_at", sa.Float, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("model", sa.String(128)),
        sa.Column("duration_s", sa.Float),
        sa.Column("rate_hz", sa.Integer),
        sa.Column("channels", sa.Integer),
        sa.Column("no_speech", sa.Boolean),
        sa.Column("skipped", sa.String(32)),
        sa.Column("error", sa.Text),
        sa.Column("flags", sa.String(256), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_transcripts_linkedid", "transcripts", ["linkedid"])
    op.create_table(
        "transcript_segments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("linkedid", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("speaker", sa.String(32), nullable=False),
        sa.Column("channel", sa.Integer, nullable=False),
        sa.Column("start_s", sa.Float, nullable=False),
        sa.Column("end_s", sa.Float, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.Column("words", sa.Text, nullable=False),
    )
    op.create_index("ix_transcript_segments_job_id", "transcript_segments", ["job_id"])
    op.create_table(
        "qa_flags",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("linkedid", sa.String(64), nullable=False),
        sa.Column("flag", sa.String(64), nullable=False),
        sa.Column("keyword", sa.String(128), nullable=False),
        sa.Column("speaker", sa.String(32), nullable=False),
        sa.Column("start_s", sa.Float, nullable=False),
        sa.Column("end_s", sa.Float, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("ix_qa_flags_job_id", "qa_flags", ["job_id"])
    op.create_index("ix_qa_flags_flag", "qa_flags", ["flag"])
    op.create_table(
        "qa_reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("linkedid", sa.String(64), nullable=False),
        sa.Column("reviewer", sa.String(128), nullable=False),
        sa.Column("score", sa.Integer),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_qa_reviews_linkedid", "qa_reviews", ["linkedid"])
    if op.get_bind().dialect.name == "sqlite":
        _create_fts()


def _create_fts() -> None:
    """FTS5 over transcript_segments.search_text (external content), kept in step by triggers."""
    from hotline.recording.errors import FullTextUnsupported

    bind = op.get_bind()
    version = bind.exec_driver_sql("SELECT sqlite_version()").scalar() or "?"
    try:
        op.execute(
            "CREATE VIRTUAL TABLE segments_fts USING fts5(search_text, content='transcript_segments', "
            "content_rowid='id', tokenize='trigram')"
        )
    except sa.exc.OperationalError as exc:
        raise FullTextUnsupported(str(version), str(exc.orig)) from exc
    op.execute(
        "CREATE TRIGGER transcript_segments_ai AFTER INSERT ON transcript_segments BEGIN "
        "INSERT INTO segments_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
    )
    op.execute(
        "CREATE TRIGGER transcript_segments_ad AFTER DELETE ON transcript_segments BEGIN "
        "INSERT INTO segments_fts(segments_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END"
    )
    op.execute(
        "CREATE TRIGGER transcript_segments_au AFTER UPDATE ON transcript_segments BEGIN "
        "INSERT INTO segments_fts(segments_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
        "INSERT INTO segments_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("transcript_segments_ai", "transcript_segments_ad", "transcript_segments_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS segments_fts")
    for table in ("qa_reviews", "qa_flags", "transcript_segments", "transcripts", "recordings", "calls"):
        op.drop_table(table)
