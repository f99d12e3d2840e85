// The agent desk: sign in, take offers (long poll), read greeting, instruction, screen
// pop, employees and FAQ, write the note, complete, wrap up; hold several chats at once
// and take the emails pushed to the agent. Every rule (who rings, who holds what, what
// the instruction is, the callback-number guard) is the service's; this page shows.
"use strict";
const { api, el, fields, show, alert, fail, treatmentText, recordingText } = callsim;
const $ = id => document.getElementById(id);
const desk = { agent: sessionStorage.getItem("callsim.agent") || "", offer: null, call: null,
               countdown: null, wrapTimer: null, polling: false, queues: [], tones: [],
               lines: [],  // a practice call's conversation
               channels: {},  // queue -> voice, chat or email
               chats: "", ended: new Set(), watch: null };  // chats shown; calls done here
const CALL_CARDS = ["greeting-card", "instruction-card", "pop-card", "note-card",
                    "employees-card", "faq-card", "talk-card"];
const CRITERIA = callsim.criteria;
// a refused field of the completion -> [its input, where its message goes]
const FIELDS = { callback_number: ["callback", "callback-error"], note: ["note", "note-error"],
                 employee: ["employee-choice", "employee-error"],
                 ticket: ["ticket-choice", "ticket-error"] };
const ERRORS = ["note-error", "callback-error", "employee-error", "transfer-error",
                "ticket-error"];
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

async function refreshState() {
  const me = await api("GET", `/v1/agents/${encodeURIComponent(desk.agent)}`);
  const badge = $("state");
  badge.textContent = me.state.replace("_", "-") + (me.reason ? ` (${me.reason})` : "");
  badge.className = "badge " + me.state;
  showChats(me.chat_ids || []);
  if (me.state === "talking" && me.call_id !== null && !desk.call && !desk.offer &&
      !(me.chat_ids || []).includes(me.call_id) && !desk.ended.has(me.call_id)) {
    takePushed(me.call_id);  // an email pushed to the agent (no offer), or a reload
  }
  return me;
}

async function takePushed(callId) {
  desk.call = { call_id: callId };  // held while it loads: taken once
  try { await showCall(await api("GET", `/v1/calls/${callId}`)); }
  catch (err) { desk.call = null; fail(err); }
}

async function showChats(ids) {  // the chats held, each with its own complete button
  const key = ids.join(",");
  if (key === desk.chats) return;
  desk.chats = key;
  show($("chats-card"), ids.length > 0);
  $("chats-title").textContent = ids.length ? `Chats held: ${ids.length}` : "Chats";
  const items = await Promise.all(ids.map(async id => {
    let chat = {};
    try { chat = await api("GET", `/v1/calls/${id}`); } catch (err) { fail(err); }
    const done = el("button", { type: "button", "aria-label": `Complete chat ${id}` },
                    "Complete chat");
    done.addEventListener("click", () => completeChat(id, done));
    return el("li", { id: `chat-${id}` }, el("strong", {}, `Chat ${id}`), " ",
              el("span", { class: "muted" }, [chat.client || chat.queue, chat.ani]
                .filter(Boolean).join(" · ")), " ", done);
  }));
  if (key === desk.chats) $("chats").replaceChildren(...items);
}

async function completeChat(id, button) {
  button.disabled = true;
  try {
    await api("POST", `/v1/calls/${id}/complete`, {});
    desk.ended.add(id);
    alert("");
  } catch (err) { button.disabled = false; fail(err); }
  refreshState().catch(fail);
}

async function signIn(event) {
  event.preventDefault();
  desk.agent = $("agent-id").value.trim();
  sessionStorage.setItem("callsim.agent", desk.agent);
  sessionStorage.setItem("callsim.key", $("agent-key").value.trim());
  try {
    await api("POST", `/v1/agents/${encodeURIComponent(desk.agent)}/login`);
  } catch (err) {
    if (err.status !== 409) { fail(err); return; }  // already logged in: carry on
  }
  alert("");
  startDesk();
}

