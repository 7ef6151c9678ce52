using System.Diagnostics;
using OrleansRooms.Specification;

namespace OrleansRooms.Tests.SocketIO;

/// <summary>The tests that listen to the gateway's activity source, one after the other: a listener is process-wide.</summary>
[CollectionDefinition(Name)]
public sealed class GatewayActivitySourceCollection
{
    public const string Name = "OrleansRooms.Gateway activity source";
}

/// <summary>The gateway's spans cost nothing until something listens to <c>OrleansRooms.Gateway</c>. Real sockets on loopback.</summary>
[Collection(GatewayActivitySourceCollection.Name)]
public sealed class TracingTests : IAsyncLifetime
{
    private const string Source = "OrleansRooms.Gateway";
    private GatewayNode _node = null!;

    public async Task InitializeAsync() => _node = await GatewayNode.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Spans_start_only_while_something_listens_to_the_gateway_source()
    {
        // What the handler runs in: the gateway's event span, or nothing of the gateway's.
        _node.Io.OnConnection(socket => socket.On("probe", e => e.Ack(
            Activity.Current is { } current && current.Source.Name == Source ? current.OperationName : "none")));
        using var other = Listen("OrleansRooms.Tests.Other");
        await using var client = await TestClient.ConnectAsync(_node.Url);

        Assert.Equal("none", (await client.EmitWithAckAsync("probe"))[0].GetString());

        using var gateway = Listen(Source);
        Assert.Equal("socketio.event", (await client.EmitWithAckAsync("probe"))[0].GetString());
    }

    private static ActivityListener Listen(string source)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
