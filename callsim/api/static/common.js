// callsim pages: the API key lives in this tab's sessionStorage; every text from the
// service is set with textContent (never as HTML), so a caller's name cannot inject markup.
"use strict";

const callsim = {
  key: () => sessionStorage.getItem("callsim.key") || "",

  async api(method, path, body) {
    const init = { method, headers: { Authorization: "Bearer " + callsim.key() } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (err) {
      throw { status: 0, error: "NetworkError", field: null, message: "the service does not answer" };
    }
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (err) { data = { message: text }; }
    if (!response.ok) {
      throw { status: response.status, error: (data && data.error) || "Error",
              field: data && data.field, message: (data && data.message) || response.statusText };
    }
    return data;
  },

  // an element with children: el("li", {class: "x"}, "text", otherElement)
  el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child === null || child === undefined || child === "") continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  },

  fields(pairs) {  // a <dl> of the pairs whose value is not empty
    const dl = callsim.el("dl", { class: "fields" });
    for (const [name, value] of pairs) {
      if (value === null || value === undefined || value === "" ||
          (Array.isArray(value) && !value.length)) continue;
      dl.append(callsim.el("dt", {}, name), callsim.el("dd", {}, value));
    }
    return dl;
  },

  treatmentText(t) {  // what the agent does with the call, in words
    if (!t) return "";
    if (t.kind === "forward") {
      const steps = (t.targets || []).map((n, i) => `target ${i + 1}: ${n}`);
      return `Forward: ${steps.join(", then ")}, then take a note`;
    }
    return { note: "Take a standard note", voicemail: "Send to voicemail",
             message: "Play the message" }[t.kind] || t.kind;
  },

  recordingText(ins) {  // the client's recording policy and this call's reference
    const r = ins && ins.recording;
    if (!r) return "";
    if (r.mode === "none") return "Not recorded: the client forbids recording";
    const kept = r.retention_days ? `, kept ${r.retention_days} days` : "";
    return ins.recording_ref ? `Recorded as ${ins.recording_ref}${kept}`
                             : `Every call is recorded${kept}`;
  },

  // a practice rubric's criterion in words
  criteria: { greeting: "greeting", identification: "identification", treatment: "treatment",
              forward_order: "forward order", note_fields: "note",
              callback_guard: "callback number", recording: "recording announcement",
              vip: "VIP handling" },

  show(node, visible) { node.classList.toggle("hidden", !visible); },

  alert(message) { document.getElementById("alert").textContent = message || ""; },

  fail(err) {  // an API error (or any other) as one readable line in the alert
    callsim.alert(err.message ? `${err.message} (${err.status || "no answer"})` : String(err));
  },

  // server-sent events over fetch (EventSource cannot send the key): calls onEvent(obj)
  async follow(path, onEvent, signal) {
    const response = await fetch(path, {
      headers: { Authorization: "Bearer " + callsim.key() }, signal });
    if (!response.ok) throw { status: response.status, message: await response.text() };
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block.split("\n").filter(l => l.startsWith("data: ")).map(l => l.slice(6));
        if (data.length) onEvent(JSON.parse(data.join("\n")));
      }
    }
  },
};