async function startDesk() {
  show($("signin"), false);
  show($("actions"), true);
  $("who").textContent = desk.agent;
  try {
    await refreshState();
    const queues = await api("GET", "/v1/queues");
    desk.queues = queues.map(q => q.queue);
    desk.channels = Object.fromEntries(queues.map(q => [q.queue, q.channel || "voice"]));
    $("transfer-queues").replaceChildren(...desk.queues.map(q => el("option", { value: q })));
  } catch (err) { fail(err); return; }
  history();
  if (!desk.polling) pollOffers();
  clearInterval(desk.watch);  // chats and emails come without an offer: look every second
  desk.watch = setInterval(() => {
    if (desk.agent && !desk.offer) refreshState().catch(() => {});
  }, 1000);
}

async function pollOffers() {
  desk.polling = true;
  while (desk.agent) {
    if (desk.offer || desk.call) { await sleep(500); continue; }
    try {
      const offers = await api("GET",
        `/v1/agents/${encodeURIComponent(desk.agent)}/offers?wait_s=20`);
      const ringing = offers.find(o => o.result === "ringing");
      if (ringing) showOffer(ringing); else await refreshState();
    } catch (err) {
      fail(err);
      await sleep(2000);
    }
  }
  desk.polling = false;
}

function showOffer(offer) {
  desk.offer = offer;
  const pop = offer.screen_pop || {};
  const who = pop.new_caller === false && pop.contact_name ? `${pop.contact_name} · ` : "";
  $("offer-client").textContent = (offer.client || offer.queue || "") +
    (offer.practice ? " (practice call)" : "") + (offer.callback ? " (callback to dial)" : "");
  $("offer-ani").textContent = who + (offer.ani || "withheld") +
    (pop.category === "vip" ? " · VIP" : "");
  let left = Math.ceil(offer.expires_in_s);
  $("offer-left").textContent = left;
  clearInterval(desk.countdown);
  desk.countdown = setInterval(() => {
    left -= 1;
    $("offer-left").textContent = Math.max(left, 0);
    if (left <= 0) { clearInterval(desk.countdown); hideOffer(); refreshState().catch(fail); }
  }, 1000);
  show($("offer"), true);
  ring(left);
  $("state").textContent = "ringing";
  $("state").className = "badge ringing";
  $("accept").focus();
}

let audio = null;
function ring(seconds) {  // two short tones every two seconds while it rings, if chosen
  if (!$("ring-sound").checked || !window.AudioContext) return;
  audio = audio || new AudioContext();
  for (let t = 0; t < seconds; t += 2) {
    for (const [start, hz] of [[0, 880], [0.25, 660]]) {
      const tone = audio.createOscillator(), gain = audio.createGain();
      tone.frequency.value = hz;
      gain.gain.value = 0.15;
      tone.connect(gain).connect(audio.destination);
      tone.start(audio.currentTime + t + start);
      tone.stop(audio.currentTime + t + start + 0.2);
      desk.tones.push(tone);
    }
  }
}

function hideOffer() {
  desk.tones.forEach(tone => { try { tone.stop(); } catch (err) { /* already ended */ } });
  desk.tones = [];
  clearInterval(desk.countdown);
  desk.offer = null;
  show($("offer"), false);
}

async function accept() {
  if (!desk.offer) return;
  const offer = desk.offer;
  try {
    const call = await api("POST", `/v1/offers/${encodeURIComponent(offer.offer_id)}/accept`);
    hideOffer();
    await showCall(call);
  } catch (err) {
    hideOffer();
    fail(err);
  }
  refreshState().catch(fail);
}

async function reject() {
  if (!desk.offer) return;
  const offer = desk.offer;
  hideOffer();
  try { await api("POST", `/v1/offers/${encodeURIComponent(offer.offer_id)}/reject`); }
  catch (err) { fail(err); }
  refreshState().catch(fail);
}

