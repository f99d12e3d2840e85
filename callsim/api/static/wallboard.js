// The supervisor wallboard: queues now, today per interval next to the Erlang A
// prediction, agents; refreshed when the event stream says something changed (at most
// once a second), never by polling.
"use strict";
const { api, el, show, alert, fail, treatmentText, recordingText } = callsim;
const $ = id => document.getElementById(id);
const pct = v => (v === null || v === undefined ? "–" : `${Math.round(v * 100)}%`);
const secs = v => (v ? `${Math.round(v)} s` : "–");
const board = { refreshing: false, again: false, monitor: null };

function rows(tbody, list) { $(tbody).querySelector("tbody").replaceChildren(...list); }

async function refresh() {
  if (board.refreshing) { board.again = true; return; }
  board.refreshing = true;
  try {
    const [now, day] = await Promise.all([api("GET", "/v1/stats/realtime"),
                                          api("GET", "/v1/stats/intervals")]);
    $("date").textContent = now.date;
    const predicted = {};  // the day's prediction per queue: offered-weighted intervals
    for (const r of day.intervals) {
      if (!r.predicted || r.predicted.service_level === null) continue;
      const p = predicted[r.queue] || (predicted[r.queue] = { w: 0, sl: 0 });
      p.w += r.offered;
      p.sl += r.offered * r.predicted.service_level;
    }
    rows("queues", now.queues.map(q => {
      const p = predicted[q.queue];
      const a = q.agents;
      return el("tr", {}, el("td", {}, q.queue), el("td", {}, q.waiting),
        el("td", {}, secs(q.longest_wait_s)), el("td", {}, a.ready), el("td", {}, a.ringing),
        el("td", {}, a.talking), el("td", {}, a.wrap_up), el("td", {}, a.paused),
        el("td", {}, q.offered), el("td", {}, q.answered), el("td", {}, q.abandoned),
        el("td", {}, pct(q.service_level)), el("td", {}, p && p.w ? pct(p.sl / p.w) : "–"));
    }));
    const channels = Object.entries(day.channels || {});  // a centre with chats or emails
    show($("channels-card"), channels.length > 0);
    rows("channels", channels.map(([name, c]) => el("tr", {}, el("td", {}, name),
      el("td", {}, c.offered), el("td", {}, c.answered), el("td", {}, pct(c.service_level)),
      el("td", {}, pct(c.abandon_rate)), el("td", {}, c.asa_s === null ? "–" : `${c.asa_s.toFixed(1)} s`),
      el("td", {}, pct(c.occupancy)))));
    const busy = day.intervals.filter(r => r.offered);
    rows("intervals", busy.map(r => el("tr", {}, el("td", {}, r.interval_start), el("td", {}, r.queue),
      el("td", {}, r.offered), el("td", {}, r.answered), el("td", {}, r.abandoned),
      el("td", {}, pct(r.service_level)), el("td", {}, pct(r.predicted && r.predicted.service_level)),
      el("td", {}, pct(r.abandon_rate)), el("td", {}, pct(r.predicted && r.predicted.abandon_rate)),
      el("td", {}, r.agents_staffed))));
    $("chart").replaceChildren(chart(day));
    const calls = await api("GET", "/v1/calls");
    rows("calls", calls.map(c => {
      const watch = el("button", { type: "button", class: "secondary",
                                   "aria-label": `Monitor call ${c.call_id}` }, "monitor");
      watch.addEventListener("click", () => monitor(c.call_id));
      return el("tr", {}, el("td", {}, c.call_id), el("td", {}, c.client || ""),
        el("td", {}, c.queue), el("td", {}, el("span", { class: `badge ${c.status}` }, c.status)),
        el("td", {}, c.agent || ""), el("td", {}, c.ani || "withheld"),
        el("td", {}, recorded(c.recording)), el("td", {}, watch));
    }));
    try {
      const agents = await api("GET", "/v1/agents");
      rows("agents", agents.filter(a => a.state !== "offline").map(a => el("tr", {},
        el("td", {}, a.agent), el("td", {}, el("span", { class: `badge ${a.state}` }, a.state)),
        el("td", {}, secs(a.in_state_s)), el("td", {}, a.call_id || ""))));
      show($("agents-card"), true);
    } catch (err) {
      if (err.status !== 403) throw err;  // a client's key does not see agents
      show($("agents-card"), false);
    }
    alert("");
  } catch (err) {
    fail(err);
  } finally {
    board.refreshing = false;
    if (board.again) { board.again = false; setTimeout(refresh, 1000); }
  }
}

