// The trainer's page: the class's progress over sessions from the service's scored
// practice calls (GET /v1/practice/class); every number is the service's, this page shows.
"use strict";
const { api, el, show, alert, fail } = callsim;
const $ = id => document.getElementById(id);
const pct = x => `${Math.round(100 * x)}%`;
const name = c => callsim.criteria[c] || c;
let timer = null;

function table(head, rows, cls = "board") {
  return el("div", { class: "scroll" }, el("table", { class: cls },
    el("thead", {}, el("tr", {}, ...head.map(h => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...rows.map(r => el("tr", {}, ...r.map(c => el("td", {}, c)))))));
}

function trainee(who, t, criteria) {
  const sessions = table(["session", "calls", "score", "passed", ...criteria.map(name)],
    t.sessions.map(s => [s.session, s.calls, pct(s.score), `${s.passed} of ${s.calls}`,
      ...criteria.map(c => c in s.criteria ? pct(s.criteria[c]) : "")]));
  const clients = table(["client", "score"],
    Object.entries(t.clients).map(([c, v]) => [c, pct(v)]));
  const weakest = t.weakest.length
    ? el("ul", { class: "plain" }, ...t.weakest.map(w => el("li", {}, `${pct(w.score)} ${w.branch}`)))
    : el("p", { class: "muted" }, "No branch under 100%.");
  const next = t.next.length
    ? el("ol", {}, ...t.next.map(n => el("li", {}, `${n.client}: ${n.branch} `,
        el("span", { class: "muted" }, `(${n.why})`))))
    : el("p", { class: "muted" }, "Nothing due: every branch passed recently.");
  return el("section", { class: "card wide trainee", "data-trainee": who },
    el("h2", {}, who),
    el("p", {}, `${t.calls} calls, mean score ${pct(t.score)}, ${t.passed} passed`),
    el("h3", {}, "Sessions"), sessions,
    el("h3", {}, "Per client"), clients,
    el("h3", {}, "Weakest branches"), weakest,
    el("h3", {}, "Next set (spaced repetition)"), next);
}

async function load() {
  let data;
  try { data = await api("GET", "/v1/practice/class"); }
  catch (err) { fail(err); return; }
  alert("");
  const criteria = Object.keys(data.criteria).sort((a, b) => data.criteria[a] - data.criteria[b]);
  $("summary").textContent = `${Object.keys(data.trainees).length} trainees, ${data.calls} calls`;
  $("class-summary").textContent = data.calls
    ? `Mean score ${pct(data.score)} over ${Object.keys(data.sessions).length} session(s).`
    : "No scored practice calls yet: push a set (callsim practice push) and let the trainees take it.";
  const grid = $("class-criteria");
  grid.tHead.replaceChildren(el("tr", {}, el("th", { scope: "col" }, "trainee"),
    ...criteria.map(c => el("th", { scope: "col" }, name(c)))));
  grid.tBodies[0].replaceChildren(
    el("tr", {}, el("th", { scope: "row" }, "class"), ...criteria.map(c => el("td", {}, pct(data.criteria[c])))),
    ...Object.entries(data.trainees).map(([who, t]) => el("tr", {}, el("th", { scope: "row" }, who),
      ...criteria.map(c => el("td", {}, c in t.criteria ? pct(t.criteria[c]) : "")))));
  $("trainees").replaceChildren(...Object.entries(data.trainees).map(([who, t]) =>
    trainee(who, t, criteria)));
}

function open(event) {
  if (event) {
    event.preventDefault();
    sessionStorage.setItem("callsim.key", $("trainer-key").value.trim());
  }
  show($("signin"), false);
  show($("class-card"), true);
  show($("refresh"), true);
  load();
  clearInterval(timer);
  timer = setInterval(load, 15000);
}

$("signin-form").addEventListener("submit", open);
$("refresh").addEventListener("click", load);
if (callsim.key()) open();
