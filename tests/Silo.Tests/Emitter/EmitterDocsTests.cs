using OrleansRooms.Emitter;
using OrleansRooms.Grains;
using OrleansRooms.Silo.Tests.Compatibility;

namespace OrleansRooms.Silo.Tests.Emitter;

/// <summary>The C# samples of <c>docs/emitter.md</c>, run against a redis-server and a gateway's subscription.</summary>
public sealed class EmitterDocsTests(EmitterFixture fixture) : IClassFixture<EmitterFixture>
{
    [Fact]
    public async Task The_same_operations_in_the_same_words()
    {
        await using var capture = await fixture.SubscribeAsync();
        var options = new SocketIOEmitterOptions();
        options.Redis.Endpoints.Add(fixture.Server.Endpoint);
        await using var emitter = new SocketIOEmitter(options);

        await emitter.To("room1").EmitAsync("hello");
        await emitter.To("room1").To("room2").EmitAsync("hello");
        await emitter.Except("room3").EmitAsync("hello");
        await emitter.Of("/admin").EmitAsync("hello");
        await emitter.Volatile.EmitAsync("tick");
        await emitter.EmitAsync("file", new byte[] { 1, 2, 3 });
        await emitter.In("room1").SocketsJoinAsync("room2", "room3");
        await emitter.In("room1").SocketsLeaveAsync("room2");
        await emitter.In("room1").DisconnectSocketsAsync(close: true);
        await emitter.ServerSideEmitAsync("hello", "world");

        var received = new List<ClusterMessage>();
        for (int i = 0; i < 10; i++)
        {
            received.Add(await capture.NextAsync());
        }

        Assert.Equal(
            [ClusterMessageType.Broadcast, ClusterMessageType.Broadcast, ClusterMessageType.Broadcast, ClusterMessageType.Broadcast,
             ClusterMessageType.Broadcast, ClusterMessageType.Broadcast, ClusterMessageType.SocketsJoin, ClusterMessageType.SocketsLeave,
             ClusterMessageType.DisconnectSockets, ClusterMessageType.ServerSideEmit],
            received.Select(m => m.Type));
        Assert.Equal(["room1", "room2"], received[1].Rooms);
        Assert.Equal(["room3"], received[2].Except);
        Assert.Equal("/admin", received[3].Namespace);
        Assert.Equal(ClusterMessageFlags.Volatile, received[4].Flags);
        Assert.Single(received[5].Attachments);
        Assert.Equal(ClusterMessageFlags.Close, received[8].Flags);
    }

    [Fact]
    public async Task The_official_example_emits_time_every_five_seconds()
    {
        await using var capture = await fixture.SubscribeAsync();
        // The page's example, with its interval shortened and stopped after two ticks.
        await OfficialEmitter.RunAsync(fixture.Server, """
            await new Promise((resolve) => {
              let ticks = 0;
              const timer = setInterval(() => {
                emitter.emit("time", new Date);
                if (++ticks === 2) { clearInterval(timer); resolve(); }
              }, 50);
            });
            """);

        for (int i = 0; i < 2; i++)
        {
            var message = await capture.NextAsync();
            Assert.Matches("""^\["time","\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"\]$""", System.Text.Encoding.UTF8.GetString(message.Data.Span));
        }
    }
}
