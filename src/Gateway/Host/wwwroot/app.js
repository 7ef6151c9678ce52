"use strict";

// The demo client: one socket on the main namespace, the name sent as the auth payload.
const $ = (id) => document.getElementById(id);
const state = { socket: null, joined: new Set(), current: null, counts: new Map(), logs: new Map() };
const connection = { name: null, transport: null, gateway: null, down: null };
// "room 2" before "room 10", "alpha" before "Beta", in the reader's language.
const byName = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" }).compare;
// An acknowledgement that has not come in this long is an error (the socket buffers while it reconnects).
const ANSWER_TIMEOUT_MS = 10000;
// The server's limit on a message (Program.cs), said before sending.
const MAX_MESSAGE_LENGTH = 500;

if (typeof io !== "function") {
  showError("The Socket.IO client (vendor/socket.io.min.js) did not load: run npm ci in src/Gateway/Host, then restart the server.");
}

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const name = $("name").value.trim();
  if (!name || typeof io !== "function") return;
  state.socket?.disconnect();
  connect(name);
});

function connect(name) {
  const socket = io({ auth: { name } });
  state.socket = socket;
  Object.assign(connection, { name, transport: null, gateway: null, down: null });

  socket.on("connect", () => {
    dismissError("connection");
    // A reconnection may land on another gateway, which names itself next.
    Object.assign(connection, { transport: socket.io.engine.transport.name, gateway: null, down: null });
    renderStatus();
    socket.io.engine.once("upgrade", (t) => { connection.transport = t.name; renderStatus(); });
    $("login").hidden = true;
    $("chat").hidden = false;
    // After a reconnection the server has forgotten our rooms: join them again.
    for (const room of state.joined) {
      request("join", room, `Joining #${room} again`, () => {}, () => { state.joined.delete(room); render(); });
    }
  });

  // Named by the gateway that holds this connection; only in a cluster (or when the gateway is given a name).
  socket.on("gateway", ({ name: gateway }) => { connection.gateway = gateway; renderStatus(); });

  socket.on("connect_error", (err) => {
    if (err.data?.hint) {
      // Refused by the server (the name): the client gives up, the form comes back.
      showError(`Not connected: ${err.message} (${err.data.hint}).`, "connection");
    } else {
      showError(socket.active
        ? `Cannot reach the server (${err.message}); trying again…`
        : `Cannot connect: ${err.message}.`, "connection");
    }
    if (!socket.active) { $("login").hidden = false; $("chat").hidden = true; }
  });

  socket.on("disconnect", (reason) => {
    connection.down = reason;
    renderStatus();
    if (reason === "io client disconnect") return; // asked for here
    showError(socket.active
      ? `Disconnected (${reason}); reconnecting…`
      : `Disconnected by the server (${reason}): connect again.`, "connection");
    if (!socket.active) { $("login").hidden = false; $("chat").hidden = true; }
  });

  // The whole room list once, then only what changed (count 0: the room is gone), at most a few times a second.
  socket.on("rooms", (counts) => { state.counts = new Map(Object.entries(counts)); renderRooms(); });
  socket.on("rooms:changed", (changes) => {
    for (const [room, count] of Object.entries(changes)) {
      if (count > 0) state.counts.set(room, count);
      else state.counts.delete(room);
    }
    renderRooms();
  });
  socket.on("chat", ({ room, name, text, at }) => append(room, { name, text, at }));
  socket.on("joined", ({ room, name }) => append(room, { notice: `${name} joined` }));
  // No name: a member whose server went away (another server took it out of the room).
  socket.on("left", ({ room, name }) => append(room, { notice: name ? `${name} left` : "someone left (their server went away)" }));
}

// Emits `event` with `arg`; `done` gets a successful answer, `failed` (if any) follows an error, which the page shows.
function request(event, arg, what, done, failed = () => {}) {
  state.socket.timeout(ANSWER_TIMEOUT_MS).emit(event, arg, (err, res) => {
    if (err || !res?.ok) {
      showError(`${what} failed: ${err ? `no answer from the server within ${ANSWER_TIMEOUT_MS / 1000} s` : res?.error ?? "no reason given"}.`);
      failed();
      return;
    }
    done(res);
  });
}

