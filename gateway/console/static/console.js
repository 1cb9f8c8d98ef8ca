// The wagate console: plain JavaScript, no build step. It talks to the REST API with
// the tenant API key (kept in sessionStorage, never in a URL) and listens on Socket.IO
// with a short-lived realtime token. Message data is only ever set as text.
"use strict";

const KEY = "wagate.apiKey";
const $ = (id) => document.getElementById(id);
const state = {
  key: sessionStorage.getItem(KEY) || "",
  conversations: new Map(), // id -> {id, channelId, contact, lastMessageAt, last}
  open: null, // the open conversation's id
  messages: new Map(), // id -> element, for the open conversation
  byProviderId: new Map(), // provider message id -> message JSON (open conversation)
  cursor: null, // the next (older) page of the open conversation
  loadingOlder: false,
  sessions: new Map(),
  simulated: [],
  socket: null,
  lastEventId: "",
  typingTimer: 0,
  liveSeq: 0, // orders conversations by live activity
  early: new Map(), // message id -> a status that arrived before its message
  mediaUrls: [],
};

// -- small helpers ---------------------------------------------------------------------

/** An element with attributes; string children become text nodes (never HTML). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${state.key}` };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, {
    method: options.method || "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (resp.status === 401 && state.key && !options.signingIn) signOut("Your key is no longer valid.");
  const body = await resp.json().catch(() => null);
  if (!resp.ok) {
    const message = (body && body.error && body.error.message) || `HTTP ${resp.status}`;
    throw new ApiError(resp.status, message);
  }
  return body;
}

const STATUS_WORDS = {
  MESSAGE_STATUS_PENDING: "pending", MESSAGE_STATUS_SENT: "sent",
  MESSAGE_STATUS_DELIVERED: "delivered", MESSAGE_STATUS_READ: "read",
  MESSAGE_STATUS_PLAYED: "played", MESSAGE_STATUS_FAILED: "failed",
  MESSAGE_STATUS_RECEIVED: "received",
};
const TICKS = { pending: "…", sent: "✓", delivered: "✓✓", read: "✓✓", played: "✓✓", failed: "!" };
const RANK = { pending: 1, sent: 2, delivered: 3, read: 4, played: 5, failed: 6, received: 0 };
const statusWord = (s) => STATUS_WORDS[s] || "pending";
const direction = (m) => (m.direction === "DIRECTION_OUTBOUND" ? "outbound" : "inbound");
const contactName = (c) => (c && (c.name || c.waId || c.userId || c.username)) || "Unknown";

function timeText(iso) {
  if (!iso) return "";
  const at = new Date(iso);
  const today = new Date().toDateString() === at.toDateString();
  return today
    ? at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : at.toLocaleDateString([], { month: "short", day: "numeric" });
}

const MEDIA = ["image", "audio", "video", "document", "sticker"];

/** A one-line description of a message, for the list and for quotes. */
function summary(m) {
  if (!m) return "";
  if (m.text) return m.text.body || "";
  for (const kind of MEDIA) {
    if (m[kind]) return m[kind].caption || `[${kind}]`;
  }
  if (m.location) return `Location: ${m.location.name || m.location.address || "pinned"}`;
  if (m.reaction) return `Reacted ${m.reaction.emoji || "(removed)"}`;
  if (m.buttonReply) return m.buttonReply.title;
  if (m.listReply) return m.listReply.title;
  if (m.interactive) return m.interactive.body || "[interactive]";
  if (m.template) return `[template ${m.template.name}]`;
  if (m.contacts) return "[contact card]";
  if (m.system) return m.system.body || "[system]";
  return "[message]";
}

// -- sign-in ---------------------------------------------------------------------------

async function signIn(event) {
  event.preventDefault();
  const key = $("api-key").value.trim();
  const error = $("login-error");
  error.hidden = true;
  state.key = key;
  try {
    await api("/api/v1/conversations?limit=1", { signingIn: true });
  } catch (exc) {
    state.key = "";
    error.textContent = exc.status === 401 ? "That API key is not valid." : `Cannot sign in: ${exc.message}`;
    error.hidden = false;
    $("api-key").focus();
    return;
  }
  sessionStorage.setItem(KEY, key);
  $("api-key").value = "";
  start();
}

