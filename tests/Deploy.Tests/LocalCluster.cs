using OrleansRooms.TestCluster;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace OrleansRooms.Deploy;

/// <summary>
/// A cluster started by <c>deploy/run-cluster.sh</c> on free loopback ports, from the test builds of the hosts (no
/// publish): redis-server (Orleans membership), gateway processes each with its silo, optionally grain-only silos
/// (<c>src/Silo/Host</c>) and nginx with <c>deploy/nginx/nginx.conf</c>. Stopped with <c>run-cluster.sh stop</c> on
/// dispose, whatever happened; its run directory is deleted then.
/// </summary>
public sealed partial class LocalCluster : IAsyncDisposable
{
    private static readonly string Root = Metadata("RepositoryRoot");
    private static readonly string HostOutput = Metadata("HostOutput");
    private static readonly string SiloHostOutput = Metadata("SiloHostOutput");

    private LocalCluster(string runDir, int redisPort, int? nginxPort, int[] httpPorts, int[] orleansPorts, int gateways)
    {
        RunDir = runDir;
        RedisPort = redisPort;
        NginxPort = nginxPort;
        GatewayPorts = httpPorts[..gateways];
        SiloPorts = httpPorts[gateways..];
        OrleansPorts = orleansPorts;
    }

    public static string Script => Path.Combine(Root, "deploy", "run-cluster.sh");

    public string RunDir { get; }

    public int RedisPort { get; }

    /// <summary>The HTTP ports of the gateways (Socket.IO, the demo, <c>/healthz</c>), gateway 1 first.</summary>
    public IReadOnlyList<int> GatewayPorts { get; }

    /// <summary>The HTTP ports of the grain-only silos (<c>/healthz</c>, <c>/silo</c>), silo 1 first.</summary>
    public IReadOnlyList<int> SiloPorts { get; }

    /// <summary>The Orleans silo ports: the gateways' silos, then the grain-only silos.</summary>
    public IReadOnlyList<int> OrleansPorts { get; }

    public int? NginxPort { get; }

    public Uri Nginx => new($"http://127.0.0.1:{NginxPort ?? throw new InvalidOperationException("started without nginx")}");

    /// <summary>Gateway <paramref name="number"/> (from 1), directly.</summary>
    public Uri Gateway(int number) => new($"http://127.0.0.1:{GatewayPorts[number - 1]}");

    /// <summary>Process ids from the script's pid files, by name (redis, gateway-1..N, silo-1..M, nginx).</summary>
    public IReadOnlyDictionary<string, int> Pids { get; private set; } = new Dictionary<string, int>();

    public string NginxAccessLog => Path.Combine(RunDir, "nginx", "logs", "access.log");

