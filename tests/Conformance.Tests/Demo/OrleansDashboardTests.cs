using System.Net;
using System.Net.Http.Headers;
using System.Text;
using OrleansRooms.Conformance.Infrastructure;
using Xunit.Abstractions;

namespace OrleansRooms.Conformance.Demo;

/// <summary>
/// The Orleans Dashboard of the chat demo (src/Gateway/Host), over HTTP as an operator's browser reaches it: off unless
/// enabled, then served at /orleans to authenticated users only (the demo's Basic login), never open by accident.
/// </summary>
public sealed class OrleansDashboardTests(OrleansDashboardTests.EnabledDemo demo, ITestOutputHelper output) : IClassFixture<OrleansDashboardTests.EnabledDemo>
{
    private const string UserName = "operator";
    private const string Password = "correct horse battery staple";

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task Off_by_default_nothing_answers_at_its_path()
    {
        await using var plain = await DemoHost.StartAsync();

        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(plain.Url, "orleans/", UserName, Password)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(plain.Url, "orleans/DashboardCounters", UserName, Password)).StatusCode);
    }

    [Fact]
    public async Task An_operator_gets_the_dashboard_page()
    {
        using var response = await GetAsync(demo.Host.Url, "orleans/", UserName, Password);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<title>Orleans Dashboard</title>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("orleans/")]
    [InlineData("orleans/index.min.js")]
    [InlineData("orleans/DashboardCounters")]
    [InlineData("orleans/Trace")]
    public async Task A_request_without_credentials_is_challenged_for_them(string path)
    {
        using var response = await GetAsync(demo.Host.Url, path, userName: null, password: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Basic", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
    }

    [Fact]
    public async Task A_request_with_a_wrong_password_is_refused()
    {
        using var response = await GetAsync(demo.Host.Url, "orleans/DashboardCounters", UserName, Password + "!");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    /// <summary>
    /// A client connects and joins a room; while it is there, the dashboard's grain statistics (what its grain list
    /// shows) name the grains its session and its room live in.
    /// </summary>
    [Fact]
    public async Task Its_grain_statistics_name_the_socket_and_room_grains_of_a_client_in_a_room()
    {
        var credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{UserName}:{Password}"));
        var printed = await NodeScenario.RunAsync(demo.Host.Url, $$"""
            const socket = await connected(connect("/", { auth: { name: "ada" } }));
            const [joined] = await ack(socket, "join", "lobby");
            eq(joined.ok, true, "joined");

            // The dashboard renews its statistics once a second: read them until they show both grains.
            const wanted = ["OrleansRooms.Grains.Sessions.SocketGrain", "OrleansRooms.Grains.Rooms.RoomGrain"];
            const deadline = Date.now() + 20000;
            let stats = [];
            while (!wanted.every((type) => stats.some((s) => s.grainType === type && s.activationCount > 0))) {
              if (Date.now() > deadline) throw new Error(`grain statistics without ${wanted}: ${JSON.stringify(stats)}`);
              const response = await fetch(URL + "/orleans/DashboardCounters", { headers: { authorization: "Basic {{credentials}}" } });
              eq(response.status, 200, "DashboardCounters");
              stats = (await response.json()).simpleGrainStats;
              await new Promise((resolve) => setTimeout(resolve, 100));
            }

            console.log(JSON.stringify(stats.map((s) => s.grainType)));
            """, TimeSpan.FromSeconds(40));
        output.WriteLine(printed);
    }

    [Fact]
    public async Task Enabled_without_any_authentication_the_gateway_refuses_to_start()
    {
        var (exitCode, log) = await DemoHost.RunRefusedAsync(new Dictionary<string, string> { ["Orleans:Dashboard:Enabled"] = "true" });

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Orleans:Dashboard:Enabled is true, but no authentication scheme is registered", log, StringComparison.Ordinal);
        Assert.Contains("Orleans:Dashboard:AllowAnonymous", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_policy_that_is_not_registered_stops_the_gateway_from_starting()
    {
        var (exitCode, log) = await DemoHost.RunRefusedAsync(new Dictionary<string, string>(EnabledDemo.Settings)
        {
            ["Orleans:Dashboard:Policy"] = "SiteReliability",
        });

        Assert.NotEqual(0, exitCode);
        Assert.Contains("names the authorization policy 'SiteReliability', which is not registered", log, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("orleans")]
    public async Task A_path_that_is_not_one_of_its_own_stops_the_gateway_from_starting(string path)
    {
        var (exitCode, log) = await DemoHost.RunRefusedAsync(new Dictionary<string, string>(EnabledDemo.Settings)
        {
            ["Orleans:Dashboard:Path"] = path,
        });

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Orleans:Dashboard:Path must be a path of its own", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_AllowAnonymous_it_is_served_to_anyone_and_says_so()
    {
        await using var open = await DemoHost.StartAsync(new Dictionary<string, string>
        {
            ["Orleans:Dashboard:Enabled"] = "true",
            ["Orleans:Dashboard:AllowAnonymous"] = "true",
            ["Orleans:Dashboard:Path"] = "/ops/orleans",
        });

        using var response = await GetAsync(open.Url, "ops/orleans/", userName: null, password: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(open.Url, "orleans/", userName: null, password: null)).StatusCode);
        Assert.Contains("Orleans Dashboard served at /ops/orleans to anyone who can reach it", open.Log, StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> GetAsync(Uri host, string path, string? userName, string? password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(host, path));
        if (userName is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{userName}:{password}")));
        }

        // Only the headers: /Trace streams the log for as long as it is read.
        return await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    /// <summary>One demo with the dashboard on and the demo's Basic login, shared by the tests that only read it.</summary>
    public sealed class EnabledDemo : IAsyncLifetime
    {
        public static readonly IReadOnlyDictionary<string, string> Settings = new Dictionary<string, string>
        {
            ["Orleans:Dashboard:Enabled"] = "true",
            ["BasicAuthentication:UserName"] = UserName,
            ["BasicAuthentication:Password"] = Password,
        };

        private DemoHost? _host;

        internal DemoHost Host => _host ?? throw new InvalidOperationException("Not started.");

        public async Task InitializeAsync() => _host = await DemoHost.StartAsync(Settings);

        public async Task DisposeAsync()
        {
            if (_host is not null)
            {
                await _host.DisposeAsync();
            }
        }
    }
}
