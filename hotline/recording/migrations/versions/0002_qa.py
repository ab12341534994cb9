"""QA tables: call facts, samples (plan + seed), sampled calls with reasons, assignments, locked scores.

Owned by the ``qa`` package (schema documented in :mod:`hotline.qa.tables`).

Revision ID: 0002_qa
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_qa"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qa_call_facts",
        sa.Column("linkedid", sa.String(64), primary_key=True),
        sa.Column("agent", sa.String(64)),
        sa.Column("queue", sa.String(64)),
        sa.Column("skill", sa.String(64)),
        sa.Column("district", sa.String(64)),
        sa.Column("call_type", sa.String(64)),
        sa.Column("wait_s", sa.Float),
        sa.Column("satisfaction", sa.Integer),
        sa.Column("ivr_path", sa.Text, nullable=False),
        sa.Column("work_order", sa.String(64)),
        sa.Column("duration_s", sa.Float),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "qa_samples",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_name", sa.String(128), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("plan", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.UniqueConstraint("plan_name", "day", name="uq_qa_samples_plan_day"),
    )
    op.create_table(
        "qa_sample_calls",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sample_id", sa.Integer, sa.ForeignKey("qa_samples.id"), nullable=False),
        sa.Column("linkedid", sa.String(64), nullable=False),
        sa.Column("agent", sa.String(64)),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.UniqueConstraint("sample_id", "linkedid", name="uq_qa_sample_calls"),
    )
    op.create_index("ix_qa_sample_calls_sample_id", "qa_sample_calls", ["sample_id"])
    op.create_index("ix_qa_sample_calls_linkedid", "qa_sample_calls", ["linkedid"])
    op.create_table(
        "qa_assignments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sample_id", sa.Integer, sa.ForeignKey("qa_samples.id"), nullable=False),
        sa.Column("linkedid", sa.String(64), nullable=False),
        sa.Column("reviewer", sa.String(128), nullable=False),
        sa.Column("calibration", sa.Boolean, nullable=False),
        sa.Column("form", sa.String(128), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("sample_id", "linkedid", "reviewer", name="uq_qa_assignments"),
    )
    op.create_index("ix_qa_assignments_linkedid", "qa_assignments", ["linkedid"])
    op.create_index("ix_qa_assignments_reviewer", "qa_assignments", ["reviewer"])
    op.create_table(
        "qa_scores",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("assignment_id", sa.Integer, sa.ForeignKey("qa_assignments.id"), nullable=False, unique=True),
        sa.Column("form", sa.String(128), nullable=False),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("fatal_failed", sa.String(512), nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("submitted_at", sa.Float, nullable=False),
        sa.Column("submitted_by", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    for table in ("qa_scores", "qa_assignments", "qa_sample_calls", "qa_samples", "qa_call_facts"):
        op.drop_table(table)
