"""QA storage in the catalog database (SQLAlchemy 2 async): facts, samples, assignments, scores.

The adapter between :mod:`hotline.recording.catalog` (calls, recordings, transcripts) and the pure QA
core: it turns catalog rows into :class:`~hotline.qa.models.CallRecord`, stores samples with their plan
and seed, assignments and locked scores (tables in :mod:`hotline.qa.tables`, created by the catalog's
Alembic revision ``0002_qa``). Every operation runs under ``timeout_s``; database failures come
out as :class:`QaStoreUnavailable`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import and_, func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.qa import tables as t
from hotline.qa.assign import NewAssignment
from hotline.qa.errors import QaError, ScoreLocked
from hotline.qa.models import CallRecord, Sample
from hotline.qa.scoring import ScoreResult
from hotline.recording import catalog as cat
from hotline.speech.jobs import JobOutcome
from hotline.speech.transcript import Transcript

T = TypeVar("T")


class QaStoreUnavailable(QaError):
    """The database failed or did not answer within the budget."""

    error_id = "qa-store-unavailable"

    def __init__(self, operation: str, why: str) -> None:
        self.operation = operation
        super().__init__(f"QA store: {operation} failed: {why}")


class SampleExists(QaError):
    """The plan was already sampled for that day (a day is sampled once per plan, for audit)."""

    error_id = "sample-exists"

    def __init__(self, plan_name: str, day: str) -> None:
        super().__init__(f"plan {plan_name!r} was already sampled for {day}; a sample is never redrawn")


@dataclass(frozen=True, slots=True)
class AssignmentRow:
    """An assignment with its call's facts and score state (for pages and CSV)."""

    id: int
    sample_id: int
    linkedid: str
    reviewer: str
    calibration: bool
    form: str
    created_at: float
    plan_name: str
    day: str
    reasons: tuple[dict[str, str], ...]
    score: float | None
    passed: bool | None
    submitted_at: float | None

    @property
    def done(self) -> bool:
        return self.submitted_at is not None