function signOut(reason) {
  sessionStorage.removeItem(KEY);
  state.key = "";
  if (state.socket) state.socket.disconnect();
  state.socket = null;
  $("app").hidden = true;
  $("login").hidden = false;
  const error = $("login-error");
  error.textContent = reason || "";
  error.hidden = !reason;
  $("api-key").focus();
}

async function start() {
  $("login").hidden = true;
  $("app").hidden = false;
  show(location.hash.slice(1) || "inbox");
  // Live first, then the lists: nothing that happens in between is missed.
  await connect();
  loadConversations();
  loadSessions();
  loadSimulator();
}

// -- views -----------------------------------------------------------------------------

function show(view) {
  if (!["inbox", "sessions", "simulator"].includes(view)) view = "inbox";
  for (const name of ["inbox", "sessions", "simulator"]) {
    $(`view-${name}`).hidden = name !== view;
    const button = document.querySelector(`[data-view="${name}"]`);
    if (name === view) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  if (location.hash.slice(1) !== view) history.replaceState(null, "", `#${view}`);
}

// -- realtime --------------------------------------------------------------------------

async function realtimeToken() {
  const minted = await api("/api/v1/realtime-tokens", { method: "POST", body: {} });
  return minted.token;
}

async function connect() {
  let token;
  try {
    token = await realtimeToken();
  } catch (exc) {
    setLive(false, "realtime unavailable");
    return;
  }
  const socket = io({ path: "/socket.io", transports: ["websocket", "polling"], auth: { token } });
  state.socket = socket;
  const ready = new Promise((resolve) => {
    socket.once("connect", resolve);
    socket.once("connect_error", resolve);
    setTimeout(resolve, 5000);
  });
  socket.on("connect", () => {
    setLive(true);
    if (state.open) socket.emit("join:conversation", state.open);
  });
  socket.on("disconnect", () => setLive(false));
  socket.on("connect_error", async () => {
    setLive(false);
    // Tokens are short-lived: reconnect with a fresh one, resuming after the last event.
    try {
      socket.auth = { token: await realtimeToken(), after_event_id: state.lastEventId };
    } catch (exc) {
      /* signed out or offline: socket.io keeps retrying */
    }
  });
  const seen = (payload) => {
    if (payload && payload.event_id) {
      state.lastEventId = payload.event_id;
      socket.auth = { ...socket.auth, after_event_id: state.lastEventId };
    }
  };
  socket.on("message:new", (p) => { seen(p); onMessage(p.message); });
  socket.on("message:updated", (p) => { seen(p); onMessage(p.message, false); });
  socket.on("message:status", (p) => { seen(p); onStatus(p); });
  socket.on("typing:start", (p) => { seen(p); onTyping(p.conversationId, true); });
  socket.on("typing:stop", (p) => { seen(p); onTyping(p.conversationId, false); });
  socket.on("session:updated", (p) => { seen(p); onSession(p); });
  await ready;
}

function setLive(on, text) {
  const live = $("live");
  live.textContent = text || (on ? "live" : "offline");
  live.classList.toggle("on", on);
}

// -- conversations ---------------------------------------------------------------------

async function loadConversations() {
  const stateLine = $("conversations-state");
  stateLine.textContent = "Loading conversations…";
  stateLine.hidden = false;
  try {
    const page = await api("/api/v1/conversations?limit=100");
    for (const item of page.items) state.conversations.set(item.id, { ...item, last: null });
    renderConversations();
    // The last message of each, for the list's second line.
    await Promise.all(page.items.map(async (item) => {
      const msgs = await api(`/api/v1/conversations/${encodeURIComponent(item.id)}/messages?limit=1`);
      const conv = state.conversations.get(item.id);
      if (conv && !conv.last && msgs.items[0]) conv.last = msgs.items[0];
    }));
    renderConversations();
  } catch (exc) {
    stateLine.textContent = `Could not load conversations: ${exc.message}`;
  }
}

function renderConversations() {
  const list = $("conversation-list");
  // What changed live is newer than anything loaded; the rest by their last message.
  const sorted = [...state.conversations.values()].sort((a, b) =>
    (b.liveSeq || 0) - (a.liveSeq || 0) || (b.lastMessageAt || "").localeCompare(a.lastMessageAt || ""));
  list.replaceChildren(...sorted.map((c) => el("li", {
    "data-testid": "conversation",
    "data-conversation-id": c.id,
    tabindex: 0,
    role: "option",
    "aria-selected": c.id === state.open ? "true" : "false",
    class: c.fresh ? "fresh" : null,
    onclick: () => openConversation(c.id),
    onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); openConversation(c.id); } },
  },
  el("span", { class: "name" }, contactName(c.contact)),
  el("span", { class: "when" }, timeText(c.lastMessageAt)),
  el("span", { class: "last" }, summary(c.last)))));
  for (const c of sorted) c.fresh = false;
  const stateLine = $("conversations-state");
  stateLine.hidden = sorted.length > 0;
  stateLine.textContent = "No conversations yet. Messages your customers send appear here.";
}