function join(room) {
  request("join", room, `Joining #${room}`, (res) => {
    state.joined.add(res.room);
    append(res.room, { notice: `you joined (${res.members} here)` });
    select(res.room);
  });
}

function leave(room) {
  request("leave", room, `Leaving #${room}`, () => {
    state.joined.delete(room);
    if (state.current === room) state.current = [...state.joined][0] ?? null;
    render();
  });
}

$("join").addEventListener("submit", (ev) => {
  ev.preventDefault();
  join($("new-room").value.trim());
  $("new-room").value = "";
});

$("send").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const room = state.current;
  const text = $("text").value.trim();
  if (!room || !text) return;
  if (text.length > MAX_MESSAGE_LENGTH) {
    showError(`Not sent: a message has at most ${MAX_MESSAGE_LENGTH} characters (this one has ${text.length}).`);
    return;
  }
  request("chat", { room, text }, `Sending to #${room}`, (res) => append(room, { name: "you", text, at: res.at }));
  $("text").value = "";
});

function renderStatus() {
  const { name, transport, gateway, down } = connection;
  const parts = [name, down ? `disconnected: ${down}` : `connected over ${transport}`];
  if (gateway) parts.push(`gateway ${gateway}`);
  $("status").textContent = parts.join(" · ");
}

// Shows `text` until dismissed; an error with a `key` replaces the previous one with that key (a connection that keeps
// failing shows one error, not one per attempt).
function showError(text, key = text) {
  const existing = [...$("errors").children].find((e) => e.dataset.key === key);
  if (existing) {
    existing.querySelector(".text").textContent = text;
    return;
  }
  const item = el("div");
  item.className = "error";
  item.setAttribute("role", "alert");
  item.dataset.key = key;
  const dismiss = el("button", "×");
  dismiss.type = "button";
  dismiss.className = "dismiss";
  dismiss.setAttribute("aria-label", "Dismiss");
  dismiss.onclick = () => item.remove();
  const message = el("span", text);
  message.className = "text";
  item.append(message, dismiss);
  $("errors").append(item);
}

function dismissError(key) {
  [...$("errors").children].find((e) => e.dataset.key === key)?.remove();
}

function append(room, entry) {
  if (!state.logs.has(room)) state.logs.set(room, []);
  state.logs.get(room).push(entry);
  if (room === state.current) renderMessages();
}

function select(room) {
  state.current = room;
  render();
}

function render() {
  renderRooms();
  const tabs = $("tabs");
  tabs.replaceChildren(...[...state.joined].map((room) => {
    const b = el("button", room);
    b.type = "button";
    b.className = room === state.current ? "active" : "";
    b.onclick = () => select(room);
    return b;
  }));
  const canSend = state.current !== null;
  $("text").disabled = !canSend;
  $("send").querySelector("button").disabled = !canSend;
  $("text").placeholder = canSend ? `message #${state.current}` : "join a room to chat";
  renderMessages();
}

function renderRooms() {
  const names = new Set([...state.counts.keys(), ...state.joined]);
  $("rooms").replaceChildren(...[...names].sort(byName).map((room) => {
    const li = el("li");
    const joined = state.joined.has(room);
    li.className = joined ? "joined" : "";
    const name = el("span", `#${room}`);
    name.className = "name";
    name.onclick = () => (joined ? select(room) : join(room));
    const count = el("span", String(state.counts.get(room) ?? 0));
    count.className = "count";
    count.title = "members";
    li.append(name, count);
    if (joined) {
      const b = el("button", "leave");
      b.className = "leave";
      b.onclick = () => leave(room);
      li.append(b);
    }
    return li;
  }));
}

function renderMessages() {
  const list = $("messages");
  list.replaceChildren(...(state.logs.get(state.current) ?? []).map((m) => {
    const li = el("li");
    if (m.notice) {
      li.className = "notice";
      li.textContent = m.notice;
    } else {
      const time = el("time", new Date(m.at).toLocaleTimeString());
      li.append(time, el("b", m.name), document.createTextNode(`: ${m.text}`));
    }
    return li;
  }));
  list.scrollTop = list.scrollHeight;
}

function el(tag, text) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  return e;
}
