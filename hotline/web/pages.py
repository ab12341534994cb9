"""HTML pages: login, home, supervisor console (forms with CSRF tokens), wallboard shell.

Pages are small server-rendered HTML (``html.escape`` on every value); the wallboard's page is a
shell whose script (``static/wallboard.js``) renders the snapshots pushed on ``/ws/wallboard``.
Supervisor forms post to ``/supervisor/...`` and are redirected back (303) with a flash message.
"""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import quote

from aiohttp import web
from aiohttp_session import get_session

from hotline.web import schemas as s
from hotline.web.api import change_agent_skills, change_agent_state, deps, principal, start_spy
from hotline.web.auth import ALL, FLOOR, WALL, anonymous_csrf, check_csrf, public, requires, start_session
from hotline.web.deps import HUB
from hotline.web.errors import InvalidRequest, TooManyAttempts, WebError
from hotline.web.loginguard import safe_next

STATIC = Path(__file__).resolve().parent / "static"
_STYLE = """<style>
body{background:#0d1117;color:#e6edf3;font:16px/1.4 system-ui,"Noto Sans CJK SC",sans-serif;margin:0;padding:24px}
a{color:#58a6ff}input,select,button{font:inherit;background:#161b22;color:#e6edf3;border:1px solid #30363d;
border-radius:6px;padding:4px 8px}button{cursor:pointer}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #30363d;padding:6px 8px;text-align:left}.flash{background:#1f6feb33;padding:8px;
border-radius:6px}.err{background:#f8514933}.card{max-width:360px;margin:10vh auto;background:#161b22;padding:24px;
border-radius:12px}form.inline{display:inline}
</style>"""


def page(title: str, body: str, csrf: str | None = None) -> web.Response:
    meta = f'<meta name="csrf-token" content="{html.escape(csrf)}">' if csrf else ""
    return web.Response(text=f"<!doctype html><html lang=zh><head><meta charset=utf-8><title>{html.escape(title)}"
                             f"</title>{meta}{_STYLE}</head><body>{body}</body></html>", content_type="text/html")


@public
async def healthz(request: web.Request) -> web.Response:
    d = deps(request)
    return web.json_response(s.Health(status="ok", ami_connected=bool(d.ami and d.ami.connected)).model_dump())


@public
async def login_page(request: web.Request) -> web.Response:
    token = await anonymous_csrf(request)
    nxt = html.escape(safe_next(request.query.get("next")))
    error = '<p class="flash err">wrong user name or password</p>' if request.query.get("failed") else ""
    if request.query.get("wait", "").isdigit():
        error = f'<p class="flash err">too many failed logins: try again in {int(request.query["wait"])} s</p>'
    return page("hotline login", f"""<div class=card><h1>hotline 12345</h1>{error}
<form method=post action="/login"><input type=hidden name=csrf_token value="{html.escape(token)}">
<input type=hidden name=next value="{nxt}"><p><input name=username placeholder="user" autocomplete=username required>
</p><p><input name=password type=password placeholder="password" autocomplete=current-password required></p>
<p><button type=submit>log in</button></p></form></div>""")


@public
async def login_submit(request: web.Request) -> web.Response:
    d = deps(request)
    session = await get_session(request)
    await check_csrf(request, session.get("csrf"))
    form = await request.post()
    name, password = str(form.get("username", "")), str(form.get("password", ""))
    nxt = safe_next(str(form.get("next", "/")))
    try:
        user = await d.auth.check_password(name, password, request.remote)
    except TooManyAttempts as exc:
        raise web.HTTPSeeOther(f"/login?wait={int(exc.details.get('retry_after_s', 1))}&next={quote(nxt)}") from None
    if user is None:
        raise web.HTTPSeeOther(f"/login?failed=1&next={quote(nxt)}")
    await start_session(request, user, d.clock())
    raise web.HTTPSeeOther(nxt)


@requires(ALL)
async def logout(request: web.Request) -> web.Response:
    (await get_session(request)).invalidate()
    raise web.HTTPSeeOther("/login")