// -- the open conversation -------------------------------------------------------------

function releaseMedia() {
  for (const url of state.mediaUrls) URL.revokeObjectURL(url);
  state.mediaUrls = [];
}

async function openConversation(id) {
  const conv = state.conversations.get(id);
  if (!conv) return;
  if (state.socket && state.open) state.socket.emit("leave:conversation", state.open);
  state.open = id;
  if (state.socket) state.socket.emit("join:conversation", id);
  state.messages.clear();
  state.byProviderId.clear();
  state.early.clear();
  releaseMedia();
  state.cursor = null;
  $("view-inbox").classList.add("open");
  $("thread-name").textContent = contactName(conv.contact);
  $("thread-sub").textContent = `${conv.contact.waId || conv.contact.userId || ""} · ${conv.channelId}`;
  $("typing").hidden = true;
  $("send-error").hidden = true;
  const box = $("messages");
  box.replaceChildren(el("p", { class: "state", id: "messages-state" }, "Loading messages…"));
  $("composer-form").hidden = false;
  renderConversations();
  try {
    const page = await api(`/api/v1/conversations/${encodeURIComponent(id)}/messages?limit=50`);
    if (state.open !== id) return;
    box.replaceChildren();
    state.cursor = page.next_cursor;
    const items = page.items.slice().reverse();
    for (const m of items) state.byProviderId.set(m.providerMessageId, m);
    for (const m of items) box.append(bubble(m));
    if (!items.length) box.append(el("p", { class: "state" }, "No messages yet."));
    box.scrollTop = box.scrollHeight;
  } catch (exc) {
    box.replaceChildren(el("p", { class: "state error" }, `Could not load messages: ${exc.message}`));
  }
  $("composer").focus();
}

async function loadOlder() {
  const box = $("messages");
  if (!state.cursor || state.loadingOlder || box.scrollTop > 80) return;
  state.loadingOlder = true;
  const id = state.open;
  try {
    const page = await api(
      `/api/v1/conversations/${encodeURIComponent(id)}/messages?limit=50&cursor=${encodeURIComponent(state.cursor)}`);
    if (state.open !== id) return;
    state.cursor = page.next_cursor;
    const before = box.scrollHeight;
    const items = page.items.slice().reverse();
    for (const m of items) state.byProviderId.set(m.providerMessageId, m);
    box.prepend(...items.filter((m) => !state.messages.has(m.id)).map(bubble));
    box.scrollTop += box.scrollHeight - before;
  } catch (exc) {
    /* the next scroll tries again */
  } finally {
    state.loadingOlder = false;
  }
}

function mediaElement(m, kind) {
  const media = m[kind];
  const tag = kind === "audio" ? "audio" : kind === "video" ? "video" : kind === "document" ? "a" : "img";
  const node = el(tag, {
    alt: tag === "img" ? media.caption || kind : null,
    controls: tag === "audio" || tag === "video",
    class: "media",
  }, tag === "a" ? `Document: ${media.filename || "download"}` : null);
  node.dataset.loading = "true";
  fetch(`/api/v1/messages/${encodeURIComponent(m.id)}/media`, {
    headers: { Authorization: `Bearer ${state.key}` },
  }).then((resp) => {
    if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
    return resp.blob();
  }).then((blob) => {
    const url = URL.createObjectURL(blob);
    state.mediaUrls.push(url);
    if (tag === "a") { node.href = url; node.download = media.filename || "document"; }
    else node.src = url;
    delete node.dataset.loading;
  }).catch((exc) => {
    node.replaceWith(el("span", { class: "note" }, `[${kind} unavailable: ${exc.message}]`));
  });
  return node;
}

