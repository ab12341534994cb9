"""The JSON API under ``/api`` and its OpenAPI 3.1 document, generated from one route table.

Every route in :data:`ROUTES` names its handler, the roles it admits, its request and response
models (:mod:`hotline.web.schemas`) and the error statuses it can answer; :func:`openapi_document` builds
``/api/openapi.json`` from the same table, so the document matches what the handlers do (checked
by the schemathesis test). Authentication: the session cookie (browser) or HTTP Basic (scripts).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ValidationError

from hotline.kernel.masking import mask_numbers
from hotline.telephony.ami import AmiActionError, AmiBadAction, AmiConnectionError, AmiTimeout
from hotline.web import schemas as s
from hotline.web.audit import AuditEntry
from hotline.web.auth import ALL, FLOOR, QA, WALL, Principal, requires
from hotline.web.deps import DEPS, HUB, WebDeps
from hotline.web.errors import Conflict, Forbidden, InvalidRequest, NotConfigured, NotFound, Unavailable, WebError
from hotline.web.providers import AgentRow
from hotline.web.spy import pick_agent_leg, spy_originate
from hotline.web.users import Role
from hotline.web.wallboard import build_board, sl_label

PRINCIPAL = web.RequestKey("hotline_principal", Principal)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def deps(request: web.Request) -> WebDeps:
    return request.config_dict[DEPS]


def ok(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(model.model_dump(mode="json"), status=status)


async def parse_body(request: web.Request, model: type[BaseModel]) -> Any:
    """Validate the JSON body against ``model``.

    Raises:
        InvalidRequest: not JSON, or not valid (every problem listed in ``details.problems``).
    """
    try:
        data = await request.json()
    except ValueError:
        raise InvalidRequest("the body must be a JSON object") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or '<body>'}: {e['msg']}" for e in exc.errors()]
        raise InvalidRequest("invalid request body", {"problems": problems}) from None


def agent_json(a: AgentRow, now: float) -> s.Agent:
    return s.Agent(agent_id=a.agent_id, status=a.status, reason=a.reason, since_at=a.since_at,
                   time_in_state_s=round(max(0.0, now - a.since_at), 3), skills=dict(a.skills),
                   languages=list(a.languages), calls_today=a.calls_today, linkedid=a.linkedid, queue=a.queue)


def find_agent(d: WebDeps, agent_id: str) -> AgentRow:
    for a in d.floor.agents():
        if a.agent_id == agent_id:
            return a
    raise NotFound(f"no agent {agent_id!r}", {"agent_id": agent_id})


def audit(request: web.Request, action: str, target: str, details: dict[str, Any], outcome: str = "ok") -> None:
    d, p = deps(request), principal(request)
    d.audit.record(AuditEntry(d.clock(), p.name, p.role.value, action, target, details, outcome))


def board(d: WebDeps, sla_cards: Any = None) -> dict[str, Any]:
    sl = d.config.service_level
    return build_board(d.floor.metrics, d.floor.queues(), d.floor.agents(), d.floor.waiting(), d.floor.staffing(),
                       d.clock(), variant=sl.variant, target_ratio=sl.target_ratio, sla_cards=sla_cards)


# --- handlers --------------------------------------------------------------------------------------


@requires(ALL)
async def get_me(request: web.Request) -> web.Response:
    p = principal(request)
    return ok(s.Me(name=p.name, role=p.role.value, seat=p.seat, agent_id=p.agent_id, csrf_token=p.csrf))


@requires(ALL)
async def list_agents(request: web.Request) -> web.Response:
    d = deps(request)
    now = d.clock()
    return ok(s.AgentList(agents=[agent_json(a, now) for a in d.floor.agents()]))


@requires(ALL)
async def get_agent(request: web.Request) -> web.Response:
    d = deps(request)
    return ok(agent_json(find_agent(d, request.match_info["agent_id"]), d.clock()))


async def change_agent_state(request: web.Request, agent_id: str, change: s.AgentStateChange) -> AgentRow:
    """Apply one state change for ``principal``, audited either way.

    Who may: a supervisor or admin on any agent; an agent on their own seat only (``User.agent_id``);
    nobody else (QA roles are refused here even if a route admitted them).

    Raises:
        Forbidden, NotFound, Conflict, InvalidRequest.
    """
    d, p = deps(request), principal(request)
    details = {"reason": change.reason} if change.reason else {}
    try:
        if p.role is Role.AGENT:
            if p.agent_id is None or p.agent_id != agent_id:
                raise Forbidden("an agent may change only their own state", {"agent_id": agent_id})
        elif p.role not in FLOOR:
            raise Forbidden(f"role {p.role.value} may not change agent states", {"agent_id": agent_id})
        find_agent(d, agent_id)
        if change.action == "pause":
            if not change.reason:
                raise InvalidRequest("a pause needs a reason", {"field": "reason"})
            row = await d.floor.agent_pause(agent_id, change.reason)
        elif change.action == "ready":
            row = await d.floor.agent_ready(agent_id)
        elif change.action == "login":
            row = await d.floor.agent_login(agent_id)
        else:
            row = await d.floor.agent_logout(agent_id)
    except WebError as exc:
        audit(request, change.action, f"agent:{agent_id}", details, exc.error_id)
        raise
    audit(request, change.action, f"agent:{agent_id}", details)
    return row


@requires(FLOOR | {Role.AGENT})
async def post_agent_state(request: web.Request) -> web.Response:
    change = await parse_body(request, s.AgentStateChange)
    row = await change_agent_state(request, request.match_info["agent_id"], change)
    return ok(agent_json(row, deps(request).clock()))


async def change_agent_skills(request: web.Request, agent_id: str, skills: dict[str, int]) -> AgentRow:
    d = deps(request)
    try:
        find_agent(d, agent_id)
        bad = {k: v for k, v in skills.items() if not 1 <= v <= 5 or not k.strip() or len(k) > 64}
        if bad:
            raise InvalidRequest("a skill is a name (1-64 characters) with a proficiency 1..5", {"skills": bad})
        row = await d.floor.agent_set_skills(agent_id, skills)
    except WebError as exc:
        audit(request, "set_skills", f"agent:{agent_id}", {"skills": skills}, exc.error_id)
        raise
    audit(request, "set_skills", f"agent:{agent_id}", {"skills": skills})
    return row


@requires(FLOOR)
async def put_agent_skills(request: web.Request) -> web.Response:
    body = await parse_body(request, s.SkillsChange)
    row = await change_agent_skills(request, request.match_info["agent_id"], body.skills)
    return ok(agent_json(row, deps(request).clock()))


def _queue_list(d: WebDeps) -> s.QueueList:
    b = board(d)
    return s.QueueList(sl_label=b["sl_label"], queues=[s.QueueStats.model_validate(q) for q in b["queues"]])


@requires(ALL)
async def list_queues(request: web.Request) -> web.Response:
    return ok(_queue_list(deps(request)))


@requires(ALL)
async def get_queue(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    for q in _queue_list(deps(request)).queues:
        if q.name == name:
            return ok(q)
    raise NotFound(f"no queue {name!r}", {"queue": name})


@requires(ALL)
async def get_call_outcomes(request: web.Request) -> web.Response:
    return ok(s.CallOutcomes.model_validate(board(deps(request))["calls"]))


@requires(ALL)
async def list_skills(request: web.Request) -> web.Response:
    return ok(s.SkillList(skills=[s.SkillCoverage.model_validate(x) for x in board(deps(request))["skills"]]))


#: roles that see citizens' numbers masked in the call API (supervisors and admins see them as before)
MASKED_ROLES = frozenset({Role.QA_REVIEWER, Role.QA_LEAD})


def _call_json(call: Any, now: float, masked: bool = False) -> s.Call:
    """One live call as JSON; ``masked``: caller numbers and channel names through the one masker."""
    def m(v: Any) -> Any:
        return mask_numbers(v) if masked and isinstance(v, str) else v

    legs = [s.Leg(uniqueid=leg.uniqueid, channel=m(leg.channel), state=leg.state, caller_num=m(leg.caller_num),
                  created_at=leg.created_at, answered_at=leg.answered_at) for leg in call.active_legs]
    return s.Call(linkedid=call.linkedid, started_at=call.started_at,
                  duration_s=round(max(0.0, now - call.started_at), 3), legs=legs)


@requires(QA | FLOOR)
async def list_calls(request: web.Request) -> web.Response:
    d = deps(request)
    now = d.clock()
    calls = d.calls.active_calls() if d.calls is not None else []
    masked = principal(request).role in MASKED_ROLES
    return ok(s.CallList(calls=[_call_json(c, now, masked) for c in sorted(calls, key=lambda c: c.started_at)]))


def _live_call(d: WebDeps, linkedid: str) -> Any:
    call = d.calls.calls.get(linkedid) if d.calls is not None else None
    if call is None or call.ended_at is not None:
        raise NotFound(f"no live call {linkedid!r}", {"linkedid": linkedid})
    return call


@requires(QA | FLOOR)
async def get_call(request: web.Request) -> web.Response:
    d = deps(request)
    masked = principal(request).role in MASKED_ROLES
    return ok(_call_json(_live_call(d, request.match_info["linkedid"]), d.clock(), masked))


async def start_spy(request: web.Request, linkedid: str, mode: str, agent_id: str | None) -> s.SpyStarted:
    """Ring the supervisor's seat into ChanSpy on the agent leg of ``linkedid`` (audited).

    Raises:
        NotFound (no such live call), Conflict (no single agent leg, or Asterisk refused),
        InvalidRequest (the user has no seat), Unavailable (AMI down or timed out).
    """
    d, p = deps(request), principal(request)
    details: dict[str, Any] = {"mode": mode, "agent_id": agent_id}
    try:
        call = _live_call(d, linkedid)
        leg = pick_agent_leg(call, [a.agent_id for a in d.floor.agents()], agent_id)
        if leg is None:
            raise Conflict("the call has no (single) agent leg to spy on; give agent_id", {"linkedid": linkedid})
        if not p.seat:
            raise InvalidRequest("your user has no seat to ring: `hotline user add NAME --seat NNNN`")
        if d.ami is None:
            raise NotConfigured("no AMI connection is wired into the web app")
        fields = spy_originate(mode, p.seat, leg.channel, d.config.spy_timeout_s)
        details.update(channel=leg.channel, seat=p.seat)
        action_id = d.ami.next_action_id("Originate")
        try:
            await d.ami.action("Originate", fields, timeout=d.config.spy_timeout_s, action_id=action_id, check=True)
        except (AmiTimeout, AmiConnectionError) as exc:
            raise Unavailable(f"AMI: {exc}", {"linkedid": linkedid}) from None
        except AmiBadAction as exc:  # the header guard: nothing was sent
            raise InvalidRequest(str(exc), {"linkedid": linkedid}) from None
        except AmiActionError as exc:
            raise Conflict(f"Asterisk refused the Originate: {exc}", {"linkedid": linkedid}) from None
    except WebError as exc:
        audit(request, mode, f"call:{linkedid}", details, exc.error_id)
        raise
    audit(request, mode, f"call:{linkedid}", details)
    return s.SpyStarted(linkedid=linkedid, mode=mode, supervisor_seat=p.seat, agent_channel=leg.channel,
                        action_id=action_id)


@requires(FLOOR)
async def post_spy(request: web.Request) -> web.Response:
    body = await parse_body(request, s.SpyRequest)
    return ok(await start_spy(request, request.match_info["linkedid"], body.mode, body.agent_id))


def _need(provider: Any, what: str) -> Any:
    if provider is None:
        raise NotConfigured(f"{what} are not configured: no {what} provider is wired into this service")
    return provider


@requires(ALL)
async def list_announcements(request: web.Request) -> web.Response:
    items = await _need(deps(request).announcements, "announcements").list_announcements()
    return ok(s.AnnouncementList(announcements=[s.Announcement.model_validate(dict(a)) for a in items]))


@requires(FLOOR)
async def post_announcement(request: web.Request) -> web.Response:
    body = await parse_body(request, s.AnnouncementIn)
    provider = _need(deps(request).announcements, "announcements")
    out = await provider.put_announcement(body.model_dump())
    audit(request, "announcement", f"announcement:{body.id}", {"prompt": body.prompt})
    return ok(s.Announcement.model_validate(dict(out)), 201)


@requires(FLOOR)
async def delete_announcement(request: web.Request) -> web.Response:
    announcement_id = request.match_info["announcement_id"]
    provider = _need(deps(request).announcements, "announcements")
    await provider.remove_announcement(announcement_id)
    audit(request, "announcement-removed", f"announcement:{announcement_id}", {})
    return web.Response(status=204)


@requires(FLOOR)
async def list_callbacks(request: web.Request) -> web.Response:
    items = await _need(deps(request).callbacks, "callbacks").list_callbacks()
    return ok(s.CallbackList(callbacks=[s.Callback.model_validate(dict(c)) for c in items]))


@requires(FLOOR)
async def post_callback(request: web.Request) -> web.Response:
    body = await parse_body(request, s.CallbackIn)
    out = await _need(deps(request).callbacks, "callbacks").schedule_callback(body.number, body.queue, body.due_at)
    audit(request, "callback", f"number:{body.number}", {"queue": body.queue})
    return ok(s.Callback.model_validate(dict(out)), 201)


@requires(FLOOR)
async def list_reminders(request: web.Request) -> web.Response:
    items = await _need(deps(request).reminders, "reminders").list_reminders()
    return ok(s.ReminderList(reminders=[s.Reminder.model_validate(dict(r)) for r in items]))


@requires(FLOOR)
async def post_reminder(request: web.Request) -> web.Response:
    body = await parse_body(request, s.ReminderIn)
    out = await _need(deps(request).reminders, "reminders").schedule_reminder(body.number, body.prompt, body.due_at)
    audit(request, "reminder", f"number:{body.number}", {"prompt": body.prompt})
    return ok(s.Reminder.model_validate(dict(out)), 201)


@requires(WALL)
async def get_wallboard(request: web.Request) -> web.Response:
    return web.Response(text=request.config_dict[HUB].frame(), content_type="application/json")


@requires(FLOOR)
async def list_audit(request: web.Request) -> web.Response:
    raw = request.query.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise InvalidRequest("limit must be an integer 1..1000", {"limit": raw})
    entries = deps(request).audit.recent(int(raw))
    return ok(s.AuditList(entries=[s.AuditItem(at=e.at, user=e.user, role=e.role, action=e.action, target=e.target,
                                               details=e.details, outcome=e.outcome) for e in entries]))


@requires(ALL)
async def get_openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


# --- the route table and the OpenAPI document ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    response: type[BaseModel] | None
    body: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    status: int = 200
    query: tuple[tuple[str, dict[str, Any]], ...] = ()


ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/me", get_me, "The logged-in user, role and CSRF token", "session", s.Me),
    Route("GET", "/api/agents", list_agents, "Every agent with state, reason, time in state, skills", "agents",
          s.AgentList),
    Route("GET", "/api/agents/{agent_id}", get_agent, "One agent", "agents", s.Agent, errors=(404,)),
    Route("POST", "/api/agents/{agent_id}/state", post_agent_state,
          "Log in, log out, ready, or pause with a reason (agents: their own; supervisors: anyone)", "agents",
          s.Agent, s.AgentStateChange, (400, 404, 409)),
    Route("PUT", "/api/agents/{agent_id}/skills", put_agent_skills, "Replace an agent's skills, live", "agents",
          s.Agent, s.SkillsChange, (400, 404)),
    Route("GET", "/api/queues", list_queues, "Queues: waiting, longest wait, today's counters and SL", "queues",
          s.QueueList),
    Route("GET", "/api/queues/{name}", get_queue, "One queue", "queues", s.QueueStats, errors=(404,)),
    Route("GET", "/api/outcomes", get_call_outcomes,
          "Today's calls, one outcome each: offered to the hotline, lost in the IVR (per node), self-served, "
          "failed (per reason), offered to a queue and how that ended", "queues", s.CallOutcomes),
    Route("GET", "/api/skills", list_skills, "Skill coverage: waiting calls vs ready agents", "queues", s.SkillList),
    Route("GET", "/api/calls", list_calls, "Live calls from the call model (by linkedid)", "calls", s.CallList),
    Route("GET", "/api/calls/{linkedid}", get_call, "One live call", "calls", s.Call, errors=(404,)),
    Route("POST", "/api/calls/{linkedid}/spy", post_spy, "Listen, whisper or barge (ChanSpy via Originate)",
          "calls", s.SpyStarted, s.SpyRequest, (400, 404, 409, 503)),
    Route("GET", "/api/announcements", list_announcements, "Hot-topic announcements", "announcements",
          s.AnnouncementList, errors=(503,)),
    Route("POST", "/api/announcements", post_announcement, "Add or replace an announcement", "announcements",
          s.Announcement, s.AnnouncementIn, (400, 503), 201),
    Route("DELETE", "/api/announcements/{announcement_id}", delete_announcement, "Remove an announcement",
          "announcements", None, errors=(404, 503), status=204),
    Route("GET", "/api/callbacks", list_callbacks, "Scheduled callbacks", "callbacks", s.CallbackList,
          errors=(503,)),
    Route("POST", "/api/callbacks", post_callback, "Schedule a callback", "callbacks", s.Callback, s.CallbackIn,
          (400, 503), 201),
    Route("GET", "/api/reminders", list_reminders, "Voice reminders", "reminders", s.ReminderList, errors=(503,)),
    Route("POST", "/api/reminders", post_reminder, "Schedule a voice reminder", "reminders", s.Reminder,
          s.ReminderIn, (400, 503), 201),
    Route("GET", "/api/wallboard", get_wallboard, "The wallboard snapshot (also pushed on /ws/wallboard)",
          "wallboard", s.Wallboard),
    Route("GET", "/api/audit", list_audit, "Recent audited actions, newest first", "audit", s.AuditList,
          errors=(400,), query=(("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}),)),
    Route("GET", "/api/openapi.json", get_openapi, "This document", "session", None),
)

_ERROR_TEXT = {400: "invalid request", 401: "not logged in", 403: "role not allowed (or CSRF token missing)",
               404: "not found", 409: "not possible in the current state",
               429: "too many failed logins for this user or address: wait details.retry_after_s",
               503: "not configured or unavailable"}


def _roles_of(handler: Handler) -> list[str]:
    return sorted(r.value for r in getattr(handler, "hotline_roles", ()))


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of :data:`ROUTES` (plus ``/healthz``)."""
    models: set[type[BaseModel]] = {s.ErrorBody, s.Health}
    for r in ROUTES:
        models |= {m for m in (r.body, r.response) if m is not None}
    components: dict[str, Any] = {}
    for m in sorted(models, key=lambda m: m.__name__):
        inbound = m.__name__.endswith(("In", "Change", "Request"))
        mode: Literal["validation", "serialization"] = "validation" if inbound else "serialization"
        schema = m.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)
        components.update(schema.pop("$defs", {}))
        components[m.__name__] = schema

    def ref(m: type[BaseModel]) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{m.__name__}"}

    err = {"application/json": {"schema": ref(s.ErrorBody)}}
    paths: dict[str, Any] = {
        "/healthz": {"get": {"operationId": "healthz", "summary": "Liveness (no login needed)", "tags": ["ops"],
                             "security": [], "responses": {"200": {"description": "alive",
                                                                   "content": {"application/json": {"schema": ref(
                                                                       s.Health)}}}}}},
    }
    for r in ROUTES:
        op: dict[str, Any] = {
            "operationId": r.handler.__name__,
            "summary": r.summary,
            "tags": [r.tag],
            "description": "Roles: " + ", ".join(_roles_of(r.handler)),
        }
        params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
                  for n in _path_params(r.path)]
        params += [{"name": n, "in": "query", "required": False, "schema": sch} for n, sch in r.query]
        if params:
            op["parameters"] = params
        if r.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(r.body)}}}
        ok_content = {"application/json": {"schema": ref(r.response) if r.response else {"type": "object"}}}
        responses: dict[str, Any] = ({"204": {"description": "done, no content"}} if r.status == 204
                                     else {str(r.status): {"description": "success", "content": ok_content}})
        for code in sorted({401, 403, 429, *r.errors}):
            responses[str(code)] = {"description": _ERROR_TEXT[code], "content": err}
        op["responses"] = responses
        paths.setdefault(r.path, {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "hotline", "version": "1", "description": sl_label("SL2", 20) + " (variant configurable)"},
        "servers": [{"url": "/"}],
        "security": [{"basicAuth": []}, {"cookieAuth": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "basicAuth": {"type": "http", "scheme": "basic"},
                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "hotline_session",
                               "description": "unsafe methods also need the X-CSRF-Token header"},
            },
        },
    }


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]


def add_api_routes(app: web.Application) -> None:
    for r in ROUTES:
        app.router.add_route(r.method, r.path, r.handler, name=r.handler.__name__)


__all__ = ["PRINCIPAL", "ROUTES", "WALL", "add_api_routes", "board", "change_agent_skills", "change_agent_state",
           "openapi_document", "principal", "start_spy"]
