using OrleansRooms.Conformance.Infrastructure;
using SocketIOClient.Transport;
using Client = SocketIOClient.SocketIO;
using ClientOptions = SocketIOClient.SocketIOOptions;

namespace OrleansRooms.Conformance;

/// <summary>The .NET <c>SocketIOClient</c> package talks to the gateway too.</summary>
public sealed class DotNetClientTests
{
    [Theory]
    [InlineData(TransportProtocol.WebSocket)]
    [InlineData(TransportProtocol.Polling)]
    public async Task SocketIOClient_connects_and_exchanges_events_with_acks(TransportProtocol transport)
    {
        var received = Signal.Create<string>();
        await using var gateway = await TestGateway.StartAsync(io => io.OnConnection(async socket =>
        {
            socket.On("sum", e =>
            {
                received.TrySetResult(e.Arguments.ToString());
                e.Ack(e.Get<int>(0) + e.Get<int>(1));
            });
            await socket.EmitAsync("greeting", "hello", socket.Id);
        }));

        using var client = new Client(gateway.Url, new ClientOptions
        {
            EIO = 4,
            Transport = transport,
            AutoUpgrade = false,
            Reconnection = false,
            ConnectionTimeout = Signal.Timeout,
        });
        var greeting = Signal.Create<(string?, string?)>();
        var connected = Signal.Create<bool>();
        client.On("greeting", r => greeting.TrySetResult((r.GetValue<string>(0), r.GetValue<string>(1))));
        client.OnConnected += (_, _) => connected.TrySetResult(true);
        client.OnError += (_, error) => connected.TrySetException(new InvalidOperationException(error));
        await client.ConnectAsync();

        Assert.True(await connected.Within());
        Assert.Equal(("hello", client.Id), await greeting.Within());

        var sum = Signal.Create<int>();
        await client.EmitAsync("sum", r => sum.TrySetResult(r.GetValue<int>(0)), 2, 3);
        Assert.Equal(5, await sum.Within());
        Assert.Equal("[2,3]", await received.Within());

        await client.DisconnectAsync();
    }
}