function content(m) {
  if (m.text) return [m.text.body];
  for (const kind of MEDIA) {
    if (m[kind]) return [mediaElement(m, kind), m[kind].caption ? el("div", {}, m[kind].caption) : null];
  }
  if (m.location) {
    const l = m.location;
    const where = `${Number(l.latitude).toFixed(5)}, ${Number(l.longitude).toFixed(5)}`;
    return [el("div", {}, `Location: ${l.name || "pinned"}`),
      l.address ? el("div", { class: "small" }, l.address) : null,
      el("a", { href: `https://www.openstreetmap.org/?mlat=${l.latitude}&mlon=${l.longitude}`,
        target: "_blank", rel: "noopener noreferrer", class: "small" }, where)];
  }
  if (m.reaction) {
    const target = state.byProviderId.get(m.reaction.messageId);
    return [el("span", { class: "reactions" }, m.reaction.emoji || "(reaction removed)"),
      el("span", { class: "note small" }, target ? ` to “${summary(target)}”` : " to a message")];
  }
  if (m.buttonReply) return [el("span", { class: "chip" }, `↩ ${m.buttonReply.title}`)];
  if (m.listReply) return [el("span", { class: "chip" }, `↩ ${m.listReply.title}`)];
  if (m.interactive) {
    const i = m.interactive;
    const options = i.buttons ? (i.buttons.buttons || []).map((b) => b.title)
      : i.list ? (i.list.sections || []).flatMap((s) => (s.rows || []).map((r) => r.title)) : [];
    return [el("div", {}, i.body || ""), el("div", {}, options.map((t) => el("span", { class: "chip" }, t)))];
  }
  return [el("span", { class: "note" }, summary(m))];
}

function bubble(m) {
  const status = statusWord(m.status);
  const dir = direction(m);
  const node = el("div", {
    class: "bubble",
    "data-testid": "message",
    "data-message-id": m.id,
    "data-direction": dir,
    "data-status": status,
  });
  const reply = m.context && m.context.replyToId;
  if (reply) {
    const quoted = state.byProviderId.get(reply);
    node.append(el("div", { class: "quote" }, quoted ? summary(quoted) : "Reply to an earlier message"));
  }
  node.append(...content(m).filter((c) => c !== null));
  const meta = el("div", { class: "meta" }, timeText(m.timestamp || m.createdAt));
  if (dir === "outbound") meta.append(" ", el("span", { class: "tick", "data-status": status }, TICKS[status] || ""));
  node.append(meta);
  const error = (m.errors || [])[0];
  if (status === "failed" && error) node.append(el("div", { class: "error-text" }, error.title || error.message || "failed"));
  state.messages.set(m.id, node);
  const early = state.early.get(m.id);
  if (early) {
    state.early.delete(m.id);
    setStatus(node, statusWord(early.status), early.error);
  }
  return node;
}

function setStatus(node, status, error) {
  const current = node.getAttribute("data-status");
  if (status !== "failed" && (RANK[current] || 0) >= (RANK[status] || 0)) return;
  node.setAttribute("data-status", status);
  const tick = node.querySelector(".tick");
  if (tick) { tick.textContent = TICKS[status] || ""; tick.setAttribute("data-status", status); }
  if (status === "failed" && error) {
    node.querySelector(".error-text")?.remove();
    node.append(el("div", { class: "error-text" }, error.title || error.message || "failed"));
  }
}

// -- live updates ----------------------------------------------------------------------