@requires(ALL)
async def home(request: web.Request) -> web.Response:
    p = principal(request)
    links = ['<li><a href="/api/openapi.json">API (OpenAPI 3.1)</a></li>']
    if p.role in WALL:
        links.insert(0, '<li><a href="/wallboard">wallboard</a></li>')
    if p.role in FLOOR:
        links.insert(1, '<li><a href="/supervisor">supervisor console</a></li>')
    return page("hotline", f"""<h1>hotline</h1><p>{html.escape(p.name)} ({html.escape(p.role.value)})</p>
<ul>{''.join(links)}</ul><form method=post action="/logout"><input type=hidden name=csrf_token
value="{html.escape(p.csrf or '')}"><button>log out</button></form>""", p.csrf)


@requires(WALL)
async def wallboard_page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "wallboard.html", headers={"Cache-Control": "no-store"})


@requires(WALL)
async def wallboard_ws(request: web.Request) -> web.StreamResponse:
    ws = web.WebSocketResponse(heartbeat=20.0)
    await ws.prepare(request)
    await request.config_dict[HUB].serve(ws)
    return ws


@requires(ALL)
async def static_file(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = (STATIC / name).resolve()
    if path.parent != STATIC or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Cache-Control": "max-age=3600"})


def _flash(message: str, error: bool = False) -> str:
    return f"/supervisor?{'error' if error else 'ok'}={quote(message)}"


@requires(FLOOR)
async def supervisor_page(request: web.Request) -> web.Response:
    d, p = deps(request), principal(request)
    now = d.clock()
    tok = html.escape(p.csrf or "")
    hidden = f'<input type=hidden name=csrf_token value="{tok}">'
    flash = ""
    if request.query.get("ok"):
        flash = f'<p class=flash id=flash>{html.escape(request.query["ok"])}</p>'
    elif request.query.get("error"):
        flash = f'<p class="flash err" id=flash>{html.escape(request.query["error"])}</p>'
    rows = []
    for a in d.floor.agents():
        if a.status.value == "logged_out" and request.query.get("all") != "1":
            continue
        aid = html.escape(a.agent_id)
        skills = html.escape(",".join(f"{k}:{v}" for k, v in sorted(a.skills.items())))
        rows.append(f"""<tr id="agent-{aid}"><td>{aid}</td><td>{html.escape(a.status.value)}</td>
<td>{html.escape(a.reason or '')}</td><td>{max(0, int(now - a.since_at))} s</td><td>
<form class=inline method=post action="/supervisor/agents/{aid}">{hidden}<input type=hidden name=action value=pause>
<input name=reason placeholder=reason size=10 required><button>pause</button></form>
<form class=inline method=post action="/supervisor/agents/{aid}">{hidden}<input type=hidden name=action value=ready>
<button>ready</button></form>
<form class=inline method=post action="/supervisor/agents/{aid}">{hidden}<input type=hidden name=action value=logout>
<input name=reason placeholder=reason size=8><button>log out</button></form></td><td>
<form class=inline method=post action="/supervisor/agents/{aid}/skills">{hidden}
<input name=skills value="{skills}" size=28><button>set skills</button></form></td></tr>""")
    calls = []
    for c in (d.calls.active_calls() if d.calls is not None else []):
        lid = html.escape(c.linkedid)
        legs = html.escape(", ".join(leg.channel for leg in c.active_legs))
        buttons = "".join(f'<button name=mode value={m}>{m}</button>' for m in ("listen", "whisper", "barge"))
        calls.append(f'<tr><td>{lid}</td><td>{legs}</td><td>{int(now - c.started_at)} s</td><td><form class=inline '
                     f'method=post action="/supervisor/calls/{lid}/spy">{hidden}{buttons}</form></td></tr>')
    return page("hotline supervisor", f"""<h1>supervisor console</h1>{flash}
<p><a href="/wallboard">wallboard</a> · <a href="/supervisor?all=1">show logged-out agents</a> ·
<form class=inline method=post action="/supervisor/agents/login">{hidden}<input name=agent_id placeholder="agent id"
size=6 required><button>log an agent in</button></form></p>
<h2>agents</h2><table><tr><th>agent</th><th>state</th><th>reason</th><th>in state</th><th>actions</th><th>skills</th>
</tr>{''.join(rows)}</table><h2>calls</h2><table><tr><th>linkedid</th><th>legs</th><th>duration</th><th>supervise</th>
</tr>{''.join(calls)}</table>""", p.csrf)


async def _form(request: web.Request) -> dict[str, str]:
    return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}


