using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace OrleansRooms.Tests.Engine;

/// <summary>Records every log entry of a test server (Kestrel's included) with its level, category and exception.</summary>
internal sealed class LogRecorder : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyCollection<Entry> Entries => _entries;

    /// <summary>Entries at <paramref name="level"/> or above, one per line with the exception's type, for an assertion message.</summary>
    public string Describe(LogLevel level) =>
        string.Join('\n', _entries.Where(e => e.Level >= level).Select(e => $"{e.Level} {e.Category}: {e.Message} {e.Exception?.GetType().Name} {e.Exception?.Message}"));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    internal sealed record Entry(LogLevel Level, string Category, string Message, Exception? Exception);

    private sealed class Logger(LogRecorder recorder, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            recorder._entries.Enqueue(new Entry(logLevel, category, formatter(state, exception), exception));
    }
}
