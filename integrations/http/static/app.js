// Partnership Assistant web page. Every piece of text from the server goes in with textContent or
// createTextNode, never parsed as markup, so document text such as "<script>" stays inert.
"use strict";

const KEY_STORAGE = "partnership-api-key";
const MAX_HISTORY = 8; // turns sent back as `history`; keeps requests well under the 64 KB limit
const history = [];
let answerCount = 0;

function $(id) { return document.getElementById(id); }

// el("p", {className: "x"}, "text", childNode) — strings become text nodes.
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === "className") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

class ApiError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

async function api(path, body) {
  const headers = {"Accept": "application/json"};
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) headers["Authorization"] = "Bearer " + key;
  const options = {method: body === undefined ? "GET" : "POST", headers};
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  if (response.status === 401) $("auth").hidden = false;
  if (response.status === 204) return null;
  let payload = null;
  try { payload = await response.json(); } catch (_) { payload = null; }
  if (!response.ok) {
    let message = (payload && payload.error) || ("The server answered " + response.status + ".");
    if (response.status === 429) message += " Please wait a moment.";
    throw new ApiError(message, response.status);
  }
  return payload;
}

// POST /ask/stream: calls onDelta(text) for each `delta` event as it arrives; resolves with the Answer of the
// `answer` event. A refused request (4xx before the stream) or an `error` event rejects with its message.
async function askStream(body, onDelta) {
  const headers = {"Accept": "text/event-stream", "Content-Type": "application/json"};
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) headers["Authorization"] = "Bearer " + key;
  const response = await fetch("/ask/stream", {method: "POST", headers, body: JSON.stringify(body)});
  const type = response.headers.get("Content-Type") || "";
  if (!response.ok || !type.startsWith("text/event-stream")) {
    if (response.status === 401) $("auth").hidden = false;
    let payload = null;
    try { payload = await response.json(); } catch (_) { payload = null; }
    let message = (payload && payload.error) || ("The server answered " + response.status + ".");
    if (response.status === 429) message += " Please wait a moment.";
    throw new ApiError(message, response.status);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const name = (block.match(/^event: (.*)$/m) || [])[1];
      const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      if (!data) continue;
      const payload = JSON.parse(data);
      if (name === "delta") onDelta(payload.text);
      else if (name === "answer") { reader.cancel(); return payload; }
      else if (name === "error") { reader.cancel(); throw new ApiError(payload.error, payload.status); }
    }
  }
  throw new ApiError("The answer stopped before it was finished; please ask again.", 0);
}

function showError(id, error) {
  const box = $(id);
  box.textContent = error ? String(error.message || error) : "";
  box.hidden = !error;
}

// ---- chat --------------------------------------------------------------------------------------

// The answer text with each [n] turned into a button that opens citation n.
function answerText(answer, prefix) {
  const known = new Set(answer.citations.map((c) => c.n));
  const p = el("p", {className: "answer-text"});
  for (const part of answer.answer.split(/(\[\d+\])/)) {
    const n = Number((part.match(/^\[(\d+)\]$/) || [])[1]);
    if (known.has(n)) {
      const button = el("button", {type: "button", className: "cite-ref", "aria-label": "Show source " + n, text: "[" + n + "]"});
      button.addEventListener("click", () => {
        const details = $(prefix + n);
        details.open = true;
        details.scrollIntoView({block: "nearest"});
      });
      p.appendChild(button);
    } else if (part) {
      p.appendChild(document.createTextNode(part));
    }
  }
  return p;
}

function citationList(answer, prefix) {
  const list = el("ol", {className: "citations", "aria-label": "Sources"});
  for (const c of answer.citations) {
    const where = [c.section, c.page ? "page " + c.page : null].filter(Boolean).join(" · ");
    const details = el("details", {id: prefix + c.n, className: "citation"},
      el("summary", {}, el("span", {className: "cite-n", text: "[" + c.n + "]"}), " " + c.title),
      el("div", {className: "citation-body"},
        where ? el("p", {className: "cite-meta", text: where}) : null,
        el("blockquote", {className: "snippet", text: c.snippet}),
        el("p", {className: "cite-source", text: "Source file: " + c.source})));
    list.appendChild(el("li", {}, details));
  }
  return list;
}

