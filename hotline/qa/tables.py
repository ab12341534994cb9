"""The QA tables in the catalog database (SQLAlchemy Core), created by Alembic revision ``0002_qa``.

They live beside :mod:`hotline.recording.catalog`'s tables (calls, recordings, transcripts) in the same
database, so one join gives a reviewer's call page. Schema::

    qa_call_facts    linkedid PK, agent, queue, skill, district, call_type, wait_s, satisfaction,
                     ivr_path (JSON list), work_order, duration_s, updated_at
    qa_samples       id, plan_name, day, seed, plan (JSON), summary (JSON), created_at, created_by;
                     UNIQUE(plan_name, day): a day is sampled once per plan (no redraw until it suits)
    qa_sample_calls  id, sample_id, linkedid, agent, reasons (JSON); UNIQUE(sample_id, linkedid)
    qa_assignments   id, sample_id, linkedid, reviewer, calibration, form, created_at;
                     UNIQUE(sample_id, linkedid, reviewer)
    qa_scores        id, assignment_id UNIQUE (a submitted score is locked), form, answers (JSON),
                     score, passed, fatal_failed, notes, submitted_at, submitted_by

``qa_call_facts`` holds what the catalog's ``calls`` row does not (queue, agent, wait, IVR path,
work order, follow-up rating); it is filled by whoever knows them (:meth:`hotline.qa.store.QaStore.upsert_facts`).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

call_facts = Table(
    "qa_call_facts", metadata,
    Column("linkedid", String(64), primary_key=True),
    Column("agent", String(64)),
    Column("queue", String(64)),
    Column("skill", String(64)),
    Column("district", String(64)),
    Column("call_type", String(64)),
    Column("wait_s", Float),
    Column("satisfaction", Integer),
    Column("ivr_path", Text, nullable=False, default="[]"),
    Column("work_order", String(64)),
    Column("duration_s", Float),
    Column("updated_at", Float, nullable=False),
)
samples = Table(
    "qa_samples", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_name", String(128), nullable=False),
    Column("day", String(10), nullable=False),
    Column("seed", BigInteger, nullable=False),
    Column("plan", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(128), nullable=False),
    UniqueConstraint("plan_name", "day", name="uq_qa_samples_plan_day"),
)
sample_calls = Table(
    "qa_sample_calls", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sample_id", Integer, ForeignKey("qa_samples.id"), nullable=False, index=True),
    Column("linkedid", String(64), nullable=False, index=True),
    Column("agent", String(64)),
    Column("reasons", Text, nullable=False),
    UniqueConstraint("sample_id", "linkedid", name="uq_qa_sample_calls"),
)
assignments = Table(
    "qa_assignments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sample_id", Integer, ForeignKey("qa_samples.id"), nullable=False),
    Column("linkedid", String(64), nullable=False, index=True),
    Column("reviewer", String(128), nullable=False, index=True),
    Column("calibration", Boolean, nullable=False),
    Column("form", String(128), nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("sample_id", "linkedid", "reviewer", name="uq_qa_assignments"),
)
scores = Table(
    "qa_scores", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("assignment_id", Integer, ForeignKey("qa_assignments.id"), nullable=False, unique=True),
    Column("form", String(128), nullable=False),
    Column("answers", Text, nullable=False),
    Column("score", Float, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("fatal_failed", String(512), nullable=False),
    Column("notes", Text, nullable=False),
    Column("submitted_at", Float, nullable=False),
    Column("submitted_by", String(128), nullable=False),
)