class QaStore:
    """QA data in the catalog database.

    Args:
        engine: the catalog's async engine (``Catalog.engine``); its schema at revision ``0002_qa`` or later.
        timeout_s: budget of each operation, seconds.
    """

    def __init__(self, engine: AsyncEngine, *, timeout_s: float = 10.0) -> None:
        self.engine = engine
        self.timeout_s = timeout_s

    async def _run(self, operation: str, awaitable: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout(self.timeout_s):
                return await awaitable
        except TimeoutError as exc:
            raise QaStoreUnavailable(operation, f"no answer within {self.timeout_s:.1f}s") from exc
        except (SQLAlchemyError, OSError) as exc:
            raise QaStoreUnavailable(operation, str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc

    # ------------------------------------------------------------------ facts and calls
    async def upsert_facts(self, records: Iterable[CallRecord], now: float) -> int:
        """Store the QA facts of calls (agent, queue, wait, IVR path, rating, ...); replaces earlier ones."""
        rows = [{
            "linkedid": r.linkedid, "agent": r.agent, "queue": r.queue, "skill": r.skill, "district": r.district,
            "call_type": r.call_type, "wait_s": r.wait_s, "satisfaction": r.satisfaction,
            "ivr_path": json.dumps(list(r.ivr_path), ensure_ascii=False), "work_order": r.work_order,
            "duration_s": r.duration_s, "updated_at": now,
        } for r in records]

        async def go() -> int:
            async with self.engine.begin() as c:
                for row in rows:
                    await c.execute(t.call_facts.delete().where(t.call_facts.c.linkedid == row["linkedid"]))
                if rows:
                    await c.execute(insert(t.call_facts), rows)
            return len(rows)
        return await self._run("upsert_facts", go())

    async def calls_between(self, start: float, end: float) -> list[CallRecord]:
        """Calls started in ``[start, end)`` (epoch s) as CallRecords: catalog call + facts + first
        live recording (not purged) + the union of its transcripts' keyword flags."""
        return await self._run("calls_between", self._records(and_(cat.calls.c.started_at >= start,
                                                                   cat.calls.c.started_at < end)))

    async def call_record(self, linkedid: str) -> CallRecord | None:
        """One call as a CallRecord, or None when the catalog does not know it."""
        found = await self._run("call_record", self._records(cat.calls.c.linkedid == linkedid))
        return found[0] if found else None

    async def _records(self, where: Any) -> list[CallRecord]:
        f = t.call_facts
        stmt = (select(cat.calls, f.c.agent, f.c.queue, f.c.skill, f.c.district, f.c.call_type, f.c.wait_s,
                       f.c.satisfaction, f.c.ivr_path, f.c.work_order, f.c.duration_s.label("facts_duration_s"))
                .select_from(cat.calls.outerjoin(f, f.c.linkedid == cat.calls.c.linkedid)).where(where))
        async with self.engine.connect() as c:
            rows = [dict(r._mapping) for r in await c.execute(stmt)]
            ids = [r["linkedid"] for r in rows]
            recs: dict[str, str] = {}
            flags: dict[str, set[str]] = {}
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                for lid, rel in await c.execute(
                        select(cat.recordings.c.linkedid, cat.recordings.c.rel_path)
                        .where(cat.recordings.c.linkedid.in_(chunk), cat.recordings.c.status != "purged")
                        .order_by(cat.recordings.c.linkedid, cat.recordings.c.seq)):
                    recs.setdefault(lid, rel)
                for lid, fl in await c.execute(select(cat.transcripts.c.linkedid, cat.transcripts.c.flags)
                                               .where(cat.transcripts.c.linkedid.in_(chunk))):
                    flags.setdefault(lid, set()).update(x for x in (fl or "").split(",") if x)
        out = []
        for r in rows:
            duration = r["facts_duration_s"]
            if duration is None:
                duration = (r["ended_at"] - r["started_at"]) if r["ended_at"] else 0.0
            out.append(CallRecord(
                linkedid=r["linkedid"], started_at=r["started_at"], duration_s=float(duration), agent=r["agent"],
                queue=r["queue"], skill=r["skill"], district=r["district"], call_type=r["call_type"],
                caller=r["caller_num"], wait_s=float(r["wait_s"] or 0.0), flags=tuple(sorted(flags.get(r["linkedid"],
                                                                                                   ()))),
                satisfaction=r["satisfaction"], recording=recs.get(r["linkedid"]),
                ivr_path=tuple(json.loads(r["ivr_path"] or "[]")), work_order=r["work_order"]))
        out.sort(key=lambda x: x.linkedid)
        return out

    async def transcript(self, linkedid: str) -> Transcript | None:
        """The call's first finished transcript (with segments, words and hits), or None."""
        async def go() -> Transcript | None:
            async with self.engine.connect() as c:
                rows = await c.execute(select(cat.transcripts.c.body).where(cat.transcripts.c.linkedid == linkedid)
                                       .order_by(cat.transcripts.c.path))
                for (body,) in rows:
                    outcome = JobOutcome.from_json(body)
                    if outcome.transcript is not None:
                        return outcome.transcript
            return None
        return await self._run("transcript", go())

    # ------------------------------------------------------------------ samples and assignments
    async def sampled_linkedids(self, plan_name: str) -> set[str]:
        """Every call this plan has ever sampled (so none is sampled twice)."""
        async def go() -> set[str]:
            async with self.engine.connect() as c:
                rows = await c.execute(select(t.sample_calls.c.linkedid).join(
                    t.samples, t.samples.c.id == t.sample_calls.c.sample_id).where(t.samples.c.plan_name == plan_name))
                return {r[0] for r in rows}
        return await self._run("sampled_linkedids", go())

    async def open_load(self, reviewers: Sequence[str]) -> dict[str, int]:
        """Reviewer -> assignments without a submitted score."""
        async def go() -> dict[str, int]:
            a, s = t.assignments, t.scores
            stmt = (select(a.c.reviewer, func.count()).select_from(a.outerjoin(s, s.c.assignment_id == a.c.id))
                    .where(a.c.reviewer.in_(list(reviewers)), s.c.id.is_(None)).group_by(a.c.reviewer))
            async with self.engine.connect() as c:
                found = {r: int(n) for r, n in await c.execute(stmt)}
            return {r: found.get(r, 0) for r in reviewers}
        return await self._run("open_load", go())

    async def save_sample(self, sample: Sample, new: Sequence[NewAssignment], *, form: str, created_by: str,
                          now: float) -> int:
        """Store a sample (plan, seed, summary, calls with reasons) and its assignments in one transaction.

        Returns:
            The sample id.
        Raises:
            SampleExists: the plan was already sampled for that day.
        """
        summary = {"population": sample.population, "eligible": sample.eligible, "excluded": sample.excluded,
                   "strata": {k: list(v) for k, v in sample.strata.items()}}

        async def go() -> int:
            try:
                async with self.engine.begin() as c:
                    res = await c.execute(insert(t.samples).values(
                        plan_name=sample.plan_name, day=sample.day, seed=sample.seed,
                        plan=json.dumps(sample.plan, ensure_ascii=False, sort_keys=True),
                        summary=json.dumps(summary, ensure_ascii=False), created_at=now, created_by=created_by))
                    key = res.inserted_primary_key
                    assert key is not None  # a one-row INSERT
                    sid = int(key[0])
                    if sample.calls:
                        await c.execute(insert(t.sample_calls), [{
                            "sample_id": sid, "linkedid": sc.linkedid, "agent": sc.agent,
                            "reasons": json.dumps(sc.to_dict()["reasons"], ensure_ascii=False)} for sc in sample.calls])
                    if new:
                        await c.execute(insert(t.assignments), [{
                            "sample_id": sid, "linkedid": a.linkedid, "reviewer": a.reviewer,
                            "calibration": a.calibration, "form": form, "created_at": now} for a in new])
                    return sid
            except IntegrityError as exc:
                raise SampleExists(sample.plan_name, sample.day) from exc
        return await self._run("save_sample", go())

    async def sample_row(self, plan_name: str, day: str) -> dict[str, Any] | None:
        """The stored sample of a plan and day (plan and seed as stored), or None."""
        async def go() -> dict[str, Any] | None:
            async with self.engine.connect() as c:
                r = (await c.execute(select(t.samples).where(t.samples.c.plan_name == plan_name,
                                                             t.samples.c.day == day))).first()
                return dict(r._mapping) if r else None
        return await self._run("sample_row", go())

    def _assignment_query(self) -> Any:
        a, s, sc, sm = t.assignments, t.scores, t.sample_calls, t.samples
        return (select(a, sm.c.plan_name, sm.c.day, sc.c.reasons, s.c.score, s.c.passed, s.c.submitted_at)
                .select_from(a.join(sm, sm.c.id == a.c.sample_id)
                             .outerjoin(sc, and_(sc.c.sample_id == a.c.sample_id, sc.c.linkedid == a.c.linkedid))
                             .outerjoin(s, s.c.assignment_id == a.c.id)))

    @staticmethod
    def _row(r: Mapping[Any, Any]) -> AssignmentRow:
        return AssignmentRow(
            id=r["id"], sample_id=r["sample_id"], linkedid=r["linkedid"], reviewer=r["reviewer"],
            calibration=bool(r["calibration"]), form=r["form"], created_at=r["created_at"], plan_name=r["plan_name"],
            day=r["day"], reasons=tuple(json.loads(r["reasons"] or "[]")), score=r["score"],
            passed=None if r["passed"] is None else bool(r["passed"]), submitted_at=r["submitted_at"])

    async def assignments(self, reviewer: str | None = None) -> list[AssignmentRow]:
        """Assignments (of one reviewer, or all), open first, then newest first."""
        async def go() -> list[AssignmentRow]:
            q = self._assignment_query()
            if reviewer is not None:
                q = q.where(t.assignments.c.reviewer == reviewer)
            async with self.engine.connect() as c:
                rows = [self._row(r._mapping) for r in await c.execute(q.order_by(t.assignments.c.id.desc()))]
            return sorted(rows, key=lambda x: x.done)
        return await self._run("assignments", go())

    async def assignment(self, assignment_id: int) -> AssignmentRow | None:
        async def go() -> AssignmentRow | None:
            async with self.engine.connect() as c:
                r = (await c.execute(self._assignment_query().where(t.assignments.c.id == assignment_id))).first()
                return self._row(r._mapping) if r else None
        return await self._run("assignment", go())

    # ------------------------------------------------------------------ scores
    async def submit_score(self, assignment_id: int, result: ScoreResult, *, form: str, notes: str, by: str,
                           now: float) -> None:
        """Store the score of an assignment. A submitted score is final.

        Raises:
            ScoreLocked: the assignment already has a score (the UNIQUE key on ``assignment_id``).
        """
        async def go() -> None:
            try:
                async with self.engine.begin() as c:
                    await c.execute(insert(t.scores).values(
                        assignment_id=assignment_id, form=form,
                        answers=json.dumps(result.answers, ensure_ascii=False, sort_keys=True), score=result.score,
                        passed=result.passed, fatal_failed=",".join(result.fatal_failed), notes=notes,
                        submitted_at=now, submitted_by=by))
            except IntegrityError as exc:
                raise ScoreLocked(assignment_id) from exc
        await self._run("submit_score", go())

    async def score_rows(self) -> list[dict[str, Any]]:
        """Every submitted score with its assignment, sample and call facts (for CSV export)."""
        async def go() -> list[dict[str, Any]]:
            a, s, sm, f = t.assignments, t.scores, t.samples, t.call_facts
            stmt = (select(s.c.assignment_id, sm.c.plan_name, sm.c.day, a.c.linkedid, f.c.agent, f.c.queue,
                           a.c.reviewer, a.c.calibration, s.c.form, s.c.score, s.c.passed, s.c.fatal_failed,
                           s.c.answers, s.c.notes, s.c.submitted_at)
                    .select_from(s.join(a, a.c.id == s.c.assignment_id).join(sm, sm.c.id == a.c.sample_id)
                                 .outerjoin(f, f.c.linkedid == a.c.linkedid))
                    .order_by(s.c.submitted_at, s.c.assignment_id))
            async with self.engine.connect() as c:
                return [dict(r._mapping) for r in await c.execute(stmt)]
        return await self._run("score_rows", go())

    async def calibration_scores(self, sample_id: int) -> tuple[dict[str, dict[str, float]],
                                                                dict[str, dict[str, dict[str, str]]]]:
        """Scores and answers of a sample's calibration calls: (linkedid -> reviewer -> score, ... -> answers)."""
        async def go() -> tuple[dict[str, dict[str, float]], dict[str, dict[str, dict[str, str]]]]:
            a, s = t.assignments, t.scores
            stmt = (select(a.c.linkedid, a.c.reviewer, s.c.score, s.c.answers)
                    .select_from(a.join(s, s.c.assignment_id == a.c.id))
                    .where(a.c.sample_id == sample_id, a.c.calibration.is_(True)))
            scores: dict[str, dict[str, float]] = {}
            answers: dict[str, dict[str, dict[str, str]]] = {}
            async with self.engine.connect() as c:
                for lid, reviewer, score, ans in await c.execute(stmt):
                    scores.setdefault(lid, {})[reviewer] = float(score)
                    answers.setdefault(lid, {})[reviewer] = json.loads(ans)
            return scores, answers
        return await self._run("calibration_scores", go())
