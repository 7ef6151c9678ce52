using System.Text.Json;
using OrleansRooms.Grains.Recovery;
using OrleansRooms.Grains.Sessions;
using OrleansRooms.Protocol;

namespace OrleansRooms.Recovery;

/// <summary>What a reconnecting client asks to recover with: its private session id and its last offset (Socket.IO puts both in the CONNECT's auth).</summary>
internal readonly record struct RecoveryRequest(string Pid, SessionToken Token, RecoveryVector From)
{
    /// <summary>
    /// Reads <c>pid</c> and <c>offset</c> from a CONNECT's auth. False when there is no pid, or when the pid or the
    /// offset is not one this cluster issued: the client then gets a new session.
    /// </summary>
    public static bool TryRead(JsonElement? auth, out RecoveryRequest request)
    {
        request = default;
        if (auth is not { ValueKind: JsonValueKind.Object } payload
            || !payload.TryGetProperty("pid", out var pid) || pid.ValueKind != JsonValueKind.String
            || !SessionToken.TryParse(pid.GetString(), out var token))
        {
            return false;
        }

        var from = token.Start;
        if (payload.TryGetProperty("offset", out var offset) && offset.ValueKind != JsonValueKind.Undefined && offset.ValueKind != JsonValueKind.Null)
        {
            // A client that received a packet hands back the offset it carried; anything else is no offset of ours.
            if (offset.ValueKind != JsonValueKind.String || !RecoveryVector.TryParseOffset(offset.GetString(), out var last))
            {
                return false;
            }

            from = from.Max(last);
        }

        request = new RecoveryRequest(pid.GetString()!, token, from);
        return true;
    }
}

/// <summary>
/// Recovers a socket for a client that reconnected, through any gateway: asks its session (which lives on in the
/// cluster) for its rooms and data, puts the socket back in this gateway's table with the broadcasts that reach it
/// held back, gets from the session every broadcast it missed up to that moment, then writes those, the CONNECT
/// answer, and what was held back, in that order. Exactly once: what the session replays is up to where this gateway
/// started delivering, what this gateway delivers comes after it. Anything short of that (no such session, a wrong
/// secret, the window over, a packet not kept, the cluster not answering within
/// <see cref="Grains.Hosting.RoomsClusterOptions.RetryTimeout"/> for the whole of it) and the client gets a new
/// session instead.
/// </summary>
internal sealed class SocketRecovery(Namespace nsp, NamespaceLog log, Client client, JsonElement? auth, RecoveryRequest request)
{
    // The old connection's end may still be on its way to the session when the client is already back: the old gateway
    // is asked whether the socket is still connected there, and the session again after a pause.
    private static readonly TimeSpan ConnectedPause = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan GatewayAnswerWait = TimeSpan.FromSeconds(1);

    private readonly ISocketGrain _session = nsp.Cluster.Session(request.Token.SocketId);

    // One bound for the whole recovery, not one per step: a client waiting for its CONNECT answer waits that long at most
    // before it gets a new session.
    private readonly long _started = nsp.Server.TimeProvider.GetTimestamp();

