using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansRooms.Grains.Hosting;
using OrleansRooms.Grains.Messages;

namespace OrleansRooms.Grains.Recovery;

/// <summary>
/// This silo's <see cref="NamespaceLog"/>s, one per namespace that has sequenced broadcasts, when connection state
/// recovery is on (<see cref="Enabled"/>); nothing otherwise. Once a second it lets the logs give up on broadcasts lost
/// in a failure and forget senders long gone.
/// </summary>
internal sealed partial class RecoveryLogs(IRecoverySettings settings, IOptions<RoomsClusterOptions> cluster, TimeProvider time, IServiceProvider services, ILogger<RecoveryLogs> logger) : IDisposable
{
    private readonly ConcurrentDictionary<string, NamespaceLog> _logs = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private ITimer? _timer;
    private IRecoveryDelivery? _delivery;
    private bool _deliveryResolved;
    private volatile bool _disposed;

    /// <summary>Whether connection state recovery is on.</summary>
    public bool Enabled => settings.Options is not null;

    /// <summary>The settings; null when recovery is off.</summary>
    public ConnectionStateRecoveryOptions? Options => settings.Options;

    /// <summary>The gateway of this silo, if it is one: where the broadcasts taken here are delivered.</summary>
    public IRecoveryDelivery? Delivery
    {
        get
        {
            if (!_deliveryResolved)
            {
                _delivery = services.GetService<IRecoveryDelivery>();
                _deliveryResolved = true;
            }

            return _delivery;
        }
    }

    /// <summary>The log of <paramref name="ns"/>; recovery must be on.</summary>
    public NamespaceLog For(string ns)
    {
        if (_logs.TryGetValue(ns, out var log))
        {
            return log;
        }

        var options = settings.Options ?? throw new InvalidOperationException("Connection state recovery is off.");
        lock (_lock)
        {
            _timer ??= time.CreateTimer(static s => ((RecoveryLogs)s!).Tick(), this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        }

        return _logs.GetOrAdd(ns, static (name, s) => new NamespaceLog(name, s.options, s.time), (options, time));
    }

    /// <summary>The log of <paramref name="ns"/>, if this silo has one.</summary>
    public NamespaceLog? Find(string ns) => _logs.GetValueOrDefault(ns);

    /// <summary>Takes a sequenced broadcast from another silo.</summary>
    public void Accept(ClusterMessage message) => For(message.Namespace).Accept(message, Delivery);

    /// <summary>A silo left the cluster: the logs stop waiting for what it sent.</summary>
    public void OnSiloLeft(SiloAddress silo)
    {
        foreach (var log in _logs.Values)
        {
            log.OnSiloLeft(silo, Delivery);
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _timer?.Dispose();
    }

    // A timer's callback: whatever it meets is logged here, since nothing else would see it.
    private void Tick()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            // A broadcast still missing after the retry bound was lost by its sender's calls, which give up then.
            var limit = cluster.Value.RetryTimeout + TimeSpan.FromSeconds(1);
            foreach (var log in _logs.Values)
            {
                log.Tick(limit, Delivery);
            }
        }
        catch (ObjectDisposedException)
        {
            // The host is stopping and its services are going: nothing left to deliver to.
        }
        catch (Exception ex)
        {
            Log.TickFailed(logger, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "The recovery logs' periodic check failed; it runs again in a second.")]
        public static partial void TickFailed(ILogger logger, Exception exception);
    }
}

/// <summary>The recovery settings of a grain-only silo: the <c>SocketIO:ConnectionStateRecovery</c> section, when present.</summary>
internal sealed class ConfiguredRecoverySettings(Microsoft.Extensions.Configuration.IConfiguration configuration) : IRecoverySettings
{
    private readonly Lazy<ConnectionStateRecoveryOptions?> _options = new(() =>
    {
        var section = configuration.GetSection(ConnectionStateRecoveryOptions.SectionName);
        if (!Microsoft.Extensions.Configuration.ConfigurationExtensions.Exists(section))
        {
            return null;
        }

        var options = new ConnectionStateRecoveryOptions();
        Microsoft.Extensions.Configuration.ConfigurationBinder.Bind(section, options);
        return options.Validate() is { } error ? throw new OptionsValidationException(ConnectionStateRecoveryOptions.SectionName, typeof(ConnectionStateRecoveryOptions), [$"{ConnectionStateRecoveryOptions.SectionName}: {error}"]) : options;
    });

    public ConnectionStateRecoveryOptions? Options => _options.Value;
}