/** A new message (`fresh`), or a changed one (an edit) that keeps its place. */
function onMessage(m, fresh = true) {
  if (!m || !m.conversationId) return;
  let conv = state.conversations.get(m.conversationId);
  if (!conv) {
    conv = { id: m.conversationId, channelId: m.channelId, contact: m.contact || {}, lastMessageAt: "" };
    state.conversations.set(conv.id, conv);
  }
  const at = m.timestamp || m.createdAt || new Date().toISOString();
  if (fresh || (conv.last && conv.last.id === m.id)) conv.last = m;
  if (fresh) {
    conv.lastMessageAt = at;
    conv.liveSeq = ++state.liveSeq;
  }
  if (m.contact && m.contact.name && !conv.contact.name) conv.contact = m.contact;
  conv.fresh = true;
  renderConversations();
  if (m.conversationId !== state.open) return;
  if (direction(m) === "inbound") onTyping(m.conversationId, false);
  state.byProviderId.set(m.providerMessageId, m);
  const box = $("messages");
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  const existing = state.messages.get(m.id);
  if (existing) existing.replaceWith(bubble(m));
  else {
    box.querySelector(".state")?.remove();
    box.append(bubble(m));
  }
  if (nearBottom || direction(m) === "outbound") box.scrollTop = box.scrollHeight;
}

function onStatus(p) {
  const status = statusWord(p.status);
  let node = state.messages.get(p.messageId);
  if (!node && p.providerMessageId) {
    const m = state.byProviderId.get(p.providerMessageId);
    node = m && state.messages.get(m.id);
  }
  if (node) setStatus(node, status, p.error);
  else if (p.conversationId === state.open) state.early.set(p.messageId, p); // its bubble is on the way
  const conv = state.conversations.get(p.conversationId);
  if (conv && conv.last && conv.last.id === p.messageId) conv.last.status = p.status;
}

function onTyping(conversationId, on) {
  if (conversationId !== state.open) return;
  clearTimeout(state.typingTimer);
  $("typing").hidden = !on;
  // WhatsApp's indicator lasts at most 25 seconds unless renewed.
  if (on) state.typingTimer = setTimeout(() => { $("typing").hidden = true; }, 25000);
}

async function send(event) {
  event.preventDefault();
  const box = $("composer");
  const body = box.value;
  const conv = state.conversations.get(state.open);
  if (!body.trim() || !conv) return;
  const error = $("send-error");
  error.hidden = true;
  box.disabled = true;
  try {
    const answer = await api("/api/v1/messages", {
      method: "POST",
      body: { channelId: conv.channelId, to: conv.contact.waId || conv.contact.userId, text: { body } },
    });
    box.value = "";
    onMessage(answer.message);
  } catch (exc) {
    error.textContent = `Not sent: ${exc.message}`;
    error.hidden = false;
  } finally {
    box.disabled = false;
    box.focus();
  }
}

/** The message kind WhatsApp gives a file of this type. */
function mediaKind(type) {
  for (const kind of ["image", "video", "audio"]) if (type.startsWith(`${kind}/`)) return kind;
  return "document";
}

async function sendFile() {
  const input = $("attach");
  const file = input.files[0];
  const conv = state.conversations.get(state.open);
  if (!file || !conv) return;
  const error = $("send-error");
  error.hidden = true;
  try {
    const form = new FormData();
    form.append("channelId", conv.channelId);
    form.append("file", file, file.name);
    const resp = await fetch("/api/v1/media", {
      method: "POST", headers: { Authorization: `Bearer ${state.key}` }, body: form,
    });
    const uploaded = await resp.json().catch(() => null);
    if (!resp.ok) throw new Error((uploaded && uploaded.error && uploaded.error.message) || `HTTP ${resp.status}`);
    const kind = mediaKind(uploaded.mimeType);
    const media = { id: uploaded.id, mimeType: uploaded.mimeType };
    if (kind === "document") media.filename = file.name;
    const answer = await api("/api/v1/messages", {
      method: "POST",
      body: { channelId: conv.channelId, to: conv.contact.waId || conv.contact.userId, [kind]: media },
    });
    onMessage(answer.message);
  } catch (exc) {
    error.textContent = `File not sent: ${exc.message}`;
    error.hidden = false;
  } finally {
    input.value = "";
  }
}

// -- sessions --------------------------------------------------------------------------

