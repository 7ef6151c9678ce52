using OrleansRooms.Conformance.Infrastructure;

namespace OrleansRooms.Conformance;

/// <summary>Binary payloads (Buffer/ArrayBuffer in JavaScript, <c>byte[]</c> in C#), top-level and nested, over both transports.</summary>
public sealed class BinaryTests
{
    [Fact]
    public async Task Binary_payloads_go_both_ways_top_level_and_nested()
    {
        await using var gateway = await TestGateway.StartAsync(io => io.OnConnection(async socket =>
        {
            socket.On("upload", e =>
            {
                var raw = e.Get<byte[]>(0)!;
                var file = e.Get<FileUpload>(1)!;
                e.Ack(new
                {
                    reversed = raw.Reverse().ToArray(),
                    name = file.Name,
                    parts = file.Parts.Select(p => string.Join(",", p)).ToArray(),
                    nested = new { inner = new { data = new byte[] { 9, 8 } } },
                });
            });
            await socket.EmitAsync("download", new byte[] { 0, 255, 1 }, new { label = "blobs", blobs = new[] { new byte[] { 7 }, new byte[] { 6, 5 } } });
        }));

        await NodeScenario.RunAsync(gateway.Url, """
            for (const transports of [["polling"], ["websocket"]]) {
              const socket = connect("/", { transports });
              const download = once(socket, "download");
              await connected(socket);

              const [raw, doc] = await download;
              eq(bytes(raw, "raw"), [0, 255, 1], `${transports}: top-level binary from the server`);
              eq(doc.label, "blobs", `${transports}: label`);
              eq(doc.blobs.map((b) => bytes(b, "blob")), [[7], [6, 5]], `${transports}: nested binary from the server`);

              const [res] = await ack(socket, "upload", Buffer.from([1, 2, 3]),
                { name: "f.bin", parts: [new Uint8Array([4, 5]).buffer, Buffer.from([6])] });
              eq(bytes(res.reversed, "reversed"), [3, 2, 1], `${transports}: top-level binary read by the server`);
              eq(res.name, "f.bin", `${transports}: name`);
              eq(res.parts, ["4,5", "6"], `${transports}: nested binary read by the server`);
              eq(bytes(res.nested.inner.data, "nested"), [9, 8], `${transports}: binary in an acknowledgement`);
              socket.disconnect();
            }
            """);
    }

    private sealed record FileUpload(string Name, byte[][] Parts);
}
