using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

using OrleansRooms.Specification;

namespace OrleansRooms.Tests.Docs;

/// <summary>The samples of <c>docs/configuration.md</c>.</summary>
public sealed class ConfigurationDocsTests
{
    [Fact]
    public void Defaults_are_those_of_the_table()
    {
        var options = new SocketIOOptions();

        Assert.Equal(TimeSpan.FromSeconds(25), options.PingInterval);
        Assert.Equal(TimeSpan.FromSeconds(20), options.PingTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), options.UpgradeTimeout);
        Assert.Equal(1_000_000, options.MaxHttpBufferSize);
        Assert.Equal(1_048_576, options.MaxSendBufferSize);
        Assert.Equal(SocketIOTransports.Polling | SocketIOTransports.WebSocket, options.Transports);
        Assert.True(options.AllowUpgrades);
        Assert.False(options.AllowEIO3);
        Assert.Equal(TimeSpan.FromSeconds(45), options.ConnectTimeout);
        Assert.Equal(10, options.MaxAttachments);
        Assert.Null(options.AckTimeout);
        Assert.False(options.CleanupEmptyChildNamespaces);
        Assert.Null(options.AllowRequest);
        Assert.Equal(JsonNamingPolicy.CamelCase, options.JsonSerializerOptions.PropertyNamingPolicy);
    }

    [Fact]
    public void Kestrel_limits_set_by_the_application_win_over_the_open_file_cap()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.UseTestSilo();
        builder.Services.AddSocketIO();

        // docs/configuration.md: Connection capacity
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxConcurrentConnections = 50_000;
            k.Limits.MaxConcurrentUpgradedConnections = 50_000;
        });

        using var app = builder.Build();
        var limits = app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
        Assert.Equal(50_000, limits.MaxConcurrentConnections);
        Assert.Equal(50_000, limits.MaxConcurrentUpgradedConnections);
    }

    [Fact]
    public void Appsettings_sample_binds_the_SocketIO_section()
    {
        // docs/configuration.md: the json block itself, read from the page
        var json = Assert.Single(OrleansRooms.Specification.DocsPages.Blocks("configuration.md", "json"));
        var builder = WebApplication.CreateSlimBuilder();
        builder.UseTestSilo();
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        builder.Services.AddSocketIO();
        using var app = builder.Build();

        var options = app.Services.GetRequiredService<IOptions<SocketIOOptions>>().Value;

        Assert.Equal(TimeSpan.FromSeconds(10), options.PingInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), options.PingTimeout);
        Assert.Equal(100_000_000, options.MaxHttpBufferSize);
        Assert.Equal(SocketIOTransports.WebSocket, options.Transports);
        Assert.False(options.AllowUpgrades);
        Assert.Equal(TimeSpan.FromSeconds(30), options.ConnectTimeout);
    }

    [Fact]
    public async Task Code_sample_configures_after_the_section()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.UseTestSilo();
        builder.Configuration.AddInMemoryCollection([new("SocketIO:PingInterval", "00:00:03"), new("SocketIO:PingTimeout", "00:00:04")]);

        // docs/configuration.md: In code
        builder.Services.AddSocketIO(options =>
        {
            options.PingInterval = TimeSpan.FromSeconds(10);
            options.AllowRequest = context => ValueTask.FromResult(context.Request.Headers.Origin == "https://example.com");
            options.JsonSerializerOptions = new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = false };
        });

        using var app = builder.Build();
        var options = app.Services.GetRequiredService<IOptions<SocketIOOptions>>().Value;

        Assert.Equal(TimeSpan.FromSeconds(10), options.PingInterval);
        Assert.Equal(TimeSpan.FromSeconds(4), options.PingTimeout);
        var context = new DefaultHttpContext();
        context.Request.Headers.Origin = "https://example.com";
        Assert.True(await options.AllowRequest!(context));
        context.Request.Headers.Origin = "https://evil.example";
        Assert.False(await options.AllowRequest!(context));
    }

    [Fact]
    public async Task Acknowledgement_timeout_applies_where_the_call_sets_none()
    {
        var time = new FakeTimeProvider();
        var logger = new RecordingLogger();
        var builder = DocsHost.NewBuilder();
        builder.UseTestSilo();

        // docs/configuration.md: Acknowledgement timeout
        builder.Services.AddSocketIO(options => options.AckTimeout = TimeSpan.FromSeconds(10));

        builder.Services.AddSingleton<TimeProvider>(time);
        await using var node = await DocsHost.StartAsync(builder, app => app.MapSocketIO());
        var io = node.Io;
        await using var client = await TestClient.ConnectAsync(node.Url);
        client.AutoAcks["slow-question"] = "late answer";

        async Task<SocketArguments> SampleAsync(Socket socket)
        {
            // docs/configuration.md: Acknowledgement timeout (a call's own Timeout)
            try
            {
                var answers = await io.EmitWithAckAsync("question"); // at most 10 s
            }
            catch (BroadcastAckTimeoutException timeout)
            {
                logger.LogWarning("{Count} sockets answered in time", timeout.Responses.Count);
            }

            var answer = await socket.Timeout(TimeSpan.FromMinutes(1)).EmitWithAckAsync("slow-question"); // its own timeout

            return answer;
        }

        var sample = SampleAsync(io.Sockets.Sockets[client.Id]);
        await client.ExpectEventAsync("question");
        time.Advance(TimeSpan.FromSeconds(10));
        await logger.ExpectAsync("0 sockets answered in time");
        await client.ExpectEventAsync("slow-question");
        Assert.Equal("late answer", (await sample.WaitAsync(TestClient.DefaultWait, TimeProvider.System)).Get<string>(0));
    }

    [Fact]
    public void Invalid_values_stop_the_host_at_start_up()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.UseTestSilo();
        builder.Configuration.AddInMemoryCollection([new("SocketIO:PingInterval", "00:00:00.001")]);
        builder.Services.AddSocketIO();
        using var app = builder.Build();

        var error = Assert.Throws<OptionsValidationException>(() => app.Services.GetRequiredService<IOptions<SocketIOOptions>>().Value);
        Assert.Contains("PingInterval", error.Message, StringComparison.Ordinal);
    }
}
