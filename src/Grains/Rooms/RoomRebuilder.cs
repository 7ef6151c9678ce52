using System.Collections.Immutable;
using OrleansRooms.Grains.Routing;
using OrleansRooms.Grains.Sessions;
using OrleansRooms.Grains.Silos;

namespace OrleansRooms.Grains.Rooms;

/// <summary>
/// Rebuilds a room's half when its grain activates: every silo still in the cluster says which of its sessions are in
/// the room (their registries, <see cref="SessionRegistry"/>) and whether its route cache follows the room. A room
/// grain is never collected while it has members, so an activation either starts a room nobody joined yet (every silo
/// answers "none") or replaces one lost with its silo, which comes back complete: the sessions are the truth. Costs one
/// call per other silo per activation.
/// </summary>
internal sealed class RoomRebuilder(
    SessionRegistry sessions,
    RouteCaches routes,
    SiloServices silos,
    ILocalSiloDetails local,
    IClusterMembershipService membership,
    ClusterRetry retry)
{
    /// <summary>
    /// Everything the silos hold of room <paramref name="room"/>. Throws <see cref="ClusterChangingException"/> when a
    /// silo that is neither gone nor answering keeps the room from being complete within the retry bound.
    /// </summary>
    public async Task<RebuiltRoom> RebuildAsync(string ns, string room)
    {
        var members = ImmutableArray.CreateBuilder<MemberChange>();
        var followers = ImmutableArray.CreateBuilder<SiloAddress>();
        long newest = 0;

        List<(SiloAddress Silo, Task<RoomShard?> Shard)>? remote = null;
        foreach (var (silo, member) in membership.CurrentSnapshot.Members)
        {
            // Joining silos host no session yet; dead ones took theirs with them.
            if (member.Status is not (SiloStatus.Active or SiloStatus.ShuttingDown or SiloStatus.Stopping))
            {
                continue;
            }

            if (silo.Equals(local.SiloAddress))
            {
                Add(new RoomShard(sessions.MembersOf(ns, room), routes.FollowedVersion(ns, room)), silo);
            }
            else
            {
                (remote ??= []).Add((silo, DescribeAsync(silo, ns, room)));
            }
        }

        if (remote is not null)
        {
            foreach (var (silo, shard) in remote)
            {
                if (await shard.ConfigureAwait(false) is { } answer)
                {
                    Add(answer, silo);
                }
            }
        }

        return new RebuiltRoom(members.ToImmutable(), followers.ToImmutable(), newest);

        void Add(RoomShard shard, SiloAddress silo)
        {
            members.AddRange(shard.Members);
            if (shard.FollowedVersion is { } version)
            {
                followers.Add(silo);
                newest = Math.Max(newest, version);
            }
        }
    }

    // Null when the silo left the cluster meanwhile: its sessions are gone with it.
    private async Task<RoomShard?> DescribeAsync(SiloAddress silo, string ns, string room)
    {
        try
        {
            return await retry.RunAsync(static s => s.Service.DescribeRoomAsync(s.ns, s.room), (Service: silos.On(silo), ns, room), silo).ConfigureAwait(false);
        }
        catch (Exception ex) when (ClusterRetry.IsTransient(ex))
        {
            if (membership.CurrentSnapshot.GetSiloStatus(silo) is SiloStatus.Dead or SiloStatus.None)
            {
                return null;
            }

            throw new ClusterChangingException($"Room '{room}' of namespace '{ns}' could not be rebuilt: silo {silo} did not answer.", ex);
        }
    }
}

/// <summary>A room's half as the silos hold it: its members, the silos following its route, and the newest route version they hold.</summary>
internal sealed record RebuiltRoom(ImmutableArray<MemberChange> Members, ImmutableArray<SiloAddress> Followers, long NewestVersion);
