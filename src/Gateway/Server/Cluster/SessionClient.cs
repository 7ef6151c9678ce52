using System.Collections.Immutable;
using OrleansRooms.Grains.Sessions;
using OrleansRooms.Grains.Silos;

namespace OrleansRooms.Cluster;

/// <summary>
/// The gateway's side of its sockets' sessions (<see cref="ISocketGrain"/>). Calls that fail for a reason that passes
/// are retried within the bound (<see cref="ClusterRetry"/>); a session lost with its silo is restored from this
/// gateway's table, which holds exactly what the session had accepted, and the call made again. A socket's changes go
/// through its own queue (<see cref="Socket"/>), so the session sees them in the order they were made.
/// </summary>
internal sealed class SessionClient(GatewayCluster cluster)
{
    /// <summary>Starts the session of a new socket; records the silo it lives on.</summary>
    public async Task ConnectAsync(Socket socket)
    {
        var grain = socket.Session;
        Placed(socket, await cluster.Retry.RunAsync(static s => s.grain.ConnectAsync(s.Self), (grain, cluster.Self)).ConfigureAwait(false));
    }

    /// <summary>Starts the session of a new socket that its client may recover with <paramref name="secret"/>.</summary>
    public async Task ConnectAsync(Socket socket, ReadOnlyMemory<byte> secret)
    {
        var grain = socket.Session;
        Placed(socket, await cluster.Retry.RunAsync(static s => s.grain.ConnectAsync(s.Self, s.secret), (grain, cluster.Self, secret)).ConfigureAwait(false));
    }

    /// <summary>Suspends the session of a socket whose client may come back; <paramref name="rooms"/> are the rooms this gateway knew it in.</summary>
    public Task SuspendAsync(Socket socket, ImmutableArray<string> rooms, ReadOnlyMemory<byte> data) =>
        cluster.Retry.RunAsync(static s => s.Session.SuspendAsync(s.Self, s.rooms, s.data), (socket.Session, cluster.Self, rooms, data));

    /// <summary>Hands the socket's data to its session, which gives it back if the socket is recovered after its gateway died.</summary>
    public Task SaveDataAsync(Socket socket) =>
        cluster.Retry.RunAsync(static s => s.Session.SaveDataAsync(s.Self, s.data), (socket.Session, cluster.Self, data: socket.DataJson()));

    /// <summary>Joins <paramref name="rooms"/>: all of them, or none and an exception.</summary>
    public Task JoinAsync(Socket socket, string[] rooms) => ChangeAsync(socket, rooms, join: true);

    /// <summary>Leaves <paramref name="rooms"/>: all of them, or none and an exception.</summary>
    public Task LeaveAsync(Socket socket, string[] rooms) => ChangeAsync(socket, rooms, join: false);

    /// <summary>Ends the session; <paramref name="rooms"/> are the rooms this gateway knew it in.</summary>
    public Task DisconnectAsync(Socket socket, ImmutableArray<string> rooms) =>
        cluster.Retry.RunAsync(static s => s.Session.DisconnectAsync(s.Self, s.rooms), (socket.Session, cluster.Self, rooms));

    /// <summary>Restores the session of <paramref name="socket"/>, lost with its silo, from this gateway's table.</summary>
    public async Task RestoreAsync(Socket socket)
    {
        var rooms = socket.CachedRooms();
        var reconcile = socket.TakeUncertain();
        try
        {
            var secret = socket.Pid is { } pid && Grains.Recovery.SessionToken.TryParse(pid, out var token) ? token.Secret : default;
            Placed(socket, await cluster.Retry.RunAsync(
                static s => s.Session.RestoreAsync(s.Self, s.rooms, s.reconcile, s.secret),
                (socket.Session, cluster.Self, rooms, reconcile, secret)).ConfigureAwait(false));
        }
        catch
        {
            socket.AddUncertain(reconcile);
            throw;
        }
    }

    /// <summary>Records the silo <paramref name="socket"/>'s session lives on; restored at once if that silo is already dead.</summary>
    public void Placed(Socket socket, SiloAddress silo)
    {
        socket.SessionSilo = silo;
        if (cluster.Membership.CurrentSnapshot.GetSiloStatus(silo) == SiloStatus.Dead)
        {
            cluster.SessionLost?.Invoke(socket);
        }
    }

    private async Task ChangeAsync(Socket socket, string[] rooms, bool join)
    {
        var list = ImmutableArray.Create(rooms);
        var reconcile = socket.TakeUncertain();
        try
        {
            // A session lost with its silo answers NotConnected from a fresh activation: restore it, then go on.
            for (var attempt = 0; ; attempt++)
            {
                var answer = await cluster.Retry.RunAsync(
                    static s => s.join ? s.Session.JoinAsync(s.Self, s.list, s.reconcile) : s.Session.LeaveAsync(s.Self, s.list, s.reconcile),
                    (socket.Session, cluster.Self, list, reconcile, join)).ConfigureAwait(false);
                switch (answer)
                {
                    case SessionAnswer.Done:
                        return;
                    case SessionAnswer.NotConnected when attempt == 0:
                        await RestoreAsync(socket).ConfigureAwait(false);
                        reconcile = [];
                        continue;
                    default:
                        throw new RoomMembershipException($"The session of socket {socket.Id} is not connected through this gateway ({answer}).");
                }
            }
        }
        catch
        {
            // What the grains hold of these rooms is uncertain now: the next call to the session writes them again.
            socket.Server.Metrics.ClusterFailure();
            socket.AddUncertain(reconcile);
            socket.AddUncertain(list);
            throw;
        }
    }
}
