// Helpers for the scenarios that tests/Conformance.Tests (OlderClientTests) writes next to this file and runs with
// node: socket.io-client 2.x, the client of older apps (Engine.IO v3, Socket.IO protocol v4).
// A scenario fails by throwing (node exits non-zero and its stderr becomes the test failure).
import io from "socket.io-client";

export { io };

/** The gateway under test, e.g. http://127.0.0.1:41234. */
export const URL = process.env.GATEWAY_URL;

const sockets = [];

/**
 * Opens a socket to `path` (a namespace) on a connection of its own (forceNew), with the client's defaults
 * overridden by `opts`; closed at the end.
 */
export function connect(path = "/", opts = {}) {
  const socket = io(URL + path, { reconnection: false, forceNew: true, ...opts });
  sockets.push(socket);
  return socket;
}

/** Resolves with the arguments of the next `event` (an array), or fails after `ms`. */
export function once(emitter, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms);
    emitter.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

/** Emits `event` with `args` and an acknowledgement callback; resolves with the acknowledgement's arguments (an array). */
export function ack(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no acknowledgement of '${event}' within 5000 ms`)), 5000);
    socket.emit(event, ...args, (...response) => {
      clearTimeout(timer);
      resolve(response);
    });
  });
}

/** Resolves once `socket` is connected; fails with the connect_error or error (a namespace refusal) otherwise. */
export function connected(socket, ms = 5000) {
  if (socket.connected) return Promise.resolve(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not connected within ${ms} ms`)), ms);
    socket.once("connect", () => { clearTimeout(timer); resolve(socket); });
    socket.once("connect_error", (err) => { clearTimeout(timer); reject(new Error(`connect_error: ${err.message}`)); });
    socket.once("error", (err) => { clearTimeout(timer); reject(new Error(`error: ${JSON.stringify(err)}`)); });
  });
}

/** Records every `event` a socket receives, in order. */
export function record(socket, event) {
  const received = [];
  socket.on(event, (...args) => received.push(args.length === 1 ? args[0] : args));
  return received;
}

/** Asserts that `actual` and `expected` have the same JSON. */
export function eq(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

export function assert(condition, what) {
  if (!condition) throw new Error(`assertion failed: ${what}`);
}

/** The bytes of a binary value as received by the client (Buffer in node). */
export function bytes(value, what) {
  if (Buffer.isBuffer(value)) return [...value];
  if (value instanceof ArrayBuffer) return [...new Uint8Array(value)];
  if (ArrayBuffer.isView(value)) return [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)];
  throw new Error(`${what}: expected binary, got ${JSON.stringify(value)}`);
}

/** The transport a socket's connection uses now: "polling" or "websocket". */
export function transport(socket) {
  return socket.io.engine.transport.name;
}

/** Ends the scenario: closes every socket and exits 0. */
export function done() {
  for (const socket of sockets) socket.close();
  process.exit(0);
}

// A scenario that waits forever must not hang the test run.
setTimeout(() => {
  console.error("scenario timed out");
  process.exit(3);
}, Number(process.env.SCENARIO_TIMEOUT_MS ?? 15000)).unref();
