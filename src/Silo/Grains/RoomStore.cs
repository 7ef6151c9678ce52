using OrleansRooms.Silo.Redis;

namespace OrleansRooms.Silo.Grains;

/// <summary>
/// The grains' writes and reads on Redis, shared by the socket grain, the reaper and the re-publish. The commands of one
/// operation go to different slots (each room, the socket, the gateway index), so they are issued together and awaited
/// together: the client pipelines them on its connections, one round trip per node.
/// </summary>
/// <summary>Rooms a removed socket left, and those of them that became empty.</summary>
internal delegate void RemovedSocketHandler(string ns, string socketId, IReadOnlyList<string> left, IReadOnlyList<string> emptied);

internal sealed class RoomStore(Func<RedisClient> client, ClusterKeys keys)
{
    public ClusterKeys Keys { get; } = keys;

    private RedisClient Client => client();

    /// <summary>Both halves of a join: each room's script, the socket's set, and the gateway index (idempotent).</summary>
    public Task JoinAsync(string ns, string socketId, IReadOnlyList<string> rooms, string gatewayId, CancellationToken cancellationToken)
    {
        if (rooms.Count == 0)
        {
            return Task.CompletedTask;
        }

        var redis = Client;
        var tasks = new Task[rooms.Count + 2];
        for (int i = 0; i < rooms.Count; i++)
        {
            tasks[i] = redis.EvalAsync(ClusterScripts.Join, [Keys.RoomMembers(ns, rooms[i]), Keys.RoomGateways(ns, rooms[i])], [socketId, gatewayId], cancellationToken);
        }

        var add = new RedisCommand("SADD").Key(Keys.Socket(ns, socketId));
        foreach (var room in rooms)
        {
            add.Arg(room);
        }

        tasks[rooms.Count] = redis.ExecuteAsync(add, cancellationToken);
        tasks[rooms.Count + 1] = redis.ExecuteAsync(RedisCommand.WithKey("SADD", Keys.GatewaySockets(gatewayId), ClusterKeys.IndexEntry(ns, socketId)), cancellationToken);
        return Task.WhenAll(tasks);
    }

    /// <summary>Both halves of a leave: each room's script and the socket's set.</summary>
    public Task LeaveAsync(string ns, string socketId, IReadOnlyCollection<string> rooms, CancellationToken cancellationToken)
    {
        if (rooms.Count == 0)
        {
            return Task.CompletedTask;
        }

        var redis = Client;
        var tasks = new List<Task>(rooms.Count + 1);
        var remove = new RedisCommand("SREM").Key(Keys.Socket(ns, socketId));
        foreach (var room in rooms)
        {
            tasks.Add(redis.EvalAsync(ClusterScripts.Leave, [Keys.RoomMembers(ns, room), Keys.RoomGateways(ns, room)], [socketId], cancellationToken));
            remove.Arg(room);
        }

        tasks.Add(redis.ExecuteAsync(remove, cancellationToken));
        return Task.WhenAll(tasks);
    }

    /// <summary>
    /// Removes a socket from every room Redis knows it in, then its set and its entry in <paramref name="gatewayId"/>'s
    /// index. Reads the rooms from Redis: the gateway has already forgotten them (disconnect), or is dead (reaper).
    /// <paramref name="onRemoved"/> is told, once the writes are done, which rooms it left and which became empty.
    /// </summary>
    public async Task RemoveSocketAsync(string ns, string socketId, string gatewayId, CancellationToken cancellationToken, RemovedSocketHandler? onRemoved = null)
    {
        var redis = Client;
        string socketKey = Keys.Socket(ns, socketId);
        var rooms = await GetSetAsync(RedisCommand.WithKey("SMEMBERS", socketKey), cancellationToken);
        var leaves = new Task<RedisReply>[rooms.Count];
        for (int i = 0; i < rooms.Count; i++)
        {
            leaves[i] = redis.EvalAsync(ClusterScripts.Leave, [Keys.RoomMembers(ns, rooms[i]), Keys.RoomGateways(ns, rooms[i])], [socketId], cancellationToken);
        }

        var delete = redis.ExecuteAsync(RedisCommand.WithKey("DEL", socketKey), cancellationToken);
        var unindex = redis.ExecuteAsync(RedisCommand.WithKey("SREM", Keys.GatewaySockets(gatewayId), ClusterKeys.IndexEntry(ns, socketId)), cancellationToken);
        await Task.WhenAll(leaves);
        await Task.WhenAll(delete, unindex);
        if (onRemoved is not null)
        {
            var left = new List<string>(rooms.Count);
            var emptied = new List<string>();
            for (int i = 0; i < rooms.Count; i++)
            {
                long result = leaves[i].Result.AsInt64();
                if (result > 0)
                {
                    left.Add(rooms[i]);
                }

                if (result == 2)
                {
                    emptied.Add(rooms[i]);
                }
            }

            onRemoved(ns, socketId, left, emptied);
        }
    }

