using Microsoft.Extensions.Logging;
using Orleans.Metadata;
using OrleansRooms.Grains.Rooms;
using OrleansRooms.Grains.Sessions;

namespace OrleansRooms.Grains.Silos;

/// <summary>
/// On each silo: moves the sessions and rooms it hosts to other silos, with their state, when they would otherwise be
/// lost or at risk. When the silo stops gracefully (a rolling deploy), before Orleans deactivates its grains, every
/// session and room with members moves to another silo: nothing has to be rebuilt or restored. And the sessions placed
/// with their own gateway while it was the only silo move away once another silo is active, so they outlive that
/// gateway as every other session does. Each move is Orleans' live migration; a grain moved carries its state.
/// </summary>
internal sealed partial class ActivationMover(
    SessionRegistry sessions,
    RoomRegistry rooms,
    ILocalSiloDetails local,
    IClusterMembershipService membership,
    IClusterManifestProvider manifests,
    ILogger<ActivationMover> logger) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private static readonly GrainType SessionType = GrainType.Create(ISocketGrain.GrainTypeName);

    // How long a stopping silo waits for its grains to move before Orleans deactivates what is left.
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RecheckPeriod = TimeSpan.FromSeconds(2);

    private readonly CancellationTokenSource _stopping = new();
    private Task _watching = Task.CompletedTask;

    public void Dispose() => _stopping.Dispose();

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ActivationMover), ServiceLifecycleStage.Active, OnStartAsync, OnStopAsync);

    private Task OnStartAsync(CancellationToken cancellationToken)
    {
        _watching = WatchAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    private async Task OnStopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _watching.ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested)
        {
            return;
        }

        var moving = Move(sessions.All(), rooms.All());
        if (moving.Count == 0)
        {
            return;
        }

        Log.Draining(logger, moving.Count);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(DrainLimit);
        try
        {
            // A grain that has left this silo is in neither registry any more.
            while (moving.Exists(grain => grain is SocketGrain session ? sessions.Holds(session) || rooms.Holds(grain) : rooms.Holds(grain)))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), limit.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            Log.DrainIncomplete(logger, moving.Count(grain => rooms.Holds(grain) || (grain is SocketGrain session && sessions.Holds(session))));
        }
    }

    // Sessions placed with this gateway while it was alone move once another silo is active: looked at again each
    // time membership changes, and every few seconds while some are left (a new silo takes sessions only once every
    // silo knows its grain types).
    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        var updates = membership.MembershipUpdates.GetAsyncEnumerator(cancellationToken);
        try
        {
            var next = updates.MoveNextAsync().AsTask();
            while (true)
            {
                var left = sessions.OnGateway(local.SiloAddress);
                var snapshot = membership.CurrentSnapshot;
                if (left.Count > 0 && Others(snapshot).Count > 0)
                {
                    Log.MovingFromGateway(logger, left.Count);
                    Move(left, []);
                }

                if (left.Count > 0 && snapshot.Members.Count(m => m.Value.Status == SiloStatus.Active) > 1)
                {
                    await Task.WhenAny(next, Task.Delay(RecheckPeriod, cancellationToken)).ConfigureAwait(false);
                }
                else
                {
                    await next.ConfigureAwait(false);
                }

                cancellationToken.ThrowIfCancellationRequested();
                if (next.IsCompleted)
                {
                    if (!await next.ConfigureAwait(false))
                    {
                        return;
                    }

                    next = updates.MoveNextAsync().AsTask();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            await updates.DisposeAsync().ConfigureAwait(false);
        }
    }

    // Starts moving each grain to another silo; returns those it started to move.
    private List<IAddressable> Move(List<SocketGrain> movingSessions, List<IAddressable> movingRooms)
    {
        var moving = new List<IAddressable>();
        var others = Others(membership.CurrentSnapshot);
        if (others.Count == 0)
        {
            return moving;
        }

        others.Sort(static (a, b) => a.CompareTo(b));
        var seen = new HashSet<IAddressable>(ReferenceEqualityComparer.Instance);
        foreach (var session in movingSessions)
        {
            // Away from this silo and from the socket's gateway: the session must outlive both.
            if (seen.Add(session) && Pick(others, session.GetGrainId(), session.RegisteredGateway) is { } target)
            {
                session.MoveTo(target);
                moving.Add(session);
            }
        }

        foreach (var room in movingRooms)
        {
            if (!seen.Add(room))
            {
                continue;
            }

            // A room grain, or the own room of a socket grain that is not connected but has members.
            if (Pick(others, room.GetGrainId(), avoid: null) is { } target)
            {
                switch (room)
                {
                    case RoomGrain grain:
                        grain.MoveTo(target);
                        moving.Add(room);
                        break;
                    case SocketGrain session:
                        session.MoveTo(target);
                        moving.Add(room);
                        break;
                }
            }
        }

        return moving;
    }

    // The other active silos that host OrleansRooms grains as far as this silo knows: a grain sent to a silo whose grain
    // types are not known here yet would only be deactivated (Orleans places a migrating grain on compatible silos).
    private List<SiloAddress> Others(ClusterMembershipSnapshot snapshot)
    {
        var others = new List<SiloAddress>();
        var known = manifests.Current.Silos;
        foreach (var (silo, member) in snapshot.Members)
        {
            if (member.Status == SiloStatus.Active && !silo.Equals(local.SiloAddress)
                && known.TryGetValue(silo, out var manifest) && manifest.Grains.ContainsKey(SessionType))
            {
                others.Add(silo);
            }
        }

        return others;
    }

    private static SiloAddress? Pick(List<SiloAddress> candidates, GrainId grain, SiloAddress? avoid)
    {
        var count = avoid is not null && candidates.Contains(avoid) ? candidates.Count - 1 : candidates.Count;
        if (count == 0)
        {
            return null;
        }

        var index = (int)(grain.GetUniformHashCode() % (uint)count);
        foreach (var candidate in candidates)
        {
            if (candidate.Equals(avoid))
            {
                continue;
            }

            if (index-- == 0)
            {
                return candidate;
            }
        }

        return null;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "This silo is stopping: moving {Grains} sessions and rooms to other silos.")]
        public static partial void Draining(ILogger logger, int grains);

        [LoggerMessage(2, LogLevel.Warning, "{Grains} sessions and rooms had not moved when the silo stopped; their gateways restore the sessions and the rooms rebuild themselves.")]
        public static partial void DrainIncomplete(ILogger logger, int grains);

        [LoggerMessage(3, LogLevel.Information, "Another silo is active: moving the {Sessions} sessions placed with this gateway while it was alone.")]
        public static partial void MovingFromGateway(ILogger logger, int sessions);
    }
}