async function showCall(call) {
  desk.call = call;
  show($("done-card"), false);
  const pop = call.screen_pop || {};
  const ins = call.instruction || {};
  $("greeting").textContent = ins.greeting || pop.greeting || "";
  $("practice").textContent = call.practice
    ? `Practice call: card ${call.practice.card.id}, ${call.practice.card.at.slice(0, 16).replace("T", " ")}`
    : "";
  show($("practice"), Boolean(call.practice));
  const channel = desk.channels[call.queue] || "voice";
  $("channel").textContent = channel === "email" ? `Email from ${call.ani || "withheld"}` : "";
  show($("channel"), channel === "email");
  $("complete-what").textContent = channel === "email" ? "email" : "call";
  desk.lines = [];
  $("talk-lines").replaceChildren();
  $("say-text").value = "";
  if (call.practice) {
    try { showLines(await api("GET", `/v1/calls/${call.call_id}/practice/lines`)); }
    catch (err) { fail(err); }
  }
  const dial = call.callback_s !== null && call.callback_s !== undefined;
  $("callback-call").firstElementChild.textContent =
    `Callback: dial ${call.ani || "the caller"}, then say who you are`;
  show($("callback-call"), dial);
  $("tone").textContent = `tone: ${ins.tone || "formal"}`;
  $("hours").textContent = ins.hours_text ? `Hours: ${ins.hours_text}` : "";
  const box = $("instruction");
  box.replaceChildren(
    el("p", {}, el("strong", {}, treatmentText(ins.treatment))),
    ins.treatment && ins.treatment.info ? el("p", {}, ins.treatment.info) : "",
    ins.in_hours === false ? el("p", { class: "badge problem" }, "Outside opening hours") : "",
    ins.exception ? el("p", { class: "badge problem" }, "A current exception applies") : "",
    ...(ins.messages || []).map(m => el("p", { class: "badge vip" }, m)),
    ins.recording ? el("p", { id: "recording" }, recordingText(ins)) : "",
    ins.recording && ins.recording.announcement
      ? el("p", {}, el("strong", {}, "Say: "), ins.recording.announcement) : "");
  $("pop").replaceChildren(...screenPop(pop));
  ticketChoices(call.tickets || []);
  desk.faq = null;
  ["note", "callback", "employee-choice", "faq-choice", "transfer-to", "ticket-subject",
   "ticket-due"]
    .forEach(id => { $(id).value = ""; });
  ERRORS.forEach(id => { $(id).textContent = ""; });
  CALL_CARDS.forEach(id => show($(id), true));
  show($("talk-card"), Boolean(call.practice));
  $("state").textContent = "talking";
  $("state").className = "badge talking";
  (call.practice ? $("say-text") : $("note")).focus();
  if (call.client) {
    try {
      const card = await api("GET", `/v1/clients/${encodeURIComponent(call.client)}`);
      $("faq").replaceChildren(card.faq ? faqTree(card.faq) : el("p", { class: "muted" }, "No FAQ."));
      $("employee-count").textContent = `${card.employees} employees`;
      searchEmployees();
    } catch (err) { fail(err); }
  }
}

