// The benchmark's tiny application on the official socket.io 4.8 server: namespace "/", join(room, ack),
// leave(room, ack), pub(room, payload) broadcasting "msg" to the room. WebSocket only, per-message deflate off.
// Usage: node server.mjs --port 5002 [--redis 127.0.0.1:6379]
import { createServer } from "node:http";
import { Server } from "socket.io";

const arg = (name) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : undefined; };
const port = Number(arg("--port") ?? 5002);
const redis = arg("--redis");

const httpServer = createServer();
const io = new Server(httpServer, { transports: ["websocket"], perMessageDeflate: false });

if (redis) {
  const { createClient } = await import("redis");
  const { createAdapter } = await import("@socket.io/redis-adapter");
  const pub = createClient({ url: `redis://${redis}` });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub));
}

io.on("connection", (socket) => {
  socket.on("join", async (room, ack) => { await socket.join(room); ack?.(); });
  socket.on("leave", async (room, ack) => { await socket.leave(room); ack?.(); });
  socket.on("pub", (room, payload) => io.to(room).emit("msg", payload));
});

httpServer.listen(port, "127.0.0.1", () => console.log(`listening ${port}`));
