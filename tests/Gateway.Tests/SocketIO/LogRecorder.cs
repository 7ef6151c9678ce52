using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansRooms.Specification;

namespace OrleansRooms.Tests.SocketIO;

/// <summary>One formatted log message, as a console logger would print it (without the exception).</summary>
internal sealed record LogEntry(LogLevel Level, string Category, string Message, Exception? Exception);

/// <summary>
/// A logger provider that records every message of every level, so a test can wait for one (no polling) and check
/// what was written. Add it with <see cref="AddTo"/>.
/// </summary>
internal sealed class LogRecorder : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();
    private readonly List<(Func<LogEntry, bool> Match, TaskCompletionSource<LogEntry> Found)> _waiters = [];

    public IReadOnlyCollection<LogEntry> Entries => _entries;

    /// <summary>Records every level of every category of the services' logging.</summary>
    public void AddTo(IServiceCollection services)
    {
        services.AddSingleton<ILoggerProvider>(this);
        services.Configure<LoggerFilterOptions>(o => o.MinLevel = LogLevel.Trace);
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <summary>The first entry (recorded so far or later) that matches.</summary>
    public Task<LogEntry> WaitForAsync(Func<LogEntry, bool> match)
    {
        var found = new TaskCompletionSource<LogEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            _waiters.Add((match, found));
        }

        foreach (var entry in _entries)
        {
            if (match(entry))
            {
                found.TrySetResult(entry);
                break;
            }
        }

        return found.Task.WaitAsync(TestClient.DefaultWait);
    }

    public void Dispose()
    {
    }

    private void Record(LogEntry entry)
    {
        _entries.Enqueue(entry);
        lock (_waiters)
        {
            foreach (var (match, found) in _waiters)
            {
                if (!found.Task.IsCompleted && match(entry))
                {
                    found.TrySetResult(entry);
                }
            }
        }
    }

    private sealed class Logger(LogRecorder recorder, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            recorder.Record(new LogEntry(logLevel, category, formatter(state, exception), exception));
    }
}