    private TimeSpan Remaining
    {
        get
        {
            var left = nsp.Server.Cluster.Retry.Timeout - nsp.Server.TimeProvider.GetElapsedTime(_started);
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    /// <summary>True when the client's CONNECT was answered (recovered, or refused by the middleware); false for a new session.</summary>
    public async Task<bool> RunAsync()
    {
        var cluster = nsp.Server.Cluster;
        var grant = await BeginAsync(cluster).ConfigureAwait(false);
        if (grant is null)
        {
            return false;
        }

        var socket = new Socket(nsp, client, request.Token.SocketId, new Handshake(client.Connection.Request, auth), recovered: true)
        {
            // The pid as the client has it: its client knows it recovered when the CONNECT answer carries the same.
            Pid = request.Pid,
        };
        socket.RestoreData(grant.Data);

        // Authorization is no middleware: a recovered socket's user must still satisfy it.
        if (!await nsp.AuthorizeOrRejectAsync(socket, client).ConfigureAwait(false)
            || (log.Options.SkipMiddlewares is false && !await nsp.RunMiddlewaresOrRejectAsync(socket, client).ConfigureAwait(false)))
        {
            await AbandonAsync(cluster).ConfigureAwait(false);
            return true;
        }

        if (!client.Accept(socket))
        {
            await AbandonAsync(cluster).ConfigureAwait(false);
            return true;
        }

        // This gateway first takes everything its client had: what it delivers from now on then comes after.
        if (!await log.WaitForAsync(request.From, Remaining).ConfigureAwait(false))
        {
            client.Remove(socket);
            await AbandonAsync(cluster).ConfigureAwait(false);
            return false;
        }

        RecoveryVector until;
        lock (log.Lock)
        {
            socket.HoldBroadcasts();
            nsp.AddRecovered(socket, grant.Rooms);
            until = log.VectorLocked;
        }

        if (!socket.Connected)
        {
            // The new connection closed already: nothing to recover it for.
            nsp.RemoveUnrecovered(socket);
            await AbandonAsync(cluster).ConfigureAwait(false);
            return true;
        }

        RecoveryReplay? replay;
        try
        {
            // Not cut short here: a session that resumed is connected through this gateway, and must find its socket.
            replay = await cluster.Retry.RunAsync(static s => s.Session.ResumeAsync(s.Self, s.From, s.until, s.Remaining), (Session: _session, cluster.Self, request.From, until, Remaining)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            SocketIOLog.RecoveryFailed(nsp.Server.Logger, socket.Id, ex);
            replay = null;
        }

        if (replay is null)
        {
            nsp.RemoveUnrecovered(socket);
            client.Remove(socket);
            return false;
        }

        nsp.Cluster.Sessions.Placed(socket, replay.Silo);
        var vector = request.From;
        foreach (var missed in replay.Missed)
        {
            vector = vector.With(RecoveryVector.SenderOf(missed.Origin!), missed.Sequence);
            client.Send(nsp.Broadcaster.WithOffset(missed.Data, missed.Attachments, vector));
        }

        client.Send(PacketEncoder.Connect(nsp.Name, socket.Id, socket.Pid));
        socket.ReleaseHeld();
        nsp.Server.Metrics.Recovered(replay.Missed.Length);
        nsp.Connected(socket);
        return true;
    }

    // The session's rooms and data, once the session agrees; null when it cannot be recovered. While the session still
    // says connected, the gateway it names is asked: connected there, the pid is in use and refused; gone there (its end
    // is on its way) or no answer (that gateway may be dead, and membership will say so), the session is asked again,
    // within the retry bound.
    private async Task<RecoveryGrant?> BeginAsync(Cluster.GatewayCluster cluster)
    {
        var time = nsp.Server.TimeProvider;
        while (true)
        {
            RecoveryGrant grant;
            try
            {
                grant = await cluster.Retry.RunAsync(static s => s.Session.BeginRecoveryAsync(s.Self, s.Secret), (Session: _session, cluster.Self, request.Token.Secret))
                    .WaitAsync(Remaining, time).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // A grant that comes too late is given back, while the client goes on with a new session: the session
                // then does not wait for this gateway. AbandonAsync reports its own failure.
                SocketIOLog.RecoveryFailed(nsp.Server.Logger, request.Token.SocketId, ex);
                _ = AbandonAsync(cluster);
                return null;
            }

            if (grant.Answer == RecoveryAnswer.Granted)
            {
                return grant;
            }

            if (grant.Answer != RecoveryAnswer.Connected || grant.Gateway is not { } gateway
                || Remaining <= ConnectedPause || await IsConnectedAtAsync(cluster, gateway).ConfigureAwait(false))
            {
                return null;
            }

            await Task.Delay(ConnectedPause, time).ConfigureAwait(false);
        }
    }

    private async Task<bool> IsConnectedAtAsync(Cluster.GatewayCluster cluster, SiloAddress gateway)
    {
        if (gateway.Equals(cluster.Self))
        {
            return nsp.Sockets.TryGetValue(request.Token.SocketId, out var socket) && socket.Connected;
        }

        try
        {
            var wait = Remaining < GatewayAnswerWait ? Remaining : GatewayAnswerWait;
            return await cluster.Gateway(gateway).HasSocketAsync(nsp.Name, request.Token.SocketId).WaitAsync(wait, nsp.Server.TimeProvider).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // No answer is no evidence: that gateway may be dead, and membership will say so to the session.
            return false;
        }
    }

    private async Task AbandonAsync(Cluster.GatewayCluster cluster)
    {
        try
        {
            await cluster.Retry.RunAsync(static s => s.Session.AbandonRecoveryAsync(s.Self), (Session: _session, cluster.Self)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The grant stays with this gateway until the window ends: the client gets a new session next time.
            SocketIOLog.RecoveryFailed(nsp.Server.Logger, request.Token.SocketId, ex);
        }
    }
}
