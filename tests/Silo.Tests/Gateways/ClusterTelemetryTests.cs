using System.Diagnostics;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Silo.Tests.Infrastructure;
using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Gateways;

/// <summary>
/// The spans and histograms of one connect, join and broadcast across two gateways, as an OpenTelemetry exporter would
/// get them from the <c>OrleansRooms.Gateway</c> activity source and meter (docs/observability.md).
/// </summary>
public sealed class ClusterTelemetryTests
{
    private const string Source = "OrleansRooms.Gateway";

    public static TheoryData<string> Deliveries => ["DirectCall", "Streams", "Recovery"];

    [Theory]
    [MemberData(nameof(Deliveries))]
    public async Task A_broadcast_delivered_by_another_gateway_is_in_the_trace_of_the_event_that_emitted_it(string delivery)
    {
        await using var cluster = new OrleansGatewayCluster(gateways: 2, delivery == "Streams" ? GatewayDeliveryMode.Streams : GatewayDeliveryMode.DirectCall)
        {
            Settings = delivery == "Recovery"
                ? new Dictionary<string, string> { ["SocketIO:ConnectionStateRecovery:MaxDisconnectionDuration"] = "00:02:00" }
                : new Dictionary<string, string>(),
        };
        await cluster.StartAsync();
        var (first, second) = (cluster.Gateways[0], cluster.Gateways[1]);
        using var spans = new SpanCollector(Source);
        using var firstMeasurements = new MeasurementCollector(first.Services, Source);
        using var secondMeasurements = new MeasurementCollector(second.Services, Source);

        var joined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        second.Io.OnConnection(async socket =>
        {
            await socket.JoinAsync("room");
            joined.TrySetResult();
        });
        first.Io.OnConnection(socket => socket.On("say", e => socket.To("room").EmitAsync("said", e.Get<string>(0)).AsTask()));

        await using var receiver = await TestClient.ConnectAsync(second.Url);
        await joined.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await using var sender = await TestClient.ConnectAsync(first.Url);
        await sender.EmitAsync("say", "hello");
        Assert.Equal("hello", (await receiver.ExpectEventAsync("said"))[0].GetString());

        // The client's event on the first gateway is the root of the trace; its broadcast is its child.
        var handled = await spans.WaitForAsync("socketio.event", a => Tag(a, "socketio.socket.id") == sender.Id);
        Assert.Equal("say", Tag(handled, "socketio.event.name"));
        Assert.Equal("/", Tag(handled, "socketio.namespace"));
        Assert.Equal(default, handled.ParentSpanId);
        var broadcast = await spans.WaitForAsync("socketio.broadcast", a => a.TraceId == handled.TraceId);
        Assert.Equal(handled.SpanId, broadcast.ParentSpanId);
        Assert.Equal(ActivityKind.Producer, broadcast.Kind);
        Assert.Equal(["room"], (string[])broadcast.GetTagItem("socketio.rooms")!);
        Assert.Equal(0, broadcast.GetTagItem("socketio.broadcast.recipients"));

        // Its delivery on the second gateway: the same trace, the broadcast's child, one socket written to.
        var delivered = await spans.WaitForAsync("socketio.deliver", a => a.TraceId == handled.TraceId);
        Assert.Equal(broadcast.SpanId, delivered.ParentSpanId);
        Assert.Equal(ActivityKind.Consumer, delivered.Kind);
        Assert.Equal(1, delivered.GetTagItem("socketio.broadcast.recipients"));

        // The receiver's connect on the second gateway, and the join its connection handler made, in its own trace.
        var connected = await spans.WaitForAsync("socketio.connect", a => Tag(a, "socketio.socket.id") == receiver.Id);
        var join = await spans.WaitForAsync("socketio.join", a => Tag(a, "socketio.socket.id") == receiver.Id);
        Assert.Equal(connected.TraceId, join.TraceId);
        Assert.Equal(connected.SpanId, join.ParentSpanId);
        Assert.Equal(["room"], (string[])join.GetTagItem("socketio.rooms")!);
        Assert.NotEqual(handled.TraceId, connected.TraceId);

        // The histograms recorded what happened on each gateway.
        Assert.Contains(firstMeasurements.Of("orleansrooms.engine.handshake.duration"), m => m.Value > 0 && (string?)m.Tags["engineio.transport"] == "websocket");
        Assert.Contains(secondMeasurements.Of("orleansrooms.engine.handshake.duration"), m => m.Value > 0);
        Assert.Contains(firstMeasurements.Of("orleansrooms.socketio.event.duration"), m => m.Value > 0);
        Assert.Contains(secondMeasurements.Of("orleansrooms.socketio.room_change.duration"), m => m.Value > 0 && (string?)m.Tags["socketio.room_change"] == "join");
        Assert.Contains(firstMeasurements.Of("orleansrooms.socketio.broadcast.recipients"), m => m.Value == 0);
        Assert.Contains(secondMeasurements.Of("orleansrooms.socketio.broadcast.recipients"), m => m.Value == 1);
        if (delivery != "Recovery")
        {
            Assert.Contains(firstMeasurements.Of("orleansrooms.socketio.broadcast.gateways"), m => m.Value == 1);
            Assert.Equal(1, broadcast.GetTagItem("socketio.broadcast.gateways"));
        }

        secondMeasurements.Collect();
        Assert.Single(secondMeasurements.Of("orleansrooms.engine.send_buffer.usage"), m => m.Value >= 0);
    }

    private static string? Tag(Activity activity, string name) => activity.GetTagItem(name) as string;
}
