namespace OrleansRooms.Conformance.Infrastructure;

/// <summary>What the server side of a test saw, awaited with a timeout rather than slept on.</summary>
internal static class Signal
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static TaskCompletionSource<T> Create<T>() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static Task<T> Within<T>(this TaskCompletionSource<T> source) => source.Task.WaitAsync(Timeout);
}