async function loadSessions() {
  const line = $("sessions-state");
  try {
    const list = await api("/api/v1/sessions");
    for (const s of list.items) state.sessions.set(s.sessionId, s);
    renderSessions();
  } catch (exc) {
    line.textContent = `Could not load sessions: ${exc.message}`;
  }
}

function onSession(p) {
  const known = state.sessions.get(p.sessionId) || { sessionId: p.sessionId };
  // A session event carries the QR only while one is shown.
  state.sessions.set(p.sessionId, { ...known, ...p, qr: p.qr || null, qrImage: p.qrImage || null });
  renderSessions();
}

async function sessionAction(id, action, button) {
  button.disabled = true;
  try {
    const path = action === "scan"
      ? `/api/v1/simulator/sessions/${encodeURIComponent(id)}/scan`
      : `/api/v1/sessions/${encodeURIComponent(id)}/${action}`;
    await api(path, { method: "POST", body: {} });
  } catch (exc) {
    alert(`${action} failed: ${exc.message}`);
  } finally {
    button.disabled = false;
  }
}

function renderSessions() {
  const simulated = new Set(state.simulated.map((c) => c.sessionId).filter(Boolean));
  const cards = [...state.sessions.values()].sort((a, b) => a.sessionId.localeCompare(b.sessionId)).map((s) => {
    const button = (action, label) => el("button", {
      type: "button", "data-action": action,
      onclick: (e) => sessionAction(s.sessionId, action, e.currentTarget),
    }, label);
    return el("div", { class: "card session", "data-testid": "session", "data-session-id": s.sessionId, "data-status": s.status },
      el("div", {}, el("strong", {}, s.sessionId), " ", el("span", { class: "muted small" }, s.channelId || "")),
      el("div", { class: "status" }, s.status),
      el("div", { class: "muted small" }, s.message || ""),
      s.needsQR && s.qrImage ? el("img", { "data-testid": "qr", src: s.qrImage, alt: `QR code for ${s.sessionId}` }) : null,
      el("div", { class: "actions" }, button("start", "Start"), button("stop", "Stop"), button("logout", "Log out"),
        simulated.has(s.sessionId) && s.needsQR ? button("scan", "Simulate a scan") : null));
  });
  $("session-list").replaceChildren(...cards);
  const line = $("sessions-state");
  line.hidden = cards.length > 0;
  line.textContent = "No QR sessions: add a qr_session channel to the config.";
}

// -- simulator -------------------------------------------------------------------------

async function loadSimulator() {
  try {
    state.simulated = (await api("/api/v1/simulator")).channels;
  } catch (exc) {
    state.simulated = [];
  }
  const nav = document.querySelector('[data-view="simulator"]');
  nav.hidden = state.simulated.length === 0;
  $("sim-channel").replaceChildren(...state.simulated.map((c) =>
    el("option", { value: c.channelId }, `${c.channelId} (${c.provider})`)));
  renderSessions();
}

async function simulate(event) {
  event.preventDefault();
  const result = $("sim-result");
  result.className = "small";
  result.textContent = "Sending…";
  try {
    await api("/api/v1/simulator/messages", {
      method: "POST",
      body: { channelId: $("sim-channel").value, from: $("sim-from").value, name: $("sim-name").value, text: $("sim-text").value },
    });
    result.textContent = "Delivered to the webhook route. Watch the inbox.";
    $("sim-text").value = "";
    $("sim-text").focus();
  } catch (exc) {
    result.className = "small error";
    result.textContent = `Not sent: ${exc.message}`;
  }
}

// -- wiring ----------------------------------------------------------------------------

$("login-form").addEventListener("submit", signIn);
$("logout").addEventListener("click", () => signOut(""));
$("composer-form").addEventListener("submit", send);
$("attach").addEventListener("change", sendFile);
$("sim-form").addEventListener("submit", simulate);
$("messages").addEventListener("scroll", loadOlder);
$("back").addEventListener("click", () => { $("view-inbox").classList.remove("open"); });
$("composer").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("composer-form").requestSubmit(); }
});
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") $("view-inbox").classList.remove("open");
});
for (const button of document.querySelectorAll("[data-view]")) {
  button.addEventListener("click", () => show(button.dataset.view));
}
if (state.key) start();
else $("login").hidden = false;
