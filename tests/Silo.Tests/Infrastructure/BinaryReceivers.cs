namespace OrleansRooms.Silo.Tests.Infrastructure;

/// <summary>
/// A node script with the official <c>socket.io-client</c>: one socket on each gateway (<c>GATEWAY_URLS</c>), each
/// waiting for a <c>file</c> event <c>(raw, {name, parts: [...]})</c>; it prints, one line per socket, the bytes it
/// received, and fails when a value that should be binary is not (a Buffer or an ArrayBuffer in node).
/// </summary>
internal static class BinaryReceivers
{
    /// <summary>The script, with <paramref name="trigger"/> run once every socket is connected and listening.</summary>
    public static string Script(string trigger) => $$"""
        import { io } from "socket.io-client";
        const deadline = setTimeout(() => { console.error("no file within 15 s"); process.exit(2); }, 15000);
        const sockets = JSON.parse(process.env.GATEWAY_URLS).map((url) => io(url, { transports: ["websocket"], reconnection: false }));
        await Promise.all(sockets.map((s) => new Promise((resolve, reject) => { s.once("connect", resolve); s.once("connect_error", reject); })));
        const files = sockets.map((s) => new Promise((resolve) => s.once("file", (...args) => resolve(args))));
        const bytes = (value) => {
          if (value instanceof ArrayBuffer) return Array.from(new Uint8Array(value));
          if (ArrayBuffer.isView(value)) return Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
          throw new Error("not binary: " + JSON.stringify(value));
        };
        {{trigger}}
        for (const [raw, doc] of await Promise.all(files)) {
          console.log(JSON.stringify({ raw: bytes(raw), name: doc.name, parts: doc.parts.map(bytes) }));
        }
        clearTimeout(deadline);
        sockets.forEach((s) => s.close());
        """;

    /// <summary>What each socket prints when it received <c>([1, 2, 3], {name: "f", parts: [[4], [5, 6]]})</c>.</summary>
    public const string Expected = """{"raw":[1,2,3],"name":"f","parts":[[4],[5,6]]}""";
}