function screenPop(pop) {
  const nodes = [];
  const photo = pop.photo && !pop.photo.startsWith("placeholder")
    ? el("img", { src: pop.photo, alt: `Photo of ${pop.contact_name}`, width: 64 })
    : el("span", { class: "badge", "aria-hidden": "true" }, "no photo");
  nodes.push(el("p", {}, photo, " ", el("strong", {}, pop.client || ""),
                " ", el("span", { class: "muted" }, (pop.at || "").replace("T", " ").slice(0, 16)),
                " ", el("span", { class: "muted" }, pop.direction || "")));
  if (pop.new_caller) {
    nodes.push(fields([["Number", pop.caller_number || "withheld"]]),
               el("p", { class: "muted" }, "New caller: ask for name and company."));
    if (pop.caller_number) nodes.push(attachForm(pop.caller_number));
    return nodes;
  }
  const category = pop.category || "";
  const badge = ["vip", "problem"].includes(category)
    ? el("span", { class: `badge ${category}` }, category.toUpperCase()) : category;
  nodes.push(fields([
    ["Name", pop.contact_name], ["Company", pop.company], ["Number", pop.caller_number],
    ["Category", badge], ["Location", pop.location],
    ["Agent", [pop.agent_name, pop.agent_extension].filter(Boolean).join(" ext. ")],
  ]));
  if (pop.warning) nodes.push(el("p", { class: "badge problem" }, `Warning: ${pop.warning}`));
  if ((pop.orders || []).length) {
    nodes.push(el("h3", {}, "Open orders"), el("ul", { class: "plain" },
      ...pop.orders.map(o => el("li", {}, [o.number, o.stage, o.responsible,
        o.debt ? `debt ${o.debt}` : ""].filter(Boolean).join(" · ")))));
  }
  if ((pop.history || []).length) {
    nodes.push(el("h3", {}, "History"), el("ul", { class: "plain" },
      ...pop.history.slice(0, 5).map(h => el("li", {},
        `${(h.at || "").slice(0, 16).replace("T", " ")} ${h.direction} ${h.agent} ${h.summary}`))));
  }
  return nodes;
}

function attachForm(number) {  // a known caller on a new number: find them, attach it
  const search = el("input", { id: "attach-search", type: "search", autocomplete: "off" });
  const list = el("ul", { id: "attach-list", class: "plain", "aria-live": "polite" });
  let seq = 0;
  search.addEventListener("input", async () => {
    const mine = ++seq;
    const q = search.value.trim();
    if (!q) { list.replaceChildren(); return; }
    try {
      const found = await api("GET", `/v1/contacts?q=${encodeURIComponent(q)}&limit=8`);
      if (mine !== seq) return;
      list.replaceChildren(...found.map(c => {
        const who = [c.name, c.company].filter(Boolean).join(", ");
        const attach = el("button", { type: "button", class: "secondary",
                                      "aria-label": `Attach ${number} to ${who}` },
                          "attach this number");
        attach.addEventListener("click", () => attachNumber(c.contact_id, number));
        return el("li", {}, el("strong", {}, who), " ",
                  el("span", { class: "muted" }, (c.numbers || []).join(", ")), " ", attach);
      }));
      if (!found.length) list.replaceChildren(el("li", { class: "muted" }, "No contact found."));
    } catch (err) { fail(err); }
  });
  return el("div", { class: "attach" },
    el("label", { for: "attach-search" }, "Known caller on a new number? Find them by name"),
    search, list);
}

async function attachNumber(contactId, number) {
  if (!desk.call) return;
  try {
    await api("POST", `/v1/contacts/${contactId}/numbers`, { number });
    const call = await api("GET", `/v1/calls/${desk.call.call_id}`);
    desk.call = call;
    $("pop").replaceChildren(...screenPop(call.screen_pop || {}));
    ticketChoices(call.tickets || []);
    alert("");
  } catch (err) { fail(err); }
}

const STATUS_TEXT = { open: "open", resolved: "resolved", closed: "closed",
                      needs_follow_up: "needs follow-up" };

function ticketChoices(tickets) {  // no ticket, a new one, or one of the caller's open ones
  desk.tickets = tickets;
  $("ticket-choice").replaceChildren(
    el("option", { value: "" }, "No ticket"),
    el("option", { value: "new" }, "Open a new ticket"),
    ...tickets.map(t => el("option", { value: t.ticket_id },
      `Update #${t.ticket_id} ${t.subject} (${STATUS_TEXT[t.status]})`)));
  ticketFields();
}

function ticketFields() {
  const choice = $("ticket-choice").value;
  show($("ticket-new"), choice === "new");
  show($("ticket-update"), choice !== "" && choice !== "new");
  const ticket = (desk.tickets || []).find(t => String(t.ticket_id) === choice);
  if (ticket) {
    $("ticket-status").replaceChildren(...ticket.next.map(s => el("option", { value: s },
                                                                    STATUS_TEXT[s])));
  }
}