@requires(FLOOR)
async def supervisor_agent_action(request: web.Request) -> web.Response:
    form = await _form(request)
    agent_id = request.match_info["agent_id"]
    if agent_id == "login":
        agent_id, form["action"] = form.get("agent_id", ""), "login"
    try:
        change = s.AgentStateChange.model_validate({"action": form.get("action"), "reason": form.get("reason") or None})
        row = await change_agent_state(request, agent_id, change)
    except WebError as exc:
        raise web.HTTPSeeOther(_flash(f"agent {agent_id}: {exc.message}", True)) from None
    except ValueError as exc:
        raise web.HTTPSeeOther(_flash(f"agent {agent_id}: {exc}", True)) from None
    raise web.HTTPSeeOther(_flash(f"agent {agent_id}: {row.status.value} {row.reason or ''}".strip()))


def parse_skills(text: str) -> dict[str, int]:
    """``"commerce:3, general:2"`` -> ``{"commerce": 3, "general": 2}``.

    Raises:
        InvalidRequest: an item is not ``name:level``.
    """
    out: dict[str, int] = {}
    for item in (x.strip() for x in text.split(",")):
        if not item:
            continue
        name, _, level = item.partition(":")
        if not name.strip() or not level.strip().isdigit():
            raise InvalidRequest(f"skills are name:level separated by commas, got {item!r}")
        out[name.strip()] = int(level)
    return out


@requires(FLOOR)
async def supervisor_skills_action(request: web.Request) -> web.Response:
    form = await _form(request)
    agent_id = request.match_info["agent_id"]
    try:
        row = await change_agent_skills(request, agent_id, parse_skills(form.get("skills", "")))
    except WebError as exc:
        raise web.HTTPSeeOther(_flash(f"agent {agent_id}: {exc.message}", True)) from None
    raise web.HTTPSeeOther(_flash(f"agent {agent_id}: skills {dict(row.skills)}"))


@requires(FLOOR)
async def supervisor_spy_action(request: web.Request) -> web.Response:
    form = await _form(request)
    linkedid = request.match_info["linkedid"]
    mode = form.get("mode", "")
    if mode not in ("listen", "whisper", "barge"):
        raise web.HTTPSeeOther(_flash(f"unknown mode {mode!r}", True))
    try:
        started = await start_spy(request, linkedid, mode, form.get("agent_id") or None)
    except WebError as exc:
        raise web.HTTPSeeOther(_flash(f"call {linkedid}: {exc.message}", True)) from None
    raise web.HTTPSeeOther(_flash(f"{mode}: ringing seat {started.supervisor_seat} into {started.agent_channel}"))


def add_page_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/healthz", healthz)
    r.add_get("/login", login_page)
    r.add_post("/login", login_submit)
    r.add_post("/logout", logout)
    r.add_get("/", home)
    r.add_get("/wallboard", wallboard_page)
    r.add_get("/ws/wallboard", wallboard_ws)
    r.add_get("/static/{name}", static_file)
    r.add_get("/supervisor", supervisor_page)
    r.add_post("/supervisor/agents/{agent_id}", supervisor_agent_action)
    r.add_post("/supervisor/agents/{agent_id}/skills", supervisor_skills_action)
    r.add_post("/supervisor/calls/{linkedid}/spy", supervisor_spy_action)


__all__ = ["add_page_routes", "page", "parse_skills"]
