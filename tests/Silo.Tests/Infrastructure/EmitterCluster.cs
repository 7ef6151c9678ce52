using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Infrastructure;

/// <summary>
/// Three gateways on an Orleans test cluster, listening to the official emitter's channels of a real redis-server: the
/// world the emitter tests run in. Shared by the tests of the <see cref="EmitterCollection"/> (which run one after
/// the other); each test uses its own rooms and clients.
/// </summary>
public sealed class EmitterCluster : IAsyncLifetime
{
    public RedisServer Redis { get; private set; } = null!;

    public OrleansGatewayCluster Cluster { get; private set; } = null!;

    public IReadOnlyList<GatewayNode> Gateways => Cluster.Gateways;

    public async Task InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Cluster = new OrleansGatewayCluster(gateways: 3) { EmitterRedis = Redis.ConnectionString };
        await Cluster.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Redis.DisposeAsync();
    }

    /// <summary>Connects a client to gateway <paramref name="gateway"/> and returns it with its socket there.</summary>
    public async Task<(TestClient Client, Socket Socket)> ConnectAsync(int gateway, string @namespace = "/")
    {
        var node = Gateways[gateway];
        var nsp = node.Io.Of(@namespace);
        var client = await TestClient.ConnectAsync(node.Url, @namespace);
        return (client, nsp.Sockets[client.Id]);
    }

    /// <summary>One client on each gateway, each in <paramref name="rooms"/>.</summary>
    public async Task<Clients> ConnectEverywhereAsync(string @namespace = "/", params string[] rooms)
    {
        var clients = new Clients();
        for (var i = 0; i < Gateways.Count; i++)
        {
            var (client, socket) = await ConnectAsync(i, @namespace);
            clients.Add(client, socket);
            if (rooms.Length > 0)
            {
                await socket.JoinAsync(rooms);
            }
        }

        return clients;
    }

    /// <summary>A unique room name, so tests sharing the cluster never share a room.</summary>
    public static string Room(string name) => $"{name}-{Guid.NewGuid():N}";

    /// <summary>The environment of a node script that reaches the gateways and the redis-server.</summary>
    public IReadOnlyDictionary<string, string> NodeEnvironment() => new Dictionary<string, string>
    {
        ["GATEWAY_URLS"] = System.Text.Json.JsonSerializer.Serialize(Gateways.Select(g => g.Url.ToString().TrimEnd('/'))),
        ["REDIS_URL"] = $"redis://{Redis.Endpoint}",
    };
}

/// <summary>Clients and their sockets, disposed together.</summary>
public sealed class Clients : IAsyncDisposable
{
    private readonly List<(TestClient Client, Socket Socket)> _all = [];

    public int Count => _all.Count;

    public TestClient this[int index] => _all[index].Client;

    public IEnumerable<TestClient> All => _all.Select(c => c.Client);

    public Socket SocketOf(int index) => _all[index].Socket;

    public void Add(TestClient client, Socket socket) => _all.Add((client, socket));

    public async ValueTask DisposeAsync()
    {
        foreach (var (client, _) in _all)
        {
            await client.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class EmitterCollection : ICollectionFixture<EmitterCluster>
{
    public const string Name = "emitter cluster";
}