function ticketBody() {
  const choice = $("ticket-choice").value;
  if (!choice) return undefined;
  if (choice === "new") return { subject: $("ticket-subject").value.trim() };
  const body = { ticket_id: Number(choice), status: $("ticket-status").value,
                 note: $("note").value.slice(0, 2000) };
  if ($("ticket-due").value) body.follow_up_due = $("ticket-due").value;
  return body;
}

function faqTree(node, top = true, path = []) {  // the top level open, the branches folded
  const body = [];
  if (node.info) body.push(el("p", {}, node.info));
  if (node.treatment) body.push(el("p", {}, el("em", {}, treatmentText(node.treatment))));
  if (!top && !(node.children || []).length) {  // a leaf: the caller's topic, chosen
    const pick = el("button", { type: "button", class: "secondary",
                                "aria-label": `Choose ${path.join(" > ")}` }, "choose");
    pick.addEventListener("click", () => { desk.faq = path; $("faq-choice").value = path.join(" > "); });
    body.push(el("p", {}, pick));
  }
  for (const child of node.children || []) {
    body.push(faqTree(child, false, [...path, child.title]));
  }
  return el("details", { open: top }, el("summary", {}, node.title), ...body);
}

let searchSeq = 0;
async function searchEmployees() {
  if (!desk.call || !desk.call.client) return;
  const seq = ++searchSeq;  // only the latest answer is shown
  const q = $("employee-search").value;
  try {
    const found = await api("GET",
      `/v1/clients/${encodeURIComponent(desk.call.client)}/employees?q=${encodeURIComponent(q)}`);
    if (seq !== searchSeq) return;
    $("employee-list").replaceChildren(...found.map(e => {
      const pick = el("button", { type: "button", class: "secondary" }, "choose");
      pick.addEventListener("click", () => { $("employee-choice").value = e.name; });
      return el("li", {}, el("strong", {}, e.name), " ", el("span", { class: "muted" },
        e.department || ""), " ", pick);
    }));
  } catch (err) { fail(err); }
}

async function complete(event) {
  if (event) event.preventDefault();
  if (!desk.call) return;
  ERRORS.forEach(id => { $(id).textContent = ""; });
  const body = {};
  if ($("note").value.trim()) body.note = $("note").value;
  if ($("callback").value.trim()) body.callback_number = $("callback").value.trim();
  if ($("employee-choice").value.trim()) body.employee = $("employee-choice").value.trim();
  if ($("faq-choice").value.trim() && desk.faq) body.faq = desk.faq;
  body.ticket = ticketBody();
  let done;
  try {
    done = await api("POST", `/v1/calls/${desk.call.call_id}/complete`, body);
  } catch (err) {
    const name = (err.field || "").split(".")[0];  // "ticket.status" is the ticket's
    const [input, box] = FIELDS[name] || [];
    if (input) {
      const message = err.message.startsWith(`${err.field}: `)
        ? err.message.slice(err.field.length + 2) : err.message;
      $(box).textContent = message;
      $(input).setAttribute("aria-invalid", "true");
      $(input).focus();
    } else {
      fail(err);
    }
    return;
  }
  Object.values(FIELDS).forEach(([input]) => $(input).removeAttribute("aria-invalid"));
  const ticket = done.ticket
    ? ` Ticket #${done.ticket.ticket_id}: ${STATUS_TEXT[done.ticket.status]}.` : "";
  const scored = done.practice && done.practice.score;
  $("done").replaceChildren(el("p", {}, `Call ${desk.call.call_id} completed.${ticket}`),
    ...(scored ? gradeNodes(scored) : []));
  show($("done-card"), true);
  endCall();
  alert("");
  wrapUp();
  if (scored) history();
}