// `asked` is what was sent with the question (history, partnership): stored with the rating, it lets staff
// reproduce the answer and turn a 👎 into an evaluation item.
function feedbackButtons(question, answer, asked) {
  const box = el("div", {className: "feedback"}, el("span", {text: "Helpful?"}));
  // Words next to the thumbs: they still read right where no emoji font is installed.
  for (const [rating, label, text] of [["up", "Helpful", "👍 Yes"], ["down", "Not helpful", "👎 No"]]) {
    const button = el("button", {type: "button", className: "thumb", "aria-label": label, "data-rating": rating, text});
    button.addEventListener("click", async () => {
      box.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      try {
        await api("/feedback", {question, answer: answer.answer, rating, history: asked.history,
                                partnership: asked.partnership, citations: answer.citations});
        box.replaceChildren(el("span", {className: "thanks", text: "Thanks for the feedback."}));
      } catch (error) {
        box.querySelectorAll("button").forEach((b) => { b.disabled = false; });
        box.appendChild(el("span", {className: "error", text: " " + error.message}));
      }
    });
    box.appendChild(button);
  }
  return box;
}

function renderAnswer(question, answer, asked) {
  const prefix = "cite-" + (++answerCount) + "-";
  const item = el("li", {className: "message assistant" + (answer.grounded ? "" : " not-grounded")});
  if (!answer.grounded) item.appendChild(el("p", {className: "note", text: "Not answered by the documents."}));
  if (answer.calculation) {
    // A calculator answer: the figure, the working and the notes as data, not as the answer's text.
    item.append(...calculationParts(answer.calculation));
  } else {
    item.appendChild(answerText(answer, prefix));
  }
  if (answer.tool_calls && answer.tool_calls.length) {
    item.appendChild(el("p", {className: "note", text: "Worked out with: " + answer.tool_calls.map((t) => t.name).join(", ")}));
  }
  if (answer.citations.length) item.appendChild(citationList(answer, prefix));
  item.appendChild(feedbackButtons(question, answer, asked));
  $("messages").appendChild(item);
}

async function onAsk(event) {
  event.preventDefault();
  const question = $("question").value;
  if (!question.trim()) { showError("ask-error", "Type a question first."); return; }
  showError("ask-error", null);
  const body = {question, history: history.slice(-MAX_HISTORY)};
  if ($("partnership").value) body.partnership = $("partnership").value;
  $("messages").appendChild(el("li", {className: "message user", text: question}));
  $("ask-button").disabled = true;
  // The text is shown as it is written; the final answer (citations checked) then replaces it.
  const streamed = el("p", {className: "answer-text"});
  const pending = el("li", {className: "message assistant streaming", "aria-busy": "true"}, streamed);
  try {
    const answer = await askStream(body, (text) => {
      if (!pending.isConnected) $("messages").appendChild(pending);
      streamed.appendChild(document.createTextNode(text));
    });
    pending.remove();
    renderAnswer(question, answer, body);
    history.push({role: "user", content: question}, {role: "assistant", content: answer.answer});
    $("question").value = "";
  } catch (error) {
    pending.remove();
    showError("ask-error", error);
  } finally {
    $("ask-button").disabled = false;
  }
}

function newConversation() {
  history.length = 0;
  $("messages").replaceChildren();
  showError("ask-error", null);
}

async function loadPartnerships() {
  const documents = await api("/documents");
  const names = new Set();
  for (const doc of documents) {
    const value = Array.isArray(doc.partnership) ? doc.partnership : String(doc.partnership || "").split(/\s*[;|]\s*/);
    value.filter(Boolean).forEach((name) => names.add(name));
  }
  const select = $("partnership");
  select.replaceChildren(el("option", {value: "", text: "All partnerships"}));
  for (const name of [...names].sort()) select.appendChild(el("option", {value: name, text: name}));
}

// ---- calculator --------------------------------------------------------------------------------

// Which inputs each kind of schedule uses (the calculator rejects the others, e.g. a scenario outside Ealing).
const CALC_FIELDS = {
  ealing: ["phase", "size", "scenario", "maintained"],
  per_pupil: ["size"],
  per_phase_flat: ["phase"],
  cost_model: ["members"],
  range: [],
};
let calcPartnerships = [];

