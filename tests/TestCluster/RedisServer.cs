using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using OrleansRooms.Silo.Redis;

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

    public bool IsRunning => _process is { HasExited: false };

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

    /// <summary>Options for a client of this server (its endpoint and password).</summary>
    public RedisOptions CreateOptions()
    {
        var options = new RedisOptions { Password = Password, Cluster = null };
        options.Endpoints.Add(Endpoint);
        return options;
    }

    /// <summary>Graceful stop: <c>SHUTDOWN NOSAVE</c>, then waits for the process to exit.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_process is not { HasExited: false } process)
        {
            return;
        }

        try
        {
            await SendAsync(["SHUTDOWN", "NOSAVE"], cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or SocketException or RedisProtocolException)
        {
            // SHUTDOWN closes the connection without a reply.
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

    /// <summary>Sends one command on a fresh connection (authenticating first when needed) and returns its reply.</summary>
    internal async Task<RedisReply> SendAsync(IReadOnlyList<string> args, CancellationToken cancellationToken = default)
    {
        // Fully qualified: inside OrleansRooms.*, "Socket" is the Socket.IO socket.
        using var socket = new System.Net.Sockets.Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port), cancellationToken);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var writer = PipeWriter.Create(stream);
        var reader = PipeReader.Create(stream);
        int replies = 1;
        if (Password is not null)
        {
            RedisCommand.Create("AUTH", Password).WriteTo(writer);
            replies++;
        }

        var command = new RedisCommand(args[0]);
        foreach (var arg in args.Skip(1))
        {
            command.Arg(arg);
        }

        command.WriteTo(writer);
        await writer.FlushAsync(cancellationToken);
        RedisReply last = default;
        while (replies > 0)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var sequence = new SequenceReader<byte>(result.Buffer);
            while (replies > 0 && RedisReplyParser.TryRead(ref sequence, out last))
            {
                replies--;
            }

            reader.AdvanceTo(sequence.Position, result.Buffer.End);
            if (replies > 0 && result.IsCompleted)
            {
                throw new IOException($"redis-server on port {Port} closed the connection.");
            }
        }

        return last;
    }

    internal Task<RedisReply> SendAsync(params string[] args) => SendAsync((IReadOnlyList<string>)args);

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
                var reply = await SendAsync(["PING"], cancellationToken).WaitAsync(TimeSpan.FromSeconds(1), cancellationToken);
                if (reply.AsString() == "PONG")
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
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

    /// <summary>A loopback port that is free, and whose cluster bus port (+10000) is free too.</summary>
    internal static int FreePort()
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            if (port + 10000 > 65535)
            {
                continue;
            }

            try
            {
                var bus = new TcpListener(IPAddress.Loopback, port + 10000);
                bus.Start();
                bus.Stop();
                return port;
            }
            catch (SocketException)
            {
            }
        }

        throw new InvalidOperationException("No free loopback port pair was found.");
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