    /// <summary>
    /// Runs <c>run-cluster.sh start</c> with <paramref name="gateways"/> gateways and <paramref name="silos"/> grain-only
    /// silos; <paramref name="environment"/> reaches every node (such as a short ping interval). Fails with the install
    /// command when a tool is missing, and with the logs when start fails.
    /// </summary>
    public static async Task<LocalCluster> StartAsync(int gateways, bool nginx, IReadOnlyDictionary<string, string>? environment = null, int silos = 0)
    {
        RequireTool("redis-server", "sudo apt-get install -y redis-server (tests/run installs it)");
        RequireTool("curl", "sudo apt-get install -y curl");
        if (nginx)
        {
            RequireTool("nginx", "sudo apt-get install -y nginx (tests/run installs it)");
        }

        Assert.True(File.Exists(Path.Combine(HostOutput, "OrleansRooms.Gateway.Host.dll")), $"the gateway host is not built in {HostOutput}");
        Assert.True(File.Exists(Path.Combine(SiloHostOutput, "OrleansRooms.Silo.Host.dll")), $"the silo host is not built in {SiloHostOutput}");
        // redis, nginx, then an HTTP port and an Orleans silo port for each node: the script numbers them in runs.
        var nodes = gateways + silos;
        var ports = FreePorts(2 + 2 * nodes);
        var runDir = Directory.CreateTempSubdirectory("orleansrooms-cluster-").FullName;
        var cluster = new LocalCluster(runDir, ports[0], nginx ? ports[1] : null, ports[2..(2 + nodes)], ports[(2 + nodes)..], gateways);
        try
        {
            var args = new List<string>
            {
                "start", "--gateways", Invariant(gateways), "--silos", Invariant(silos), "--run-dir", runDir,
                "--app", HostOutput, "--silo-app", SiloHostOutput,
                "--redis-port", Invariant(cluster.RedisPort),
                "--base-port", Invariant(ports[2]),
                "--silo-port", Invariant(ports[2 + nodes]),
            };
            if (nginx)
            {
                args.AddRange(["--nginx-port", Invariant(cluster.NginxPort!.Value)]);
            }

            var result = await RunScriptAsync(args, environment, TimeSpan.FromSeconds(120));
            Assert.True(result.ExitCode == 0, $"run-cluster.sh start exited with {result.ExitCode}:\n{result.Output}\n{cluster.Logs()}");
            cluster.ReadPids();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public static async Task<(int ExitCode, string Output)> RunScriptAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var result = await ChildProcess.RunAsync("bash", [Script, .. args], Root, environment, timeout ?? TimeSpan.FromSeconds(60));
        return (result.ExitCode, result.Stdout + result.Stderr);
    }

    /// <summary>The tail of every gateway log and nginx's error log, for failure messages.</summary>
    public string Logs()
    {
        var text = new StringBuilder();
        foreach (var file in Directory.EnumerateFiles(RunDir, "*.log", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            if (file.EndsWith("access.log", StringComparison.Ordinal))
            {
                continue;
            }

            var lines = File.ReadAllLines(file);
            text.AppendLine(CultureInfo.InvariantCulture, $"--- {Path.GetRelativePath(RunDir, file)}");
            foreach (var line in lines.TakeLast(40))
            {
                text.AppendLine(line);
            }
        }

        return text.ToString();
    }

    /// <summary>
    /// Requests nginx answered with a 4xx or 5xx status (such as 400 "Session ID unknown" or 502), except 499: the
    /// client closed the request itself (a pending poll when the client goes away).
    /// </summary>
    public IReadOnlyList<string> NginxErrors() =>
        File.Exists(NginxAccessLog)
            ? File.ReadAllLines(NginxAccessLog).Where(line => StatusPattern().Match(line) is { Success: true } m && m.Groups[1].Value[0] is '4' or '5' && m.Groups[1].Value != "499").ToList()
            : [];

    [GeneratedRegex("\" (\\d{3}) ")]
    private static partial Regex StatusPattern();

    /// <summary>
    /// Whether process <paramref name="pid"/> runs. A killed process whose parent (here, often init) has not reaped it
    /// yet is a zombie: it no longer runs.
    /// </summary>
    public static bool IsAlive(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return false;
        }

        // "pid (command) state ...": the command may hold spaces and parentheses, the state follows the last ')'.
        var state = stat[(stat.LastIndexOf(')') + 2)..];
        return state[0] is not ('Z' or 'X');
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunScriptAsync(["stop", "--run-dir", RunDir], timeout: TimeSpan.FromSeconds(60));
        }
        finally
        {
            // Whatever the script could not stop.
            foreach (var pid in Pids.Values.Where(IsAlive))
            {
                using var process = Process.GetProcessById(pid);
                process.Kill(entireProcessTree: true);
            }

            try
            {
                Directory.Delete(RunDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Reads the pid files again (after a start that restarted part of the cluster).</summary>
    public void ReadPids() =>
        Pids = Directory.EnumerateFiles(Path.Combine(RunDir, "pids"), "*.pid")
            .ToDictionary(f => Path.GetFileNameWithoutExtension(f), f => int.Parse(File.ReadAllText(f).Trim(), CultureInfo.InvariantCulture));

    private static void RequireTool(string name, string install)
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Append("/usr/sbin").Append("/sbin")
            .Any(dir => File.Exists(Path.Combine(dir, name)));
        Assert.True(found, $"{name} is not installed: {install}");
    }

    /// <summary>
    /// A run of consecutive free ports (the script puts node i on base + i - 1, and its silo on silo-port + i - 1), below
    /// Linux's ephemeral range (32768 and up), where outgoing connections take theirs. Checked by binding; another process
    /// could still take one before the script does.
    /// </summary>
    private static int[] FreePorts(int count)
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            int first = Random.Shared.Next(20_000, 32_000 - count);
            var ports = Enumerable.Range(first, count).ToArray();
            if (ports.All(IsFree))
            {
                return ports;
            }
        }

        throw new InvalidOperationException($"no run of {count} free ports found");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Metadata(string key) =>
        typeof(LocalCluster).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
