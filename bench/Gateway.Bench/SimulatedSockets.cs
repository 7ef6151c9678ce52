using Microsoft.AspNetCore.Http;
using OrleansRooms;
using OrleansRooms.Engine;

/// <summary>One gateway's simulated connection, shared by its sockets: it accepts every packet and writes it nowhere (counting it).</summary>
internal sealed class SimulatedSockets : IEngineConnection
{
    private static long s_writes;
    private readonly SocketIOServer _server;

    private SimulatedSockets(SocketIOServer server)
    {
        _server = server;
        var context = new DefaultHttpContext();
        context.Request.Path = "/socket.io/";
        Request = new EngineRequest(context, DateTimeOffset.UtcNow);
        Request.Detach();
    }

    public static long Writes => Interlocked.Read(ref s_writes);

    public string Id { get; } = "silent";

    public EngineRequest Request { get; }

    public string TransportName => "websocket";

    public static SimulatedSockets For(SocketIOServer server) => new(server);

    /// <summary>Connects one more socket to the main namespace, as a client's CONNECT packet does.</summary>
    public Task ConnectAsync() => _server.Sockets.ConnectAsync(new Client(_server, this), null);

    public bool Send(ReadOnlySpan<EnginePacket> packets)
    {
        Interlocked.Increment(ref s_writes);
        return true;
    }

    public bool TrySendVolatile(ReadOnlySpan<EnginePacket> packets) => Send(packets);

    public void Close()
    {
    }
}
