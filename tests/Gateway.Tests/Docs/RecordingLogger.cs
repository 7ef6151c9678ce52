using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using OrleansRooms.Specification;

namespace OrleansRooms.Tests.Docs;

/// <summary>
/// The <c>logger</c> of the docs samples (where the Socket.IO docs call <c>console.log</c>): records each formatted
/// message so a test can wait for it.
/// </summary>
internal sealed class RecordingLogger : ILogger
{
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Writer.TryWrite(formatter(state, exception));

    /// <summary>Waits for the next message logged.</summary>
    public async Task<string> NextAsync()
    {
        using var timeout = new CancellationTokenSource(TestClient.DefaultWait);
        try
        {
            return await _lines.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Nothing was logged within {TestClient.DefaultWait.TotalSeconds}s.");
        }
    }

    /// <summary>Waits for the next message and checks it.</summary>
    public async Task ExpectAsync(string message) => Assert.Equal(message, await NextAsync());
}
