using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OrleansRooms.Silo.Tests.Chaos;

/// <summary>
/// The warnings and errors every silo of the run logs (and what the gateways' cluster side says it restores), each with
/// the silo's name and the run's clock, so a failure's message can show what the cluster said around it. Bounded: past
/// <see cref="Capacity"/> entries only a count is kept.
/// </summary>
internal sealed class WarningLog
{
    private const int Capacity = 4_000;
    private readonly List<Entry> _entries = [];
    private int _dropped;

    public int Count
    {
        get
        {
            lock (_entries)
            {
                return _entries.Count + _dropped;
            }
        }
    }

    /// <summary>Records the entries of the silo whose services are <paramref name="services"/>, from now on.</summary>
    public void Attach(IServiceProvider services, string silo) => services.GetRequiredService<ILoggerFactory>().AddProvider(new Provider(this, silo));

    /// <summary>The entries logged between <paramref name="from"/> and <paramref name="to"/> (the last <paramref name="max"/> of them).</summary>
    public IReadOnlyList<string> Between(long from, long to, int max)
    {
        lock (_entries)
        {
            var selected = _entries.Where(e => e.At >= from && e.At <= to).ToList();
            return [.. selected.Skip(Math.Max(0, selected.Count - max)).Select(e => $"{ChaosClock.At(e.At)} {e.Silo} {e.Text}")];
        }
    }

    /// <summary>The kinds of entries (any silo), most frequent first, with how many of each.</summary>
    public IReadOnlyList<string> Summary(int max)
    {
        lock (_entries)
        {
            return [.. _entries
                .GroupBy(e => e.Text.Length > 160 ? e.Text[..160] : e.Text)
                .OrderByDescending(g => g.Count())
                .Take(max)
                .Select(g => $"{g.Count()} x {g.Key}")];
        }
    }

    private void Record(string silo, string category, LogLevel level, string message, Exception? exception)
    {
        var entry = new Entry(
            ChaosClock.Now,
            silo,
            $"{level} {category}: {message}" + (exception is null ? "" : $" [{exception.GetType().Name}: {exception.Message}]"));
        lock (_entries)
        {
            if (_entries.Count < Capacity)
            {
                _entries.Add(entry);
            }
            else
            {
                _dropped++;
            }
        }
    }

    private sealed record Entry(long At, string Silo, string Text);

    private sealed class Provider(WarningLog log, string silo) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(log, silo, categoryName);

        public void Dispose()
        {
        }
    }

    private sealed class Logger(WarningLog log, string silo, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        // The cluster side of the gateways says what it restores at Information.
        public bool IsEnabled(LogLevel logLevel) =>
            logLevel >= LogLevel.Warning || (logLevel == LogLevel.Information && category.StartsWith("OrleansRooms.Cluster.", StringComparison.Ordinal));

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                log.Record(silo, category, logLevel, formatter(state, exception), exception);
            }
        }
    }
}
