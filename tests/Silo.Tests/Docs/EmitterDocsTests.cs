using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansRooms.Silo.Emitter;
using OrleansRooms.Silo.Tests.Infrastructure;
using OrleansRooms.Specification;

namespace OrleansRooms.Silo.Tests.Docs;

/// <summary>
/// The samples of <c>docs/emitter.md</c>, run against three gateways: the JavaScript ones as the page writes them (read
/// from the page), the C# ones as copied here (<see cref="EmitterDocsPageTests"/> checks that they are the page's).
/// </summary>
[Collection(EmitterCollection.Name)]
public sealed class EmitterDocsTests(EmitterCluster world)
{
    [Fact]
    public async Task The_official_emitter_example_emits_the_time_to_every_socket()
    {
        await using var clients = await world.ConnectEverywhereAsync();
        var example = EmitterDocsPageTests.Blocks("js")[0].Replace("redis://localhost:6379", $"redis://{world.Redis.Endpoint}", StringComparison.Ordinal);

        await NodeCompat.RunScriptAsync(example + "\nawait redisClient.quit();\n");

        foreach (var client in clients.All)
        {
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", (await client.ExpectEventAsync("time"))[0].GetString());
        }
    }

    [Fact]
    public async Task Everything_the_official_emitter_offers_works()
    {
        await using var observers = await ObserversAsync();
        var serverSide = ServerSideHandlers();

        await OfficialEmitter.RunAsync(world.Redis, EmitterDocsPageTests.Blocks("js")[1]);
        await OfficialEmitter.RunAsync(world.Redis, """
            emitter.emit("marker");
            emitter.of("/admin").emit("marker");
            """);

        await observers.CheckAsync(await Task.WhenAll(serverSide).WaitAsync(TestClient.DefaultWait));
    }

    [Fact]
    public async Task A_process_that_is_an_Orleans_client_emits_with_AddSocketIOEmitter()
    {
        await using var clients = await world.ConnectEverywhereAsync();
        var orleans = world.Cluster.Orleans;
        string[] args =
        [
            $"--Orleans:ClusterId={orleans.Options.ClusterId}",
            $"--Orleans:ServiceId={orleans.Options.ServiceId}",
            "--Orleans:Clustering:ProviderType=Static",
            .. orleans.Silos.Select((silo, i) => $"--Orleans:Clustering:Gateways:{i}={silo.GatewayAddress.Endpoint}"),
        ];

        // docs/emitter.md: The C# emitter
        var builder = Host.CreateApplicationBuilder(args);
        // The cluster's Orleans:ClusterId, Orleans:ServiceId and Orleans:Clustering settings, as the gateways have them: for
        // instance Orleans__Clustering__ProviderType=Redis and Orleans__Clustering__ConnectionString=redis:6379.
        builder.UseOrleansClient();
        builder.Services.AddSocketIOEmitter();
        using var host = builder.Build();
        await host.StartAsync();

        var emitter = host.Services.GetRequiredService<SocketIOEmitter>();
        await emitter.EmitAsync("time", DateTimeOffset.UtcNow);

        foreach (var client in clients.All)
        {
            Assert.True(DateTimeOffset.TryParse((await client.ExpectEventAsync("time"))[0].GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));
        }

        await host.StopAsync();
    }

    [Fact]
    public async Task The_same_operations_in_the_same_words()
    {
        await using var observers = await ObserversAsync();
        var serverSide = ServerSideHandlers();
        var emitter = new SocketIOEmitter(world.Cluster.Orleans.Client);

        // docs/emitter.md: The C# emitter (operations)
        await emitter.To("room1").EmitAsync("hello");
        await emitter.To("room1").To("room2").EmitAsync("hello");
        await emitter.Except("room3").EmitAsync("hello");
        await emitter.Of("/admin").EmitAsync("hello");
        await emitter.Volatile.EmitAsync("tick");
        await emitter.EmitAsync("file", new byte[] { 1, 2, 3 });
        await emitter.In("room1").SocketsJoinAsync(["room2", "room3"]);
        await emitter.In("room1").SocketsLeaveAsync("room2");
        await emitter.In("room1").DisconnectSocketsAsync(close: true);
        await emitter.ServerSideEmitAsync("hello", "world");

        await emitter.EmitAsync("marker");
        await emitter.Of("/admin").EmitAsync("marker");
        await observers.CheckAsync(await Task.WhenAll(serverSide).WaitAsync(TestClient.DefaultWait));
    }

    /// <summary>
    /// A socket in room1 (gateway 0), one in room2 (gateway 1), one in room3 (gateway 2), one in /admin (gateway 1):
    /// together they see every operation of the page's list.
    /// </summary>
    private async Task<Observers> ObserversAsync()
    {
        var (inRoom1, a) = await world.ConnectAsync(0);
        var (inRoom2, b) = await world.ConnectAsync(1);
        var (inRoom3, c) = await world.ConnectAsync(2);
        var (admin, _) = await world.ConnectAsync(1, "/admin");
        await a.JoinAsync("room1");
        await b.JoinAsync("room2");
        await c.JoinAsync("room3");
        return new Observers(inRoom1, inRoom2, inRoom3, admin);
    }

    private List<Task<ServerSideEvent>> ServerSideHandlers() => [.. world.Gateways.Select(gateway =>
    {
        var done = new TaskCompletionSource<ServerSideEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        gateway.Io.Of("/").OnServerSideEmit("hello", e => done.TrySetResult(e));
        return done.Task;
    })];

    private sealed record Observers(TestClient InRoom1, TestClient InRoom2, TestClient InRoom3, TestClient Admin) : IAsyncDisposable
    {
        /// <summary>
        /// What each socket must have seen, in order, and every gateway's server-side handler. The volatile <c>tick</c>
        /// may be dropped for a socket whose connection is busy writing, as volatile events are: it is left out.
        /// </summary>
        public async Task CheckAsync(ServerSideEvent[] serverSide)
        {
            // room1: its emit, the union, the except (it is not in room3 yet); then it is disconnected.
            Assert.Equal(["hello", "hello", "hello"], await NamesAsync(InRoom1, until: null));
            Assert.Equal(["hello", "hello"], await NamesAsync(InRoom2, until: "marker"));
            Assert.Empty(await NamesAsync(InRoom3, until: "marker"));
            Assert.Equal(["hello"], await NamesAsync(Admin, until: "marker"));
            Assert.All(serverSide, e => Assert.Equal("world", e.Get<string>(0)));
        }

        /// <summary>The events a client receives before <paramref name="until"/> (or before it is closed), ticks aside.</summary>
        private static async Task<List<string>> NamesAsync(TestClient client, string? until)
        {
            var names = new List<string>();
            while (true)
            {
                ReceivedEvent next;
                try
                {
                    next = await client.NextEventAsync();
                }
                catch (System.Threading.Channels.ChannelClosedException) when (until is null)
                {
                    return names;
                }

                if (next.Name == until)
                {
                    return names;
                }

                if (next.Name != "tick")
                {
                    names.Add(next.Name);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var client in new[] { InRoom1, InRoom2, InRoom3, Admin })
            {
                await client.DisposeAsync();
            }
        }
    }
}