function chart(day) {  // service level per interval, all queues: bars actual, dots predicted
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  const per = {};
  for (const r of day.intervals) {
    const x = per[r.interval_start] || (per[r.interval_start] = { off: 0, within: 0, pw: 0, psl: 0 });
    x.off += r.offered;
    if (r.service_level !== null) x.within += r.service_level * r.offered;
    if (r.predicted && r.predicted.service_level !== null) {
      x.pw += r.offered;
      x.psl += r.predicted.service_level * r.offered;
    }
  }
  const w = 760, h = 150, top = 10;
  const slots = Math.round(24 * 60 / (day.interval_min || 30));  // the whole day
  const step = w / slots;
  const xOf = label => {
    const [hh, mm] = label.split(":").map(Number);
    return ((hh * 60 + mm) / (24 * 60)) * w;
  };
  svg.setAttribute("viewBox", `0 0 ${w} ${h + top + 22}`);
  svg.setAttribute("width", "100%");
  const add = (tag, attrs, text) => {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text) node.textContent = text;
    svg.append(node);
    return node;
  };
  const y = v => top + h - v * h;
  add("line", { x1: 0, x2: w, y1: y(0.8), y2: y(0.8), stroke: "#a15c00",
                "stroke-dasharray": "4 3" });
  add("text", { x: w - 4, y: y(0.8) - 3, "font-size": 10, fill: "#a15c00",
                "text-anchor": "end" }, "80%");
  add("line", { x1: 0, x2: w, y1: y(0), y2: y(0), stroke: "#d5dae3" });
  for (let hour = 0; hour <= 24; hour += 3) {
    const anchor = hour === 0 ? "start" : hour === 24 ? "end" : "middle";
    add("text", { x: (hour / 24) * w, y: top + h + 15, "font-size": 10, fill: "#5b6475",
                  "text-anchor": anchor }, `${String(hour).padStart(2, "0")}:00`);
  }
  for (const [label, x] of Object.entries(per)) {
    if (x.off) {
      const sl = x.within / x.off;
      add("rect", { x: xOf(label) + 1, y: y(sl), width: Math.max(step - 2, 1),
                    height: sl * h, fill: "#1f5fbf" }).append(
        Object.assign(document.createElementNS(NS, "title"),
                      { textContent: `${label}: ${Math.round(sl * 100)}% of ${x.off}` }));
    }
    if (x.pw) add("circle", { cx: xOf(label) + step / 2, cy: y(x.psl / x.pw), r: 3.5,
                              fill: "#fff", stroke: "#a15c00", "stroke-width": 2 });
  }
  add("rect", { x: 4, y: 2, width: 10, height: 8, fill: "#1f5fbf" });
  add("text", { x: 18, y: 10, "font-size": 10, fill: "#1d2330" }, "actual");
  add("circle", { cx: 70, cy: 6, r: 3.5, fill: "#fff", stroke: "#a15c00", "stroke-width": 2 });
  add("text", { x: 78, y: 10, "font-size": 10, fill: "#1d2330" }, "predicted (Erlang A)");
  return svg;
}

function recorded(r) {  // the calls table's recording cell: policy, then the reference
  if (!r) return "";
  if (r.mode === "none") return "off (client policy)";
  return r.reference || "on answer";
}

async function monitor(callId, fresh = true) {  // follow one call: what the agent sees
  try {
    const call = await api("GET", `/v1/calls/${callId}`);
    board.monitor = callId;
    $("monitor-head").textContent = `Call ${call.call_id} · ${call.client || call.queue} · ` +
      `${call.status}${call.agent ? " with " + call.agent : ""} · ${call.ani || "withheld"}`;
    const ins = call.instruction || {};
    $("monitor-greeting").textContent = ins.greeting || "";
    $("monitor-instruction").textContent = treatmentText(ins.treatment);
    $("monitor-recording").textContent = recordingText(ins);
    $("monitor-draft").textContent = call.draft || "(nothing written yet)";
    if (fresh) $("monitor-events").replaceChildren();
    show($("monitor-card"), true);
  } catch (err) { fail(err); }
}

function watched(event) {  // an event of the monitored call
  if (event.call_id !== board.monitor) return;
  if (event.type === "note_draft") {
    $("monitor-draft").textContent = event.text || "(nothing written yet)";
    return;
  }
  const what = [event.type, event.agent, event.outcome, event.to_queue || event.to_agent]
    .filter(Boolean).join(" ");
  $("monitor-events").prepend(el("li", {}, `${event.at_s.toFixed(0)} s: ${what}`));
  monitor(board.monitor, false);  // its state, agent, instruction and recording changed
}

async function open(event) {
  if (event) event.preventDefault();
  if (event) sessionStorage.setItem("callsim.key", $("board-key").value.trim());
  show($("signin"), false);
  ["queues-card", "chart-card", "calls-card"].forEach(id => show($(id), true));
  await refresh();
  follow();
}

async function follow() {  // the event stream: each change schedules one refresh
  for (;;) {
    try {
      $("live").textContent = "live";
      $("live").className = "badge ready";
      await callsim.follow("/v1/events", event => {
        watched(event);
        if (event.type === "note_draft") return;  // typing changes no figure
        if (!board.pending) {
          board.pending = true;
          setTimeout(() => { board.pending = false; refresh(); }, 1000);
        }
      });
    } catch (err) {
      if (err.status === 401 || err.status === 403) {
        fail(err);
        return;
      }
    }
    $("live").textContent = "reconnecting";
    $("live").className = "badge ringing";
    await new Promise(resolve => setTimeout(resolve, 2000));
  }
}

$("signin-form").addEventListener("submit", open);
$("monitor-stop").addEventListener("click", () => {
  board.monitor = null;
  show($("monitor-card"), false);
});
if (callsim.key()) open();
