using System.Collections.Immutable;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansRooms.Grains.Gateways;
using OrleansRooms.Grains.Messages;

namespace OrleansRooms.Cluster;

/// <summary>
/// This gateway's inbox in the cluster (<see cref="IGatewayService"/>), an Orleans grain service of the gateway's
/// silo: it hands each request to the namespace it names and returns the namespace's answer. A namespace this gateway
/// does not have (a dynamic namespace with no socket here) answers with nothing.
/// </summary>
internal sealed class GatewayService(GrainId id, Silo silo, ILoggerFactory loggerFactory, IServiceProvider services)
    : GrainService(id, silo, loggerFactory), IGatewayService
{
    private static readonly ReadOnlyMemory<byte> NoSockets = "[]"u8.ToArray();
    private static readonly BroadcastAcks NoAcks = new(0, [], Complete: true);

    // Resolved on first use: the server is built after the silo's services.
    private SocketIOServer? _server;

    private ReleasedRooms? _releases;

    private SocketIOServer Server => _server ??= services.GetRequiredService<SocketIOServer>();

    private ReleasedRooms Releases => _releases ??= new ReleasedRooms(Server);

    public Task DeliverAsync(ClusterMessage message)
    {
        Server.FindNamespace(message.Namespace)?.Receiver.Receive(message);
        return Task.CompletedTask;
    }

    public Task<BroadcastAcks> DeliverWithAcksAsync(ClusterMessage message, TimeSpan? timeout) =>
        Server.FindNamespace(message.Namespace) is { } nsp ? nsp.Broadcaster.DeliverWithAcksFromCluster(message, timeout) : Task.FromResult(NoAcks);

    public Task<ReadOnlyMemory<byte>> FetchSocketsAsync(string ns, ImmutableArray<string> rooms, ImmutableArray<string> except) =>
        Task.FromResult(Server.FindNamespace(ns) is { } nsp
            ? (ReadOnlyMemory<byte>)SocketDescriptor.Write(nsp.Broadcaster.SelectLocal(new RoomSelection(rooms, except)), Server.JsonOptions)
            : NoSockets);

    public Task ApplyAsync(ClusterMessage message) =>
        Server.FindNamespace(message.Namespace) is { } nsp ? nsp.Receiver.ApplyAsync(message) : Task.CompletedTask;

    public Task<ServerAck> ServerSideEmitAsync(ClusterMessage message, TimeSpan? ackTimeout) =>
        Server.FindNamespace(message.Namespace) is { } nsp ? nsp.RaiseServerSideEventAsync(message, ackTimeout) : Task.FromResult(new ServerAck(null));

    public Task<bool> HasSocketAsync(string ns, string id) =>
        Task.FromResult(Server.FindNamespace(ns) is { } nsp && nsp.Sockets.TryGetValue(id, out var socket) && socket.Connected);

    public Task SessionMovedAsync(string ns, string id, SiloAddress silo)
    {
        if (Server.FindNamespace(ns) is { } nsp && nsp.Sockets.TryGetValue(id, out var socket) && socket.Connected)
        {
            nsp.Cluster.Sessions.Placed(socket, silo);
        }

        return Task.CompletedTask;
    }

    public Task PresenceAsync(string ns, ImmutableArray<PresenceChange> changes)
    {
        Server.FindNamespace(ns)?.Presence.RaiseFromCluster(changes);
        return Task.CompletedTask;
    }

    public Task RaiseReleasedAsync(ImmutableArray<RoomEvent> events)
    {
        Server.Metrics.Released();
        return Releases.RaiseAsync(events);
    }
}

/// <summary>Hands what reaches this gateway outside its service (its stream, the official emitter's channels) to the namespace it names.</summary>
internal sealed class GatewayInbox(SocketIOServer server) : IGatewayInbox
{
    public void Receive(ClusterMessage message) => server.FindNamespace(message.Namespace)?.Receiver.Receive(message);
}