function selectedSchedule() {
  return calcPartnerships.find((p) => p.name === $("calc-partnership").value) || null;
}

function showCalcFields() {
  const schedule = selectedSchedule();
  const fields = schedule ? (CALC_FIELDS[schedule.model] || []) : [];
  for (const name of ["phase", "size", "scenario", "maintained", "members"]) {
    $("calc-field-" + name).hidden = !fields.includes(name);
  }
  $("calc-supports").textContent = schedule ? "Uses: " + schedule.supports + "." : "";
}

async function loadCalculator() {
  const payload = await api("/calculate/partnerships");
  calcPartnerships = payload.partnerships;
  const select = $("calc-partnership");
  select.replaceChildren();
  for (const p of calcPartnerships) select.appendChild(el("option", {value: p.name, text: p.name}));
  const ealing = calcPartnerships.find((p) => p.key === "ealing");
  if (ealing) select.value = ealing.name;
  showCalcFields();
}

function calcRequest() {
  const schedule = selectedSchedule();
  const fields = schedule ? (CALC_FIELDS[schedule.model] || []) : [];
  const body = {partnership: $("calc-partnership").value};
  const number = (id) => ($(id).value === "" ? null : Number($(id).value));
  if (fields.includes("phase")) body.phase = $("calc-phase").value;
  if (fields.includes("size")) {
    if (number("calc-pupils") !== null) body.pupils = number("calc-pupils");
    if (number("calc-fe") !== null) body.fe = number("calc-fe");
  }
  if (fields.includes("scenario")) body.scenario = Number($("calc-scenario").value);
  if (fields.includes("maintained")) body.maintained = $("calc-maintained").checked;
  if (fields.includes("members") && number("calc-members") !== null) body.members = number("calc-members");
  return body;
}

// Headline, working table and notes: the same for POST /calculate results and an answer's `calculation`.
function calculationParts(result) {
  const rows = result.working.map((line) => el("tr", {},
    el("td", {}, el("div", {text: line.label}), el("div", {className: "formula", text: line.formula})),
    el("td", {className: "amount", text: line.display || ""})));
  const parts = [
    el("p", {className: "calc-total", text: result.headline}),
    el("table", {className: "calc-table"},
      el("thead", {}, el("tr", {}, el("th", {text: "Working"}), el("th", {className: "amount", text: "Amount"}))),
      el("tbody", {}, ...rows)),
  ];
  if (result.warnings.length) {
    parts.push(el("ul", {className: "calc-warnings"}, ...result.warnings.map((w) => el("li", {text: w}))));
  }
  return parts;
}

function renderCalculation(result) {
  const parts = calculationParts(result);
  if (result.citations.length) {
    parts.push(el("h3", {text: "Sources"}), el("ol", {className: "calc-sources"},
      ...result.citations.map((c) => el("li", {},
        el("blockquote", {className: "snippet", text: c.quote}),
        el("p", {className: "cite-source", text: c.source + (c.year ? " (" + c.year + ")" : "")})))));
  }
  $("calc-result").replaceChildren(...parts);
}

async function onCalculate(event) {
  event.preventDefault();
  showError("calc-error", null);
  $("calc-button").disabled = true;
  try {
    renderCalculation(await api("/calculate", calcRequest()));
  } catch (error) {
    $("calc-result").replaceChildren();
    showError("calc-error", error);
  } finally {
    $("calc-button").disabled = false;
  }
}

// ---- start-up ----------------------------------------------------------------------------------

async function loadLists() {
  for (const load of [loadPartnerships, loadCalculator]) {
    try { await load(); } catch (error) { if (error.status !== 401) console.warn(error.message); }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("ask-form").addEventListener("submit", onAsk);
  $("question").addEventListener("keydown", (event) => {
    // Enter sends, Shift+Enter starts a new line (as in chat apps).
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("ask-form").requestSubmit();
    }
  });
  $("new-chat").addEventListener("click", newConversation);
  $("calc-form").addEventListener("submit", onCalculate);
  $("calc-partnership").addEventListener("change", showCalcFields);
  $("auth-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_STORAGE, $("api-key").value.trim());
    $("auth").hidden = true;
    loadLists();
  });
  loadLists();
});
