// The benchmark's tiny application on the official socket.io 4.8 server running on Bun, bound to @socket.io/bun-engine
// (Bun's own HTTP and WebSocket server instead of engine.io on node:http and ws): namespace "/", join(room, ack),
// leave(room, ack), pub(room, payload) broadcasting "msg" to the room. WebSocket only, per-message deflate off.
// Usage: node_modules/.bin/bun server.mjs --port 5002
import { Server as Engine } from "@socket.io/bun-engine";
import { Server } from "socket.io";

const arg = (name) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : undefined; };
const port = Number(arg("--port") ?? 5002);

// The engine has no `transports` option: refusing every request that is not a WebSocket upgrade makes it
// WebSocket only, as the other servers are.
const engine = new Engine({
  path: "/socket.io/",
  allowRequest: (req) => (req.headers.has("upgrade") ? Promise.resolve() : Promise.reject("WebSocket only")),
});
const io = new Server();
io.bind(engine);

io.on("connection", (socket) => {
  socket.on("join", async (room, ack) => { await socket.join(room); ack?.(); });
  socket.on("leave", async (room, ack) => { await socket.leave(room); ack?.(); });
  socket.on("pub", (room, payload) => io.to(room).emit("msg", payload));
});

const handler = engine.handler();
Bun.serve({
  ...handler,
  hostname: "127.0.0.1",
  port,
  websocket: { ...handler.websocket, perMessageDeflate: false },
});
console.log(`listening ${port}`);
