using System.Collections.Immutable;
using System.Net;
using Microsoft.Extensions.Options;
using OrleansRooms.Grains.Hosting;
using OrleansRooms.Grains.Silos;

namespace OrleansRooms.Grains.Tests;

/// <summary>How calls into the cluster are retried, against a membership whose view of one silo the test sets.</summary>
public sealed class ClusterRetryTests
{
    private static readonly SiloAddress Silo = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1);

    [Fact]
    public async Task A_call_to_a_silo_declared_dead_fails_at_once_instead_of_being_retried_until_the_bound()
    {
        var retry = Retry(SiloStatus.Dead, TimeSpan.FromMinutes(1));
        var calls = 0;

        var call = retry.RunAsync(_ => { calls++; return Task.FromException(new SiloUnavailableException()); }, 0, Silo);

        await Assert.ThrowsAsync<SiloUnavailableException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task A_call_to_a_silo_not_declared_dead_is_retried()
    {
        var retry = Retry(SiloStatus.Active, TimeSpan.FromMinutes(1));
        var calls = 0;

        await retry.RunAsync(_ => ++calls < 3 ? Task.FromException(new SiloUnavailableException()) : Task.CompletedTask, 0, Silo);

        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task A_call_to_a_grain_is_retried_whatever_silo_died()
    {
        var retry = Retry(SiloStatus.Dead, TimeSpan.FromMinutes(1));
        var calls = 0;

        await retry.RunAsync(_ => ++calls < 3 ? Task.FromException(new SiloUnavailableException()) : Task.CompletedTask, 0);

        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task A_call_Orleans_cancelled_while_the_cluster_changed_is_retried()
    {
        // A grain's placement is cancelled when the directory partition it asked dies under it.
        var retry = Retry(SiloStatus.Active, TimeSpan.FromMinutes(1));
        var calls = 0;

        var answer = await retry.RunAsync(_ => ++calls < 3 ? Task.FromException<int>(new OperationCanceledException()) : Task.FromResult(calls), 0);

        Assert.Equal(3, answer);
    }

    private static ClusterRetry Retry(SiloStatus status, TimeSpan bound) =>
        new(Options.Create(new RoomsClusterOptions { RetryTimeout = bound }), TimeProvider.System, new OneSilo(status));

    private sealed class OneSilo(SiloStatus status) : IClusterMembershipService
    {
        public ClusterMembershipSnapshot CurrentSnapshot { get; } = new(
            ImmutableDictionary<SiloAddress, ClusterMember>.Empty.Add(Silo, new ClusterMember(Silo, status, "silo")),
            new MembershipVersion(1));

        public IAsyncEnumerable<ClusterMembershipSnapshot> MembershipUpdates => throw new NotSupportedException();

        public ValueTask Refresh(MembershipVersion minimumVersion = default, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public Task<bool> TryKill(SiloAddress siloAddress) => Task.FromResult(false);
    }
}
