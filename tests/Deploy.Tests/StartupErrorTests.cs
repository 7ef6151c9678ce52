using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace OrleansRooms.Deploy;

/// <summary>
/// docs/troubleshooting.md: a setting that keeps a host from starting stops it with a non-zero exit code and one line
/// (what is wrong, which setting, how to fix it) on its output, without a stack trace or Orleans' options before it.
/// The real hosts, from their test builds, each on free loopback ports.
/// </summary>
public sealed class StartupErrorTests
{
    // Generous: a host's start on a loaded 2-core machine.
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_URL_whose_port_is_not_a_number_stops_the_gateway()
    {
        await using var gateway = HostProcess.StartGateway(SiloPort(HostProcess.FreePort()), "--urls", "http://127.0.0.1:notaport");

        var line = await FailsWithOneLineAsync(gateway);

        Assert.Contains("urls", line, StringComparison.Ordinal);
        Assert.Contains("http://127.0.0.1:notaport", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_membership_Redis_that_does_not_answer_stops_the_gateway()
    {
        var closed = HostProcess.FreePort();
        var environment = new Dictionary<string, string>(SiloPort(HostProcess.FreePort()))
        {
            ["Orleans__Clustering__ProviderType"] = "Redis",
            ["Orleans__Clustering__ConnectionString"] = $"127.0.0.1:{closed}",
        };
        await using var gateway = HostProcess.StartGateway(environment, "--urls", Url(HostProcess.FreePort()));

        var line = await FailsWithOneLineAsync(gateway);

        Assert.Contains($"127.0.0.1:{closed}", line, StringComparison.Ordinal);
        Assert.Contains("Orleans:Clustering:ConnectionString", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_taken_HTTP_port_stops_the_gateway()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        await using var gateway = HostProcess.StartGateway(SiloPort(HostProcess.FreePort()), "--urls", Url(port));

        var line = await FailsWithOneLineAsync(gateway);

        Assert.Contains($"port {port} on 127.0.0.1 is in use", line, StringComparison.Ordinal);
        Assert.Contains("--urls", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_invalid_option_stops_the_gateway_with_its_own_line()
    {
        var environment = new Dictionary<string, string>(SiloPort(HostProcess.FreePort()))
        {
            ["SocketIO__PingInterval"] = "-5",
            ["Chat__MaxRoomsPerClient"] = "0",
        };
        await using var gateway = HostProcess.StartGateway(environment, "--urls", Url(HostProcess.FreePort()));

        var lines = await FailsWithLinesAsync(gateway);

        Assert.Collection(
            lines.Order(StringComparer.Ordinal),
            line => Assert.StartsWith("Cannot start: Chat:MaxRoomsPerClient is \"0\": ", line, StringComparison.Ordinal),
            line => Assert.StartsWith("Cannot start: SocketIO:PingInterval is \"-5\": ", line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_second_single_node_gateway_on_the_same_silo_port_stops()
    {
        var siloPort = HostProcess.FreePort();
        await using var first = HostProcess.StartGateway(SiloPort(siloPort), "--urls", Url(HostProcess.FreePort()));
        await first.WaitForLineAsync("Application started", Within);

        await using var second = HostProcess.StartGateway(SiloPort(siloPort), "--urls", Url(HostProcess.FreePort()));
        var line = await FailsWithOneLineAsync(second);

        Assert.Contains($"silo port {siloPort} on 127.0.0.1 (Orleans:Endpoints:SiloPort) is in use", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_silo_port_another_silo_shares_stops_the_silo()
    {
        // As Orleans' own listener binds: SO_REUSEADDR, which .NET on Linux sets together with SO_REUSEPORT.
        using var taken = new System.Net.Sockets.Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        var siloPort = ((IPEndPoint)taken.LocalEndPoint!).Port;
        await using var silo = HostProcess.StartSilo(SiloPort(siloPort), "--urls", Url(HostProcess.FreePort()));

        var line = await FailsWithOneLineAsync(silo);

        Assert.Contains($"silo port {siloPort} on 127.0.0.1 (Orleans:Endpoints:SiloPort) is in use", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gateway_starts_without_a_watchdog_warning_or_the_Orleans_options()
    {
        await using var gateway = HostProcess.StartGateway(SiloPort(HostProcess.FreePort()), "--urls", Url(HostProcess.FreePort()));

        // The watchdog starts with the silo, which starts before Kestrel: its first check is logged before this line.
        await gateway.WaitForLineAsync("Application started", Within);

        Assert.DoesNotContain("Orleans.Runtime.Watchdog", gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Orleans.Runtime.SiloOptionsLogger", gateway.Output, StringComparison.Ordinal);
    }

    private static async Task<string> FailsWithOneLineAsync(HostProcess host) => Assert.Single(await FailsWithLinesAsync(host));

    /// <summary>The host's "Cannot start:" lines, once it exited with 1 and wrote no stack trace or Orleans options.</summary>
    private static async Task<IReadOnlyList<string>> FailsWithLinesAsync(HostProcess host)
    {
        var exitCode = await host.WaitForExitAsync(Within);
        var output = host.Output;
        Assert.True(exitCode == 1, $"exit code {exitCode}:\n{output}");
        var lines = output.Split('\n', StringSplitOptions.TrimEntries);
        Assert.DoesNotContain(lines, line => line.StartsWith("at ", StringComparison.Ordinal));
        Assert.DoesNotContain("Orleans.Runtime.SiloOptionsLogger", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", output, StringComparison.Ordinal);
        return lines.Where(line => line.StartsWith("Cannot start: ", StringComparison.Ordinal)).ToList();
    }

    private static Dictionary<string, string> SiloPort(int port) =>
        new() { ["Orleans__Endpoints__SiloPort"] = port.ToString(CultureInfo.InvariantCulture) };

    private static string Url(int port) => string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}");
}
