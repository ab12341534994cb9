"""QA review pages (aiohttp, server-rendered): assignments, call page, audio, scoring, CSV export.

Mounted into the web app as a sub-app: ``app.add_subapp("/qa", qa_app(qa_deps))``. The web app's
``guard`` middleware authenticates the caller, checks the roles each handler declares with
:func:`hotline.web.auth.requires` (deny by default), checks CSRF on POST and sets ``request[PRINCIPAL]``;
these handlers add the per-call rules on top:

* a ``qa-reviewer`` sees and scores only the calls assigned to them; opening another reviewer's
  call answers 403 and is audited (``qa.open`` with outcome ``not-assigned``);
  ``qa-lead``, ``supervisor`` and ``admin`` see every assignment; only the assigned reviewer scores;
* phone and ID-card numbers are masked on every QA page and in transcripts (:mod:`hotline.qa.privacy`);
* the audio URL is HMAC-signed, bound to the user and the assignment, and expires
  (``/qa/media/{assignment}/{exp}/{sig}.wav``); the file is resolved under the storage root
  (:func:`hotline.qa.privacy.resolve_under`) and served by ``FileResponse`` (HTTP Range: 206 Partial
  Content with ``Content-Range``); every request is audited (``recording.play`` with its Range,
  or ``recording.download``) with who, what (assignment, call, file) and when;
* a submitted score is locked (second submit: 409);
* ``/qa/export.csv`` (qa-lead, admin) exports scores; cells that a spreadsheet would run as a
  formula (``= + - @``) are prefixed with ``'``.
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web

from hotline.kernel.errors import ProblemsError
from hotline.qa.errors import (
    BadMediaLink,
    InvalidAnswers,
    NotAssigned,
    PathEscape,
    PlanError,
    QaError,
    ScoreLocked,
    UnknownPlan,
)
from hotline.qa.plans import QaDefinitions
from hotline.qa.privacy import check_media, mask_text, mask_words, resolve_under, sign_media
from hotline.qa.scoring import ScoringForm, compute_score
from hotline.qa.service import calibration
from hotline.qa.settings import QaConfig
from hotline.qa.store import AssignmentRow, QaStore, QaStoreUnavailable, SampleExists
from hotline.recording.settings import RecordingSettings
from hotline.speech.transcript import Transcript
from hotline.web.api import PRINCIPAL
from hotline.web.audit import AuditEntry, AuditLog
from hotline.web.auth import QA, Principal, requires
from hotline.web.errors import Conflict, Forbidden, InvalidRequest, NotAuthenticated, NotFound, Unavailable, WebError
from hotline.web.users import Role

SEE_ALL = frozenset({Role.QA_LEAD, Role.SUPERVISOR, Role.ADMIN})
EXPORT = frozenset({Role.QA_LEAD, Role.ADMIN})


@dataclass
class QaDeps:
    """Collaborators of the QA pages (built by the composition root).

    Attributes:
        store: QA data in the catalog.
        defs: plans and scoring forms.
        storage_root: recordings' root (``rel_path`` is relative to it).
        media_key: 32-byte HMAC key of the audio URLs.
        audit: the web app's audit log (the same file as the supervisor actions).
        media_url_ttl_s: validity of an audio URL, seconds.
        timezone: zone in which pages show times (the recordings' ``recording.tz``).
        clock: epoch-seconds clock.
    """

    store: QaStore
    defs: QaDefinitions
    storage_root: Path
    media_key: bytes
    audit: AuditLog
    media_url_ttl_s: int = 900
    timezone: str = "Asia/Shanghai"
    clock: Callable[[], float] = field(default=time.time)


QA_DEPS = web.AppKey("hotline_qa_deps", QaDeps)


def qa_app(deps: QaDeps) -> web.Application:
    """The QA sub-app; mount it at ``/qa`` on the web app (whose middleware authenticates)."""
    app = web.Application(middlewares=[qa_errors])
    app[QA_DEPS] = deps
    app.router.add_get("/", my_assignments)
    app.router.add_get("/assignments/{id:\\d+}", call_page)
    app.router.add_post("/assignments/{id:\\d+}/score", submit_score)
    app.router.add_get("/media/{id:\\d+}/{exp:\\d+}/{sig:[0-9a-f]{64}}.wav", media)
    app.router.add_get("/export.csv", export_csv)
    app.router.add_get("/samples/{id:\\d+}/calibration", calibration_json)
    return app


# ------------------------------------------------------------------ helpers
def _deps(request: web.Request) -> QaDeps:
    return request.config_dict[QA_DEPS]


def _who(request: web.Request) -> Principal:
    who = request.get(PRINCIPAL)
    if who is None:  # mounted without the web app's guard: refuse rather than serve
        raise NotAuthenticated("log in first")
    return who


def _audit(d: QaDeps, who: Principal, action: str, target: str, outcome: str = "ok", **details: object) -> None:
    d.audit.record(AuditEntry(at=d.clock(), user=who.name, role=who.role.value, action=action, target=target,
                              details=dict(details), outcome=outcome))


#: each QA failure's request error category (the category's HTTP status is in ``web.errors.HTTP_STATUS``)
QA_CATEGORY: tuple[tuple[type[QaError], type[WebError]], ...] = (
    (NotAssigned, Forbidden),
    (PathEscape, Forbidden),
    (BadMediaLink, Forbidden),
    (ScoreLocked, Conflict),
    (SampleExists, Conflict),
    (InvalidAnswers, InvalidRequest),
    (PlanError, InvalidRequest),
    (UnknownPlan, NotFound),
    (QaStoreUnavailable, Unavailable),
)


def _to_web(exc: QaError) -> WebError:
    """A QA error as the web layer's request error: its category from :data:`QA_CATEGORY` (else the
    500 base), the QA ``error_id`` in ``details["qa_error"]``, the problems of a problems error in
    ``details["problems"]``; a path escape shows only "recording not available"."""
    details: dict[str, object] = {"qa_error": exc.error_id}
    if isinstance(exc, ProblemsError):
        details["problems"] = exc.problems
    category = next((cat for cls, cat in QA_CATEGORY if isinstance(exc, cls)), WebError)
    return category("recording not available" if isinstance(exc, PathEscape) else str(exc), details)


@web.middleware
async def qa_errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                    ) -> web.StreamResponse:
    """QA errors out of a handler become the web layer's errors (the web app's guard renders them)."""
    try:
        return await handler(request)
    except QaError as exc:
        raise _to_web(exc) from exc


async def _assignment_for(request: web.Request, action: str) -> tuple[QaDeps, Principal, AssignmentRow]:
    """The assignment of the URL if the caller may see it; a refusal is audited, then 403."""
    d, who = _deps(request), _who(request)
    aid = int(request.match_info["id"])
    row = await d.store.assignment(aid)
    if row is None:
        raise NotFound(f"no assignment {aid}")
    if who.role not in SEE_ALL and row.reviewer != who.name:
        _audit(d, who, action, f"assignment:{aid}", "not-assigned", linkedid=row.linkedid, path=request.path)
        raise _to_web(NotAssigned(who.name, f"assignment {aid}"))
    return d, who, row


def _e(value: object) -> str:
    """HTML-escaped, numbers masked."""
    return html.escape(mask_text("" if value is None else str(value)))


def _page(title: str, body: str, csrf: str | None = None) -> web.Response:
    from hotline.web.pages import page

    resp = page(title, _STYLE + body, csrf)
    resp.headers["Cache-Control"] = "no-store"
    return resp


_STYLE = """<style>
.qa{max-width:1100px;margin:0 auto}.facts td:first-child{color:#8b949e;width:10em}
.seg{margin:6px 0}.spk{display:inline-block;width:4.5em;color:#8b949e}.spk.agent{color:#7ee787}
.spk.caller{color:#79c0ff}.t{color:#8b949e;font-size:80%;margin-right:6px}.w{cursor:pointer;border-radius:3px}
.w:hover{background:#30363d}.w.kw{background:#f8514966;font-weight:bold}.w.now{outline:1px solid #58a6ff}
.reason{font-size:85%;color:#d29922}audio{width:100%;margin:12px 0}fieldset{border:1px solid #30363d;
border-radius:8px;margin:8px 0}.locked{background:#23863633;padding:8px;border-radius:6px}
</style>"""


# ------------------------------------------------------------------ pages
@requires(QA)
async def my_assignments(request: web.Request) -> web.Response:
    """Assignments: the reviewer's own; every one for qa-lead, supervisor and admin."""
    d, who = _deps(request), _who(request)
    rows = await d.store.assignments(None if who.role in SEE_ALL else who.name)
    trs = []
    for r in rows:
        state = f"{r.score:.1f} {'pass' if r.passed else 'fail'}" if r.done else "open"
        reasons = "; ".join(f"{x['rule']}: {x['detail']}" for x in r.reasons)
        trs.append(f"<tr data-assignment={r.id}><td><a href='/qa/assignments/{r.id}'>#{r.id}</a></td>"
                   f"<td>{_e(r.linkedid)}</td><td>{_e(r.plan_name)} {_e(r.day)}</td><td>{_e(r.reviewer)}"
                   f"{' (calibration)' if r.calibration else ''}</td><td class=reason>{_e(reasons)}</td>"
                   f"<td>{_e(state)}</td></tr>")
    export = "<a href='/qa/export.csv'>export scores (CSV)</a>" if who.role in EXPORT else ""
    body = (f"<div class=qa><h1>QA assignments</h1><p>{_e(who.name)} ({_e(who.role.value)}) · {export}</p>"
            "<table><tr><th>#</th><th>call</th><th>sample</th><th>reviewer</th><th>why sampled</th><th>score</th></tr>"
            + "".join(trs) + "</table></div>")
    return _page("QA assignments", body)


def _transcript_html(t: Transcript | None) -> str:
    if t is None:
        return "<p>No transcript yet.</p>"
    if t.no_speech:
        return f"<p>No speech recognised ({_e(t.skipped or 'silence')}).</p>"
    out = []
    for seg in t.segments:
        masked = mask_words([w.word for w in seg.words]) if seg.words else []
        hits = [h for h in t.hits if h.speaker == seg.speaker and seg.start_s <= h.start_s <= seg.end_s]
        words = []
        for w, shown in zip(seg.words, masked, strict=True):
            kw = any(h.start_s <= w.start_s and w.end_s <= h.end_s for h in hits)
            flag = next((h.flag for h in hits if h.start_s <= w.start_s and w.end_s <= h.end_s), "")
            words.append(f"<span class='w{' kw' if kw else ''}' data-start='{w.start_s:.2f}' data-end='{w.end_s:.2f}'"
                         + (f" title='{html.escape(flag)}'" if flag else "") + f">{html.escape(shown)}</span>")
        text = " ".join(words) if words else _e(seg.text)
        spk = html.escape(seg.speaker)
        out.append(f"<div class=seg><span class='spk {spk}'>{spk}</span><span class=t>{seg.start_s:6.2f}s</span>"
                   f"{text}</div>")
    return "<div id=transcript>" + "".join(out) + "</div>"


def _form_html(form: ScoringForm, aid: int, csrf: str | None) -> str:
    rows = []
    for c in form.criteria:
        opts = ["yes", "no"] + (["na"] if c.allow_na else [])
        radios = " ".join(f"<label><input type=radio name='c_{c.id}' value={o} required> {o}</label>" for o in opts)
        fatal = " <b>(fatal)</b>" if c.fatal else f" <span class=t>weight {c.weight:g}</span>"
        rows.append(f"<fieldset><legend>{html.escape(c.label)}{fatal}</legend>{radios}"
                    f"{'<div class=t>' + html.escape(c.help) + '</div>' if c.help else ''}</fieldset>")
    return (f"<form id=score method=post action='/qa/assignments/{aid}/score'>"
            f"<input type=hidden name=csrf_token value='{html.escape(csrf or '')}'>{''.join(rows)}"
            "<p><textarea name=notes rows=3 cols=60 placeholder='notes'></textarea></p>"
            "<p><button type=submit>submit score (final)</button></p></form>")


_PLAYER_JS = """<script>
(function(){const p=document.getElementById('player');
document.querySelectorAll('#transcript .w').forEach(function(el){el.addEventListener('click',function(){
 p.currentTime=parseFloat(el.dataset.start);});});
p.addEventListener('timeupdate',function(){const t=p.currentTime;document.querySelectorAll('#transcript .w.now')
 .forEach(function(e){e.classList.remove('now')});document.querySelectorAll('#transcript .w').forEach(function(e){
 if(parseFloat(e.dataset.start)<=t&&t<parseFloat(e.dataset.end))e.classList.add('now')});});})();
</script>"""


@requires(QA)
async def call_page(request: web.Request) -> web.Response:
    """One assignment: call facts, audio player, transcript (click a word to seek), scoring form."""
    d, who, row = await _assignment_for(request, "qa.open")
    call = await d.store.call_record(row.linkedid)
    transcript = await d.store.transcript(row.linkedid)
    _audit(d, who, "qa.open", f"assignment:{row.id}", linkedid=row.linkedid)
    exp = int(d.clock()) + d.media_url_ttl_s
    src = f"/qa/media/{row.id}/{exp}/{sign_media(d.media_key, who.name, row.id, exp)}.wav"
    facts = []
    if call is not None:
        started = datetime.fromtimestamp(call.started_at, ZoneInfo(d.timezone)).strftime("%Y-%m-%d %H:%M:%S %Z")
        facts = [("call", call.linkedid), ("started", started), ("duration", f"{call.duration_s:.0f} s"),
                 ("caller", call.caller), ("queue", call.queue), ("skill", call.skill), ("agent", call.agent),
                 ("waited", f"{call.wait_s:.0f} s"), ("IVR path", " → ".join(call.ivr_path) or "-"),
                 ("work order", call.work_order), ("district", call.district), ("call type", call.call_type),
                 ("follow-up rating", call.satisfaction), ("transcript flags", ", ".join(call.flags) or "-")]
    reasons = "".join(f"<li>{_e(x['rule'])}: {_e(x['detail'])}</li>" for x in row.reasons)
    audio = (f"<audio id=player controls preload=metadata src='{html.escape(src)}'></audio>"
             if call is not None and call.recording else "<p>No recording.</p>")
    if row.done:
        scoring = f"<p class=locked id=locked>Scored {row.score:.1f} ({'pass' if row.passed else 'fail'}); locked.</p>"
    elif row.reviewer == who.name:
        try:
            form = d.defs.form(row.form)
        except UnknownPlan as exc:
            raise _to_web(exc) from exc
        scoring = f"<h2>{html.escape(form.title)}</h2>" + _form_html(form, row.id, who.csrf)
    else:
        scoring = f"<p>Assigned to {_e(row.reviewer)}; not scored yet.</p>"
    body = (f"<div class=qa><p><a href='/qa/'>← assignments</a></p><h1>Call {_e(row.linkedid)}</h1>"
            f"<table class=facts>{''.join(f'<tr><td>{k}</td><td>{_e(v)}</td></tr>' for k, v in facts)}</table>"
            f"<h2>Why it is in the sample</h2><ul>{reasons}</ul>{audio}<h2>Transcript</h2>"
            f"{_transcript_html(transcript)}{scoring}</div>{_PLAYER_JS}")
    return _page(f"QA call {row.linkedid}", body, who.csrf)


@requires(QA)
async def submit_score(request: web.Request) -> web.Response:
    """Score an assignment (only its reviewer); the score is locked once stored (409 after)."""
    d, who, row = await _assignment_for(request, "qa.score")
    if row.reviewer != who.name:
        _audit(d, who, "qa.score", f"assignment:{row.id}", "not-assigned", linkedid=row.linkedid)
        raise _to_web(NotAssigned(who.name, f"assignment {row.id} to score"))
    form_data = await request.post()
    answers = {k[2:]: str(v) for k, v in form_data.items() if k.startswith("c_")}
    notes = str(form_data.get("notes", ""))[:4000]
    try:
        if row.done:  # checked first for a clear answer; the UNIQUE key settles a race of two submits
            raise ScoreLocked(row.id)
        form = d.defs.form(row.form)
        result = compute_score(form, answers)
        await d.store.submit_score(row.id, result, form=row.form, notes=notes, by=who.name, now=d.clock())
    except QaError as exc:
        _audit(d, who, "qa.score", f"assignment:{row.id}", exc.error_id, linkedid=row.linkedid)
        raise _to_web(exc) from exc
    _audit(d, who, "qa.score", f"assignment:{row.id}", linkedid=row.linkedid, score=result.score,
           fatal_failed=list(result.fatal_failed))
    raise web.HTTPSeeOther(f"/qa/assignments/{row.id}")


@requires(QA)
async def media(request: web.Request) -> web.StreamResponse:
    """The recording of an assignment through a signed, expiring, per-user URL (Range supported)."""
    d, who = _deps(request), _who(request)
    aid, exp, sig = int(request.match_info["id"]), int(request.match_info["exp"]), request.match_info["sig"]
    rng = request.headers.get("Range")
    action = "recording.play" if rng else "recording.download"
    try:
        check_media(d.media_key, who.name, aid, exp, sig, d.clock())
    except BadMediaLink as exc:
        _audit(d, who, action, f"assignment:{aid}", exc.error_id, reason=str(exc))
        raise _to_web(exc) from exc
    _, who, row = await _assignment_for(request, action)
    call = await d.store.call_record(row.linkedid)
    stored = call.recording if call else None
    try:
        if not stored:
            raise PathEscape("", "the call has no recording")
        path = await asyncio.to_thread(resolve_under, d.storage_root, stored)
    except PathEscape as exc:
        _audit(d, who, action, f"assignment:{aid}", exc.error_id, linkedid=row.linkedid, file=stored, why=exc.why)
        raise _to_web(exc) from exc
    _audit(d, who, action, f"assignment:{aid}", linkedid=row.linkedid, file=stored, range=rng)
    disposition = "attachment" if request.query.get("download") else "inline"
    return web.FileResponse(path, headers={
        "Content-Type": "audio/wav", "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'{disposition}; filename="{row.linkedid}.wav"'})


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@requires(EXPORT)
async def export_csv(request: web.Request) -> web.Response:
    """Every submitted score as CSV (UTF-8 with BOM for spreadsheet programs); audited."""
    d, who = _deps(request), _who(request)
    rows = await d.store.score_rows()
    buf = io.StringIO()
    w = csv.writer(buf)
    cols = ["assignment_id", "plan_name", "day", "linkedid", "agent", "queue", "reviewer", "calibration", "form",
            "score", "passed", "fatal_failed", "answers", "notes", "submitted_at"]
    w.writerow(cols)
    for r in rows:
        r = dict(r) | {"notes": mask_text(r["notes"] or ""), "answers": json.dumps(json.loads(r["answers"]),
                                                                                   ensure_ascii=False)}
        w.writerow([_cell(r[c]) for c in cols])
    _audit(d, who, "qa.export", "scores.csv", rows=len(rows))
    return web.Response(body=("\ufeff" + buf.getvalue()).encode("utf-8"), headers={
        "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": 'attachment; filename="qa-scores.csv"',
        "Cache-Control": "no-store"})


@requires(SEE_ALL)
async def calibration_json(request: web.Request) -> web.Response:
    """Agreement on a sample's calibration calls (Fleiss' kappa, mean absolute score difference)."""
    d = _deps(request)
    rep = await calibration(d.store, int(request.match_info["id"]))
    return web.json_response({"calls": rep.calls, "fleiss_kappa": rep.kappa, "mean_abs_diff": rep.mean_abs_diff,
                              "max_abs_diff": rep.max_abs_diff, "per_call": rep.per_call})


def build_qa_app(cfg: QaConfig, recording: RecordingSettings, audit: AuditLog) -> web.Application:
    """The QA sub-app of ``hotline run``, built from its settings slices (called by the composition root).

    Reads the plans file and the media key (blocking: call it while building the service, before
    the event loop serves requests). The catalog engine is the recording catalog's URL; it is
    disposed when the web app is cleaned up.

    Args:
        cfg: the ``qa:`` section (plans file, storage root, media key and URL lifetime).
        recording: the ``recording:`` section (catalog URL and timeout, ``host_dir``, ``tz``).
        audit: the web app's audit log, so QA entries land in the same file.
    Raises:
        PlanError: the plans file is invalid.
        OSError / ValueError: the media key cannot be read or created.
    """
    from hotline.kernel.keyfile import load_or_create_key
    from hotline.qa.plans import load_definitions
    from hotline.recording.catalog import Catalog

    rec = recording
    catalog = Catalog(rec.catalog.url, timeout_s=rec.catalog.timeout_s)
    deps = QaDeps(store=QaStore(catalog.engine, timeout_s=rec.catalog.timeout_s),
                  defs=load_definitions(cfg.plans_file), storage_root=cfg.storage_root or rec.host_dir,
                  media_key=load_or_create_key(cfg.media_key_file, "QA media key"), audit=audit,
                  media_url_ttl_s=cfg.media_url_ttl_s, timezone=rec.tz)
    app = qa_app(deps)

    async def close_catalog(_app: web.Application) -> None:
        await catalog.close()

    app.on_cleanup.append(close_catalog)
    return app