function endCall() {
  desk.ended.add(desk.call.call_id);
  desk.call = null;
  CALL_CARDS.forEach(id => show($(id), false));
}

// -- a practice call's caller: the conversation, the caller's voice ----------------------

function showLines(lines) {
  for (const line of lines) {
    desk.lines.push(line);
    const caller = line.who === "caller";
    const play = caller ? el("button", { type: "button", class: "secondary",
                                         "aria-label": `Play line ${line.line}` }, "play") : "";
    if (play) play.addEventListener("click", () => playLine(line.line));
    const words = el("span", { class: caller ? "words" : "" }, ` ${line.text} `);
    show(words, !caller || $("caller-words").checked);
    $("talk-lines").append(el("li", { class: line.who },
      el("strong", {}, caller ? "Caller:" : "You:"), words, play));
  }
}

let voice = null;
async function playLine(n) {  // the caller's line as speech (fetched with the key)
  if (!desk.call) return;
  try {
    const response = await fetch(`/v1/calls/${desk.call.call_id}/practice/audio?line=${n}`,
                                 { headers: { Authorization: "Bearer " + callsim.key() } });
    if (!response.ok) throw { status: response.status, message: (await response.json()).message };
    if (voice) voice.pause();
    voice = new Audio(URL.createObjectURL(await response.blob()));
    desk.played = n;
    await voice.play().catch(() => {});  // a browser that may not play yet: the button can
  } catch (err) { fail(err); }
}

async function say(text) {
  if (!desk.call || !text.trim()) return;
  try {
    const lines = await api("POST", `/v1/calls/${desk.call.call_id}/practice/say`, { text });
    showLines(lines);
    $("say-text").value = "";
    const reply = lines.filter(l => l.who === "caller").pop();
    if (reply && $("caller-voice").checked) playLine(reply.line);
  } catch (err) { fail(err); }
}

function gradeNodes(g) {  // a rubric's grade: each criterion, its weight, why when wrong
  const verdict = g.passed ? "passed"
    : g.compliance_failed.length ? `failed (compliance: ${g.compliance_failed
        .map(c => CRITERIA[c] || c).join(", ")})` : "failed (under the pass mark)";
  return [
    el("p", { role: "status" }, `Practice score: ${Math.round(100 * g.score)}% ` +
       `(pass mark ${Math.round(100 * g.pass_mark)}%): ${verdict}`),
    el("ul", { class: "plain" }, ...Object.entries(g.parts).map(([name, p]) =>
      el("li", {}, `${p.ok ? "right" : "wrong"}: ${CRITERIA[name] || name}`,
         el("span", { class: "muted" }, ` (weight ${p.weight}${p.compliance ? ", compliance" : ""})`),
         p.ok ? "" : ` ${p.why}`))),
  ];
}

async function history() {  // the trainee's scored practice calls, newest first
  try {
    const rows = await api("GET", "/v1/practice/results");
    show($("history-card"), rows.length > 0);
    $("history").tBodies[0].replaceChildren(...rows.slice(-20).reverse().map(r => el("tr", {},
      el("td", {}, r.call_id), el("td", {}, r.client), el("td", {}, `${Math.round(100 * r.score)}%`),
      el("td", {}, r.passed ? "passed" : "failed"),
      el("td", { class: "why" }, Object.entries(r.parts).filter(([, p]) => !p.ok)
        .map(([name, p]) => `${CRITERIA[name] || name}: ${p.why}`).join(" ") || "none"))));
  } catch (err) { fail(err); }
}

async function noAnswer() {  // a callback the caller did not pick up
  if (!desk.call) return;
  try { await api("POST", `/v1/calls/${desk.call.call_id}/callback-unanswered`); }
  catch (err) { fail(err); return; }
  $("done").replaceChildren(el("p", {}, `Callback ${desk.call.call_id}: nobody answered.`));
  show($("done-card"), true);
  endCall();
  alert("");
  wrapUp();
}

