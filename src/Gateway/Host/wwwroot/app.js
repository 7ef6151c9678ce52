"use strict";

// The demo client: one socket on the main namespace, the name sent as the auth payload.
const $ = (id) => document.getElementById(id);
const state = { socket: null, joined: new Set(), current: null, counts: new Map(), logs: new Map() };

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const name = $("name").value.trim();
  if (!name) return;
  state.socket?.disconnect();
  connect(name);
});

function connect(name) {
  const socket = io({ auth: { name } });
  state.socket = socket;

  socket.on("connect", () => {
    $("status").textContent = `${name} · connected over ${socket.io.engine.transport.name}`;
    socket.io.engine.once("upgrade", (t) => { $("status").textContent = `${name} · connected over ${t.name}`; });
    $("login").hidden = true;
    $("chat").hidden = false;
    // After a reconnection the server has forgotten our rooms: join them again.
    for (const room of state.joined) socket.emit("join", room, () => {});
  });

  socket.on("connect_error", (err) => {
    $("login-error").textContent = err.data?.hint ? `${err.message} (${err.data.hint})` : err.message;
    if (!socket.active) { $("login").hidden = false; $("chat").hidden = true; }
  });

  socket.on("disconnect", (reason) => { $("status").textContent = `disconnected: ${reason}`; });

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

function join(room) {
  state.socket.emit("join", room, (res) => {
    if (!res.ok) return alert(res.error);
    state.joined.add(res.room);
    append(res.room, { notice: `you joined (${res.members} here)` });
    select(res.room);
  });
}

function leave(room) {
  state.socket.emit("leave", room, (res) => {
    if (!res.ok) return alert(res.error);
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
  state.socket.emit("chat", { room, text }, (res) => {
    if (!res.ok) return alert(res.error);
    append(room, { name: "you", text, at: res.at });
  });
  $("text").value = "";
});

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
  $("rooms").replaceChildren(...[...names].sort().map((room) => {
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
