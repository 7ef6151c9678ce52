using Microsoft.Extensions.Logging;

namespace OrleansRooms.Silo.Tests.Infrastructure;

/// <summary>One log entry: its category, level, event id and formatted message.</summary>
internal sealed record LogEntry(string Category, LogLevel Level, int EventId, string Message, Exception? Exception);

/// <summary>
/// Records the entries of the categories starting with a prefix, from the moment it is added to a host's
/// <see cref="ILoggerFactory"/>, so a test can wait for one. Stops recording once disposed (a factory cannot drop a provider).
/// </summary>
internal sealed class LogCapture(string categoryPrefix) : ILoggerProvider
{
    private readonly string _categoryPrefix = categoryPrefix;
    private readonly List<LogEntry> _entries = [];
    private readonly List<(Func<LogEntry, bool> Match, TaskCompletionSource<LogEntry> Found)> _waiters = [];
    private bool _disposed;

    /// <summary>Adds a capture to the logger factory of <paramref name="services"/>.</summary>
    public static LogCapture Attach(IServiceProvider services, string categoryPrefix = "OrleansRooms.")
    {
        var capture = new LogCapture(categoryPrefix);
        ((ILoggerFactory)services.GetService(typeof(ILoggerFactory))!).AddProvider(capture);
        return capture;
    }

    public IReadOnlyList<LogEntry> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    /// <summary>The first entry, recorded or to come, that matches; fails after 20 s.</summary>
    public async Task<LogEntry> WaitForAsync(Func<LogEntry, bool> match)
    {
        var found = new TaskCompletionSource<LogEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_entries)
        {
            if (_entries.FirstOrDefault(match) is { } entry)
            {
                return entry;
            }

            _waiters.Add((match, found));
        }

        try
        {
            return await found.Task.WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException("No such log entry within 20 s; recorded:\n" + string.Join("\n", Entries.Select(e => $"{e.Level} {e.EventId} {e.Message}")));
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
        lock (_entries)
        {
            _disposed = true;
        }
    }

    private void Record(LogEntry entry)
    {
        List<TaskCompletionSource<LogEntry>>? found = null;
        lock (_entries)
        {
            if (_disposed)
            {
                return;
            }

            _entries.Add(entry);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(entry))
                {
                    (found ??= []).Add(_waiters[i].Found);
                    _waiters.RemoveAt(i);
                }
            }
        }

        found?.ForEach(f => f.TrySetResult(entry));
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => category.StartsWith(capture._categoryPrefix, StringComparison.Ordinal);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                capture.Record(new LogEntry(category, logLevel, eventId.Id, formatter(state, exception), exception));
            }
        }
    }
}