async function transfer(event) {
  event.preventDefault();
  if (!desk.call) return;
  const to = $("transfer-to").value.trim();
  $("transfer-error").textContent = "";
  if (!to) { $("transfer-error").textContent = "Name a queue or an agent."; return; }
  const body = desk.queues.includes(to) ? { queue: to } : { agent: to };
  try {
    await api("POST", `/v1/calls/${desk.call.call_id}/transfer`, body);
  } catch (err) {
    $("transfer-error").textContent = err.message;
    return;
  }
  $("done").replaceChildren(el("p", {}, `Call ${desk.call.call_id} transferred to ${to}.`));
  show($("done-card"), true);
  endCall();
  wrapUp();
}

async function wrapUp() {
  show($("wrap-card"), true);
  clearInterval(desk.wrapTimer);
  const tick = async () => {
    try {
      const me = await refreshState();
      if (me.state !== "wrap_up") {
        clearInterval(desk.wrapTimer);
        show($("wrap-card"), false);
        return;
      }
      $("wrap-text").textContent = me.wrap_up_left_s === null
        ? `Wrap-up for ${Math.round(me.in_state_s || 0)} s: press Ready when you are done.`
        : `Wrap-up ends in ${Math.ceil(me.wrap_up_left_s)} s (Ready ends it now).`;
    } catch (err) { clearInterval(desk.wrapTimer); fail(err); }
  };
  await tick();
  desk.wrapTimer = setInterval(tick, 1000);
}

async function agentAction(action, body) {
  try {
    await api("POST", `/v1/agents/${encodeURIComponent(desk.agent)}/${action}`, body);
    alert("");
    const me = await refreshState();
    if (me.state !== "wrap_up") { clearInterval(desk.wrapTimer); show($("wrap-card"), false); }
  } catch (err) { fail(err); }
}

async function logout() {
  await agentAction("logout");
  desk.agent = "";
  clearInterval(desk.watch);
  sessionStorage.removeItem("callsim.agent");
  sessionStorage.removeItem("callsim.key");
  show($("actions"), false);
  show($("signin"), true);
  $("who").textContent = "";
}

$("signin-form").addEventListener("submit", signIn);
$("accept").addEventListener("click", accept);
$("reject").addEventListener("click", reject);
$("note-form").addEventListener("submit", complete);
$("transfer-form").addEventListener("submit", transfer);
$("no-answer").addEventListener("click", noAnswer);
$("ready").addEventListener("click", () => agentAction("ready"));
$("pause").addEventListener("click", () => agentAction("pause", { reason: $("pause-reason").value }));
$("logout").addEventListener("click", logout);
$("employee-search").addEventListener("input", searchEmployees);
$("ticket-choice").addEventListener("change", ticketFields);
$("say-form").addEventListener("submit", event => { event.preventDefault(); say($("say-text").value); });
document.querySelectorAll("#ask-buttons [data-ask]").forEach(button =>
  button.addEventListener("click", () => say(button.dataset.ask)));
$("play-caller").addEventListener("click", () => {
  const last = desk.lines.filter(l => l.who === "caller").pop();
  if (last) playLine(last.line);
});
$("caller-words").addEventListener("change", () =>
  document.querySelectorAll("#talk-lines .words").forEach(w => show(w, $("caller-words").checked)));
let draftTimer = null;  // the note as it is written, for a supervisor monitoring the call
$("note").addEventListener("input", () => {
  clearTimeout(draftTimer);
  draftTimer = setTimeout(() => {
    if (desk.call) {
      api("PUT", `/v1/calls/${desk.call.call_id}/draft`, { text: $("note").value }).catch(() => {});
    }
  }, 700);
});
document.addEventListener("keydown", event => {
  if (!event.altKey) return;
  const key = event.key.toLowerCase();
  if (key === "a") { event.preventDefault(); accept(); }
  if (key === "c") { event.preventDefault(); complete(); }
  if (key === "r") { event.preventDefault(); agentAction("ready"); }
});
if (desk.agent && callsim.key()) startDesk();
