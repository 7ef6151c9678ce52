using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace OrleansRooms.TestCluster;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port with its own temp directory, no persistence. Killed on dispose
/// and when the test process exits, so no server outlives the tests.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<RedisServer, byte> Live = new();
    private readonly IReadOnlyList<string> _extraArgs;
    private Process? _process;

    static RedisServer()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var server in Live.Keys)
            {
                server.Kill();
            }
        };
    }

    private RedisServer(int port, string? password, IReadOnlyList<string> extraArgs)
    {
        Port = port;
        Password = password;
        _extraArgs = extraArgs;
        Directory = System.IO.Directory.CreateTempSubdirectory("orleansrooms-redis-").FullName;
    }

    public int Port { get; }

    public string? Password { get; }

    /// <summary>The server's working directory (logs, cluster config).</summary>
    public string Directory { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>A StackExchange.Redis connection string for this server (its endpoint and password).</summary>
    public string ConnectionString => Password is null ? Endpoint : $"{Endpoint},password={Password}";

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The process id of the running server (for measuring its CPU).</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("Not running.");

    /// <summary>Starts a server and waits until it answers PING.</summary>
    public static Task<RedisServer> StartAsync(string? password = null, CancellationToken cancellationToken = default) =>
        StartAsync(password, [], cancellationToken);

    public static async Task<RedisServer> StartAsync(string? password, IReadOnlyList<string> extraArgs, CancellationToken cancellationToken = default)
    {
        var server = new RedisServer(FreePort(), password, extraArgs);
        try
        {
            await server.LaunchAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Graceful stop (SIGTERM), then waits for the process to exit.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_process is not { HasExited: false } process)
        {
            return;
        }

        // SIGTERM: redis-server shuts down gracefully (it saves nothing here: persistence is off).
        using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync(cancellationToken);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    /// <summary>Abrupt stop (SIGKILL): connections drop without a goodbye.</summary>
    public void Kill()
    {
        try
        {
            if (_process is { HasExited: false } process)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>Kills the server if it runs and starts it again on the same port (empty: nothing is persisted).</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        Kill();
        await LaunchAsync(cancellationToken);
    }

    /// <summary>Sends one command on a fresh connection and returns its reply.</summary>
    public async Task<RedisResult> SendAsync(string command, params object[] args)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(ConnectionString + ",abortConnect=true,connectTimeout=1000");
        return await connection.GetDatabase().ExecuteAsync(command, args);
    }

    private async Task LaunchAsync(CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(FindRedisServer())
        {
            UseShellExecute = false,
            RedirectStandardOutput = false,
            RedirectStandardError = false,
            WorkingDirectory = Directory,
        };
        foreach (var arg in new[]
        {
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--dir", Directory, "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--logfile", Path.Combine(Directory, "redis.log"),
        })
        {
            start.ArgumentList.Add(arg);
        }

        if (Password is not null)
        {
            start.ArgumentList.Add("--requirepass");
            start.ArgumentList.Add(Password);
        }

        foreach (var arg in _extraArgs)
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        Live[this] = 0;
        await WaitUntilAnsweringAsync(cancellationToken);
    }

    private async Task WaitUntilAnsweringAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process!.HasExited)
            {
                string log = File.Exists(Path.Combine(Directory, "redis.log")) ? await File.ReadAllTextAsync(Path.Combine(Directory, "redis.log"), cancellationToken) : "";
                throw new InvalidOperationException($"redis-server on port {Port} exited with code {_process.ExitCode}: {log}");
            }

            try
            {
                var reply = await SendAsync("PING").WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
                if (reply.ToString() == "PONG")
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException or TimeoutException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"redis-server on port {Port} did not answer PING within 10 s.");
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    internal static string FindRedisServer() => FindOnPath("redis-server");

    internal static string FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            $"{name} was not found on PATH. The Redis tests need a real Redis 7: run `apt-get install -y redis-server` (the test command installs it).");
    }

    /// <summary>A loopback port free right now (the OS picks it).</summary>
    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        Live.TryRemove(this, out _);
        _process?.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }

        await Task.CompletedTask;
    }

    public override string ToString() => $"redis-server {Endpoint}";
}