    /// <summary>
    /// Removes every socket in a gateway's index (reaping a dead gateway, or a clean stop), in batches so a large
    /// gateway does not queue unbounded commands, then the index itself. Returns how many sockets were removed.
    /// </summary>
    public async Task<int> RemoveGatewaySocketsAsync(string gatewayId, CancellationToken cancellationToken, RemovedSocketHandler? onRemoved = null)
    {
        const int Batch = 256;
        var entries = await GetSetAsync(RedisCommand.WithKey("SMEMBERS", Keys.GatewaySockets(gatewayId)), cancellationToken);
        var tasks = new List<Task>(Math.Min(Batch, entries.Count));
        int removed = 0;
        foreach (var entry in entries)
        {
            if (!ClusterKeys.TryParseIndexEntry(entry, out var ns, out var socketId))
            {
                continue;
            }

            tasks.Add(RemoveSocketAsync(ns, socketId, gatewayId, cancellationToken, onRemoved));
            removed++;
            if (tasks.Count == Batch)
            {
                await Task.WhenAll(tasks);
                tasks.Clear();
            }
        }

        await Task.WhenAll(tasks);
        await Client.ExecuteAsync(RedisCommand.WithKey("DEL", Keys.GatewaySockets(gatewayId)), cancellationToken);
        return removed;
    }

    public Task<List<string>> GetMembersAsync(string ns, string room, CancellationToken cancellationToken) =>
        GetSetAsync(RedisCommand.WithKey("HKEYS", Keys.RoomMembers(ns, room)), cancellationToken);

    public Task<List<string>> GetRoomsAsync(string ns, string socketId, CancellationToken cancellationToken) =>
        GetSetAsync(RedisCommand.WithKey("SMEMBERS", Keys.Socket(ns, socketId)), cancellationToken);

    /// <summary>Every room of a namespace: a SCAN of its member keys on every master (a rare query; no index to keep in step).</summary>
    public async Task<IReadOnlyCollection<string>> GetRoomNamesAsync(string ns, CancellationToken cancellationToken)
    {
        var redis = Client;
        string pattern = Keys.RoomScanPattern(ns);
        var scans = redis.GetMasterEndpoints().Select(async endpoint =>
        {
            var names = new List<string>();
            string cursor = "0";
            do
            {
                var reply = (await redis.ExecuteOnAsync(endpoint, RedisCommand.Create("SCAN", cursor, "MATCH", pattern, "COUNT", 1000), cancellationToken)).AsArray()!;
                cursor = reply[0].AsString()!;
                foreach (var key in reply[1].AsArray()!)
                {
                    if (Keys.RoomOfMembersKey(ns, key.AsString()!) is { } room)
                    {
                        names.Add(room);
                    }
                }
            }
            while (cursor != "0");
            return names;
        });
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var names in await Task.WhenAll(scans))
        {
            result.UnionWith(names);
        }

        return result;
    }

    public async Task<List<string>> GetSetAsync(RedisCommand command, CancellationToken cancellationToken)
    {
        var items = (await Client.ExecuteAsync(command, cancellationToken)).AsArray() ?? [];
        var list = new List<string>(items.Length);
        foreach (var item in items)
        {
            list.Add(item.AsString()!);
        }

        return list;
    }
}
