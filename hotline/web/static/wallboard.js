// hotline wallboard: renders the snapshots pushed on /ws/wallboard (see web/wallboard.py for the numbers).
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  const pct = (r) => (r === null || r === undefined ? "–" : Math.round(r * 100) + "%");
  const secs = (s) => {
    if (s === null || s === undefined) return "–";
    s = Math.max(0, Math.round(s));
    if (s < 60) return s + "s";
    const m = Math.floor(s / 60), h = Math.floor(m / 60);
    return h ? `${h}:${String(m % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}` : `${m}:${String(s % 60).padStart(2, "0")}`;
  };
  let board = null, offset = 0, chartKey = "", callsChart = null, erlangChart = null;
  const serverNow = () => Date.now() / 1000 + offset;

  function setTile(id, text, cls) {
    const el = $(id);
    el.textContent = text;
    if (cls !== undefined) el.parentElement.className = "tile " + cls;
  }

  function renderTotals(b) {
    const t = b.totals;
    setTile("total-waiting", t.waiting);
    setTile("total-offered", t.offered);
    setTile("total-answered", t.answered);
    setTile("total-abandoned", t.abandoned);
    setTile("total-abandon-rate", pct(t.abandon_ratio));
    setTile("total-asa", secs(t.asa_s));
    setTile("total-aht", secs(t.aht_s));
    setTile("total-sl", pct(t.sl_ratio), "sl " + (t.sl_ratio === null ? "" : t.sl_below_target ? "bad" : "good"));
    $("sl-k").textContent = `service level ${b.variant} · target ${Math.round(b.target_ratio * 100)}%`;
    $("sl-label").textContent = b.sl_label;
  }

  function renderOutcomes(b) {
    const c = b.calls;
    if (!c) return;
    const set = (id, v) => { $(id).textContent = v; };
    set("calls-offered-hotline", c.offered_hotline); set("calls-reached-ivr", c.reached_ivr);
    set("calls-in-ivr", c.in_ivr); set("calls-abandoned-ivr", c.abandoned_ivr); set("calls-self-served", c.self_served);
    set("calls-failed", c.failed); set("calls-direct", c.direct); set("calls-offered-queue", c.offered_queue);
    set("calls-answered", c.answered);
    set("calls-abandoned-queue", `${c.abandoned_queue} (${c.abandoned_queue_short} short)`);
    set("calls-callbacks", c.callbacks); set("calls-transferred", c.transferred); set("calls-voicemail", c.voicemail);
    set("calls-waiting", c.waiting);
    const tally = (rows) => rows.map((r) => `<li data-key="${esc(r.key)}"><span>${esc(r.key)}</span><b>${r.calls}</b></li>`)
      .join("") || `<li class="muted">none</li>`;
    $("calls-ivr-nodes").innerHTML = tally(c.abandoned_ivr_by_node);
    $("calls-failed-reasons").innerHTML = tally(c.failed_by_reason);
  }

  function renderQueues(b) {
    $("queues").tBodies[0].innerHTML = b.queues.map((q) => `<tr data-queue="${esc(q.name)}">
      <td>${esc(q.name)}</td><td class="waiting ${q.waiting ? "hot" : ""}">${q.waiting}</td>
      <td class="longest" data-longest="${q.longest_wait_s}">${q.waiting ? secs(q.longest_wait_s) : "–"}</td>
      <td>${q.offered}</td><td>${q.answered}</td><td>${q.abandoned}</td>
      <td class="${q.sl_ratio === null ? "" : q.sl_below_target ? "bad" : "good"}">${pct(q.sl_ratio)}</td>
      <td>${secs(q.asa_s)}</td><td>${secs(q.aht_s)}</td><td>${pct(q.abandon_ratio)}</td></tr>`).join("");
  }

  function renderAgents(b) {
    const c = b.agent_counts;
    $("agent-counts").innerHTML = ["ready", "on_call", "reserved", "wrap_up", "not_ready"]
      .map((s) => `<b class="${s}">${s.replace("_", " ")} ${c[s] || 0}</b>`).join("");
    const order = {ready: 0, reserved: 1, on_call: 2, wrap_up: 3, not_ready: 4};
    const rows = [...b.agents].sort((a, z) => (order[a.status] - order[z.status]) || a.agent_id.localeCompare(z.agent_id));
    $("agents").innerHTML = rows.map((a) => `<div class="agent ${a.status}" id="agent-${esc(a.agent_id)}"
      data-since="${a.since_at}" data-status="${a.status}"><div class="id">${esc(a.agent_id)}</div>
      <div class="state">${esc(a.status.replace("_", " "))}</div>
      ${a.reason ? `<div class="reason" title="${esc(a.reason)}">${esc(a.reason)}</div>` : ""}
      <div class="t">${secs(a.time_in_state_s)}</div></div>`).join("") || `<div class="muted">nobody logged in</div>`;
  }

  function renderSkills(b) {
    const max = Math.max(1, ...b.skills.map((s) => Math.max(s.waiting, s.ready)));
    $("skills").innerHTML = b.skills.map((s) => `<div class="skill ${s.waiting > s.ready ? "short" : ""}"
      data-skill="${esc(s.skill)}"><span class="name">${esc(s.skill)}</span>
      <div class="bar"><i style="width:${(100 * s.ready) / max}%"></i><b style="width:${(100 * s.waiting) / max}%"></b></div>
      <span>${s.waiting} / ${s.ready}</span></div>`).join("");
  }

  function renderSla(b) {
    if (!b.sla.configured) { $("sla").innerHTML = `<span class="muted">no ticketing provider wired</span>`; return; }
    $("sla").innerHTML = b.sla.cards.map((c) => `<div class="card ${esc(c.level)}"><b>${esc(c.ticket)}</b> ${esc(c.queue)}
      <div>${esc(c.title)}</div><div class="muted">due ${new Date(c.due_at * 1000).toLocaleTimeString()}</div></div>`).join("")
      || `<span class="muted">no work order near its due time</span>`;
  }

  function renderCharts(b) {
    if (typeof Chart === "undefined") return;
    const key = JSON.stringify(b.intervals) + b.target_ratio;
    if (key === chartKey) return;
    chartKey = key;
    const rows = b.intervals;
    const labels = rows.map((r) => r.label);
    Chart.defaults.color = "#8b9bb0";
    Chart.defaults.borderColor = "#223041";
    const callsData = {
      labels,
      datasets: [
        {type: "bar", label: "answered", data: rows.map((r) => r.answered), backgroundColor: "#2ecc71", stack: "c"},
        {type: "bar", label: "abandoned", data: rows.map((r) => r.abandoned), backgroundColor: "#ff4d4f", stack: "c"},
        {type: "line", label: "SL %", data: rows.map((r) => (r.sl_ratio === null ? null : r.sl_ratio * 100)),
          borderColor: "#4da3ff", yAxisID: "sl", spanGaps: true, pointRadius: 0},
        {type: "line", label: "target", data: rows.map(() => b.target_ratio * 100), borderColor: "#f5b041",
          borderDash: [6, 4], yAxisID: "sl", pointRadius: 0},
      ],
    };
    const erlangData = {
      labels,
      datasets: [
        {label: "needed", data: rows.map((r) => r.agents_needed), borderColor: "#b48cff", stepped: true, pointRadius: 0},
        {label: "logged in", data: rows.map((r) => r.agents_logged_in), borderColor: "#2ecc71", stepped: true, pointRadius: 0},
      ],
    };
    const opts = {animation: false, maintainAspectRatio: false, plugins: {legend: {position: "bottom"}}};
    if (!callsChart) {
      callsChart = new Chart($("chart-calls"), {data: callsData, options: {...opts, scales: {
        x: {stacked: true, ticks: {maxTicksLimit: 12}}, y: {stacked: true, beginAtZero: true},
        sl: {position: "right", min: 0, max: 100, grid: {drawOnChartArea: false}}}}});
      erlangChart = new Chart($("chart-erlang"), {type: "line", data: erlangData, options: {...opts, scales: {
        x: {ticks: {maxTicksLimit: 12}}, y: {beginAtZero: true}}}});
    } else {
      callsChart.data = callsData; callsChart.update("none");
      erlangChart.data = erlangData; erlangChart.update("none");
    }
  }

  function render(b) {
    board = b;
    offset = b.now - Date.now() / 1000;
    renderTotals(b); renderOutcomes(b); renderQueues(b); renderAgents(b); renderSkills(b); renderSla(b); renderCharts(b);
    document.body.dataset.frames = String(Number(document.body.dataset.frames || 0) + 1);
  }

  function tick() {
    const now = serverNow();
    $("clock").textContent = new Date(now * 1000).toLocaleTimeString("zh-CN", {hour12: false});
    if (!board) return;
    for (const el of document.querySelectorAll(".agent")) {
      const t = now - Number(el.dataset.since);
      el.querySelector(".t").textContent = secs(t);
      el.classList.toggle("long", el.dataset.status === "not_ready" && t > 900);
    }
  }

  let delay = 500;
  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/wallboard");
    ws.onopen = () => { $("conn").textContent = "live"; $("conn").className = "conn on"; delay = 500; };
    ws.onmessage = (ev) => render(JSON.parse(ev.data));
    ws.onclose = () => {
      $("conn").textContent = "reconnecting"; $("conn").className = "conn off";
      setTimeout(connect, delay); delay = Math.min(delay * 2, 10000);
    };
  }
  setInterval(tick, 1000);
  connect();
})();
