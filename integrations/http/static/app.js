// Partnership Assistant web page. Every piece of text from the server goes in with textContent or
// createTextNode (never innerHTML), so document text such as "<script>" stays inert.
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
        el("p", {className: "cite-meta", text: [c.title, where].filter(Boolean).join(" — ")}),
        el("blockquote", {className: "snippet", text: c.snippet}),
        el("p", {className: "cite-source", text: "Source file: " + c.source})));
    list.appendChild(el("li", {}, details));
  }
  return list;
}

function feedbackButtons(question, answer) {
  const box = el("div", {className: "feedback"}, el("span", {text: "Was this helpful?"}));
  for (const [rating, label, symbol] of [["up", "Helpful", "👍"], ["down", "Not helpful", "👎"]]) {
    const button = el("button", {type: "button", className: "thumb", "aria-label": label, "data-rating": rating, text: symbol});
    button.addEventListener("click", async () => {
      box.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      try {
        await api("/feedback", {question, answer: answer.answer, rating});
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

function renderAnswer(question, answer) {
  const prefix = "cite-" + (++answerCount) + "-";
  const item = el("li", {className: "message assistant" + (answer.grounded ? "" : " not-grounded")});
  if (!answer.grounded) item.appendChild(el("p", {className: "note", text: "Not answered by the documents."}));
  item.appendChild(answerText(answer, prefix));
  if (answer.tool_calls && answer.tool_calls.length) {
    item.appendChild(el("p", {className: "note", text: "Worked out with: " + answer.tool_calls.map((t) => t.name).join(", ")}));
  }
  if (answer.citations.length) item.appendChild(citationList(answer, prefix));
  item.appendChild(feedbackButtons(question, answer));
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
  try {
    const answer = await api("/ask", body);
    renderAnswer(question, answer);
    history.push({role: "user", content: question}, {role: "assistant", content: answer.answer});
    $("question").value = "";
  } catch (error) {
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

function money(value) {
  return typeof value === "string" ? value : String(value);
}

function renderCalculation(result) {
  const box = $("calc-result");
  box.replaceChildren();
  box.appendChild(el("pre", {className: "calc-raw", text: JSON.stringify(result, null, 2)}));
}

async function loadCalculator() {
  const payload = await api("/calculate/partnerships");
  const select = $("calc-partnership");
  select.replaceChildren();
  for (const p of payload.partnerships) {
    const name = typeof p === "string" ? p : p.name;
    select.appendChild(el("option", {value: name, text: name}));
  }
}

function calcRequest() {
  const body = {
    partnership: $("calc-partnership").value,
    phase: $("calc-phase").value,
    scenario: Number($("calc-scenario").value),
    maintained: $("calc-maintained").checked,
  };
  if ($("calc-pupils").value) body.pupils = Number($("calc-pupils").value);
  if ($("calc-fe").value) body.fe = Number($("calc-fe").value);
  return body;
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
  $("new-chat").addEventListener("click", newConversation);
  $("calc-form").addEventListener("submit", onCalculate);
  $("auth-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_STORAGE, $("api-key").value.trim());
    $("auth").hidden = true;
    loadLists();
  });
  loadLists();
});
