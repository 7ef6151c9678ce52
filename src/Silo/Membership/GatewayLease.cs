using System.Security.Cryptography;
using OrleansRooms.Silo.Grains;
using OrleansRooms.Silo.Hosting;
using OrleansRooms.Silo.Redis;

namespace OrleansRooms.Silo.Membership;

/// <summary>
/// A gateway's liveness and recovery. Every heartbeat renews the lease (<c>ZADD P:gateways</c>, on Redis's clock),
/// checks <c>P:epoch</c>, and reaps the gateways whose lease expired. When Redis lost data (epoch missing or changed,
/// own lease gone) or a connection came back, the gateway re-publishes its local state and removes what Redis holds
/// for it that the local tables no longer have.
/// </summary>
internal sealed class GatewayLease(RedisRoomGrainFactory gateway) : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _recovering = new(1, 1);
    private string? _epoch;
    private Task? _loop;
    private volatile string? _recoveryReason;
    private int _recoveryScheduled;
    private long _lastSuccess; // TimeProvider timestamp of the last successful heartbeat
    private volatile string? _lastError;

    private RedisRoomGrainFactory Gateway => gateway;

    private ClusterKeys Keys => gateway.Keys;

    /// <summary>How long since the last successful heartbeat, or null before the first one.</summary>
    public TimeSpan? SinceLastHeartbeat => Interlocked.Read(ref _lastSuccess) is var last && last == 0 ? null : gateway.TimeProvider.GetElapsedTime(last);

    /// <summary>Why the last heartbeat or recovery failed, or null when the last one succeeded.</summary>
    public string? LastError => _lastError;

    /// <summary>True while a re-publish is owed (requested, or failed and to be retried at the next heartbeat).</summary>
    public bool RecoveryPending => _recoveryReason is not null;

    /// <summary>Registers the lease and the epoch (publishing whatever the tables hold already), then starts the heartbeat.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await RecoverAsync("start", cancellationToken);
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            try
            {
                await _loop;
            }
            catch (OperationCanceledException)
            {
            }
        }

        // Wait for a re-publish in flight, so nothing is written after the clean stop's removal.
        await _recovering.WaitAsync();
        _recovering.Release();
    }

    /// <summary>Asks for a re-publish soon (coalesced: many requests while one runs make one more run).</summary>
    public void RequestRecovery(string reason)
    {
        _recoveryReason ??= reason;
        if (Interlocked.Exchange(ref _recoveryScheduled, 1) == 1 || _stop.IsCancellationRequested)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            Volatile.Write(ref _recoveryScheduled, 0);
            if (_recoveryReason is { } why)
            {
                try
                {
                    await RecoverAsync(why, _stop.Token);
                }
                catch (Exception ex) when (IsRedisFailure(ex) || ex is OperationCanceledException or ObjectDisposedException)
                {
                    // The heartbeat retries while the reason is still set (or the gateway stopped meanwhile).
                }
            }
        });
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(gateway.Options.HeartbeatInterval, gateway.TimeProvider);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            try
            {
                await BeatAsync(cancellationToken);
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                Fail("heartbeat", ex);
            }
        }
    }

    /// <summary>One heartbeat: epoch check, lease renewal, then reaping of expired gateways.</summary>
    internal async Task BeatAsync(CancellationToken cancellationToken)
    {
        var client = gateway.Client;
        var epochRead = client.ExecuteAsync(RedisCommand.WithKey("GET", Keys.Epoch), cancellationToken);
        var renewal = RenewAsync(client, cancellationToken);
        string? epoch = (await epochRead).AsString();
        var (hadLease, expired) = await renewal;
        if (epoch is null || epoch != _epoch)
        {
            _recoveryReason ??= epoch is null ? "epoch missing" : "epoch changed";
        }
        else if (!hadLease)
        {
            _recoveryReason ??= "lease lost";
        }

        if (_recoveryReason is { } reason)
        {
            await RecoverAsync(reason, cancellationToken);
        }
        else
        {
            Succeeded();
        }

        foreach (var dead in expired)
        {
            if (dead != gateway.GatewayId)
            {
                await TryReapAsync(client, dead, cancellationToken);
            }
        }
    }

    private async Task<(bool HadLease, List<string> Expired)> RenewAsync(RedisClient client, CancellationToken cancellationToken)
    {
        long leaseMs = (long)gateway.Options.LeaseDuration.TotalMilliseconds;
        var reply = (await client.EvalAsync(ClusterScripts.Heartbeat, [Keys.Gateways], [gateway.GatewayId, leaseMs], cancellationToken)).AsArray()!;
        var expired = new List<string>(reply.Length - 1);
        for (int i = 1; i < reply.Length; i++)
        {
            expired.Add(reply[i].AsString()!);
        }

        return (reply[0].AsInt64() == 1, expired);
    }

    /// <summary>Reaps a dead gateway under <c>P:reap:{G}</c> (one reaper at a time): its sockets leave every room, then its index and lease go.</summary>
    private async Task TryReapAsync(RedisClient client, string dead, CancellationToken cancellationToken)
    {
        long lockMs = (long)gateway.Options.LeaseDuration.TotalMilliseconds;
        var locked = await client.ExecuteAsync(RedisCommand.WithKey("SET", Keys.Reap(dead), gateway.GatewayId, "NX", "PX", lockMs), cancellationToken);
        if (locked.IsNull)
        {
            return;
        }

        // The dead gateway cannot raise its sockets' room events; the reaper does, once for the cluster.
        int sockets = await gateway.Store.RemoveGatewaySocketsAsync(dead, cancellationToken, gateway.OnReaped);
        // Last, so a gateway that was only stalled finds its lease gone at its next heartbeat and re-publishes.
        await client.ExecuteAsync(RedisCommand.WithKey("ZREM", Keys.Gateways, dead), cancellationToken);
        gateway.Metrics.Reaped(sockets);
        ClusterLog.Reaped(gateway.Logger, dead, sockets);
    }

    /// <summary>
    /// Re-publishes every activated namespace's local state (idempotent joins), then removes from Redis what this gateway
    /// no longer has: sockets gone, and rooms left while Redis was unreachable. One at a time.
    /// </summary>
    internal async Task RecoverAsync(string reason, CancellationToken cancellationToken)
    {
        await _recovering.WaitAsync(cancellationToken);
        try
        {
            // Cleared before reading the tables: a request arriving during this run makes another run.
            _recoveryReason = null;
            var client = gateway.Client;
            await client.ExecuteAsync(RedisCommand.WithKey("SET", Keys.Epoch, NewEpoch(), "NX"), cancellationToken);
            var epoch = (await client.ExecuteAsync(RedisCommand.WithKey("GET", Keys.Epoch), cancellationToken)).AsString();
            await RenewAsync(client, cancellationToken);
            int sockets = 0;
            foreach (var grains in gateway.Namespaces)
            {
                sockets += await RepublishAsync(grains, cancellationToken);
            }

            int stale = await RemoveStaleSocketsAsync(client, cancellationToken);
            _epoch = epoch;
            if (reason != "start")
            {
                gateway.Metrics.Republished();
                ClusterLog.Republished(gateway.Logger, gateway.GatewayId, reason, sockets, stale);
            }

            Succeeded();
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            _recoveryReason ??= reason;
            Fail("republish", ex);
            throw;
        }
        finally
        {
            _recovering.Release();
        }
    }

    private async Task<int> RepublishAsync(RedisNamespaceGrains grains, CancellationToken cancellationToken)
    {
        const int Batch = 256;
        var sids = grains.Table.SnapshotSids();
        var tasks = new List<Task>(Math.Min(Batch, sids.Count));
        foreach (var (socketId, rooms) in sids)
        {
            tasks.Add(SyncSocketAsync(grains, socketId, rooms, cancellationToken));
            if (tasks.Count == Batch)
            {
                await Task.WhenAll(tasks);
                tasks.Clear();
            }
        }

        await Task.WhenAll(tasks);
        return sids.Count;
    }

    private async Task SyncSocketAsync(RedisNamespaceGrains grains, string socketId, IReadOnlySet<string> rooms, CancellationToken cancellationToken)
    {
        var store = gateway.Store;
        await store.JoinAsync(grains.Namespace, socketId, [.. rooms], gateway.GatewayId, cancellationToken);
        var inRedis = await store.GetRoomsAsync(grains.Namespace, socketId, cancellationToken);
        // Compare with the table as it is now, not the snapshot: a join or leave since then has written Redis itself.
        var current = grains.Table.GetRooms(socketId);
        if (current.Count == 0)
        {
            return; // Disconnected meanwhile: the index pass below removes it.
        }

        var left = inRedis.Where(room => !current.Contains(room)).ToList();
        if (left.Count > 0)
        {
            await store.LeaveAsync(grains.Namespace, socketId, left, cancellationToken);
        }
    }

    /// <summary>Entries of this gateway's index whose socket is no longer in its namespace's table (or whose namespace is gone).</summary>
    private async Task<int> RemoveStaleSocketsAsync(RedisClient client, CancellationToken cancellationToken)
    {
        var store = gateway.Store;
        var entries = await store.GetSetAsync(RedisCommand.WithKey("SMEMBERS", Keys.GatewaySockets(gateway.GatewayId)), cancellationToken);
        var namespaces = gateway.Namespaces.ToDictionary(n => n.Namespace, StringComparer.Ordinal);
        var removals = new List<Task>();
        foreach (var entry in entries)
        {
            if (!ClusterKeys.TryParseIndexEntry(entry, out var ns, out var socketId))
            {
                removals.Add(client.ExecuteAsync(RedisCommand.WithKey("SREM", Keys.GatewaySockets(gateway.GatewayId), entry), cancellationToken));
                continue;
            }

            if (!namespaces.TryGetValue(ns, out var grains) || grains.Table.GetRooms(socketId).Count == 0)
            {
                removals.Add(store.RemoveSocketAsync(ns, socketId, gateway.GatewayId, cancellationToken));
            }
        }

        await Task.WhenAll(removals);
        return removals.Count;
    }

    private void Succeeded()
    {
        Interlocked.Exchange(ref _lastSuccess, gateway.TimeProvider.GetTimestamp());
        _lastError = null;
    }

    private void Fail(string operation, Exception ex)
    {
        _lastError = ex.Message;
        gateway.Metrics.Failure(operation);
        ClusterLog.OperationFailed(gateway.Logger, operation, ex);
    }

    private static bool IsRedisFailure(Exception ex) =>
        ex is RedisConnectionException or RedisServerException or TimeoutException or InvalidCastException;

    public void Dispose()
    {
        _stop.Dispose();
        _recovering.Dispose();
    }

    private static string NewEpoch() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
}
