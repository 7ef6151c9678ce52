using Microsoft.Extensions.Options;
using OrleansRooms.Grains.Hosting;

namespace OrleansRooms.Grains.Silos;

/// <summary>
/// Retries a call into the cluster that failed for a reason that passes (the target silo is dying or was declared dead,
/// the message was rejected, the call timed out, a room could not yet be rebuilt), with growing pauses, until
/// <see cref="RoomsClusterOptions.RetryTimeout"/>; then the last failure reaches the caller. Any other failure reaches
/// it at once. Only idempotent calls go through it: a call that timed out may have been carried out. A call addressed
/// to one silo (its services, not a grain that can be placed again elsewhere) stops being retried once membership has
/// declared that silo dead: it will never answer.
/// </summary>
internal sealed class ClusterRetry(IOptions<RoomsClusterOptions> options, TimeProvider time, IClusterMembershipService membership)
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Whether <paramref name="exception"/> is a failure that may pass if the call is made again. Cancellation is among
    /// them: the calls made here carry no token of their own, and Orleans cancels a grain's placement when the directory
    /// partition it asked is on a silo that just died.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception is
        SiloUnavailableException or OrleansMessageRejectionException or TimeoutException or ClusterChangingException or OperationCanceledException;

    /// <summary>
    /// Runs <paramref name="call"/> with <paramref name="state"/>, retrying transient failures within the bound, or until
    /// <paramref name="silo"/>, the silo the call is addressed to if it is one, is declared dead.
    /// </summary>
    public Task<TResult> RunAsync<TState, TResult>(Func<TState, Task<TResult>> call, TState state, SiloAddress? silo = null)
    {
        // Nearly every call succeeds the first time: no retry machinery unless it failed.
        var first = call(state);
        return first.IsCompletedSuccessfully ? first : RetryAsync(first, call, state, silo);
    }

    /// <inheritdoc cref="RunAsync{TState, TResult}(Func{TState, Task{TResult}}, TState, SiloAddress)"/>
    public Task RunAsync<TState>(Func<TState, Task> call, TState state, SiloAddress? silo = null)
    {
        var first = call(state);
        return first.IsCompletedSuccessfully ? first : RetryAsync(first, call, state, silo);
    }

    private async Task<TResult> RetryAsync<TState, TResult>(Task<TResult> attempt, Func<TState, Task<TResult>> call, TState state, SiloAddress? silo)
    {
        var deadline = Deadline();
        var pause = FirstPause;
        while (true)
        {
            try
            {
                return await attempt.ConfigureAwait(false);
            }
            catch (Exception ex) when (ShouldRetry(ex, silo, pause, deadline))
            {
            }

            await Task.Delay(pause, time).ConfigureAwait(false);
            pause = pause * 2 > LongestPause ? LongestPause : pause * 2;
            attempt = call(state);
        }
    }

    private async Task RetryAsync<TState>(Task attempt, Func<TState, Task> call, TState state, SiloAddress? silo)
    {
        var deadline = Deadline();
        var pause = FirstPause;
        while (true)
        {
            try
            {
                await attempt.ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ShouldRetry(ex, silo, pause, deadline))
            {
            }

            await Task.Delay(pause, time).ConfigureAwait(false);
            pause = pause * 2 > LongestPause ? LongestPause : pause * 2;
            attempt = call(state);
        }
    }

    /// <summary>How long a call is retried (<see cref="RoomsClusterOptions.RetryTimeout"/>).</summary>
    public TimeSpan Timeout => options.Value.RetryTimeout;

    private long Deadline() => time.GetTimestamp() + (long)(options.Value.RetryTimeout.TotalSeconds * time.TimestampFrequency);

    private bool ShouldRetry(Exception exception, SiloAddress? silo, TimeSpan pause, long deadline) =>
        IsTransient(exception) && !IsDead(silo) && time.GetTimestamp() + (long)(pause.TotalSeconds * time.TimestampFrequency) < deadline;

    private bool IsDead(SiloAddress? silo) => silo is not null && membership.CurrentSnapshot.GetSiloStatus(silo) == SiloStatus.Dead;
}

/// <summary>
/// The cluster is changing under a call and it cannot be carried out completely right now (a room's grain could not
/// reach every silo to rebuild its members): the call changed nothing and may be made again.
/// </summary>
[GenerateSerializer, Alias("orleansrooms.cluster-changing")]
public sealed class ClusterChangingException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ClusterChangingException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ClusterChangingException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the failure that caused it.</summary>
    public ClusterChangingException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
