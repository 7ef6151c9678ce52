using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansRooms.Specification;

namespace OrleansRooms.Tests.Docs;

/// <summary>The samples and the option table of <c>docs/recovery.md</c>.</summary>
public sealed class RecoveryDocsTests
{
    [Fact]
    public void Recovery_is_off_by_default_and_its_defaults_are_those_of_the_table()
    {
        Assert.Null(new SocketIOOptions().ConnectionStateRecovery);
        var options = new Grains.Recovery.ConnectionStateRecoveryOptions();

        Assert.Equal(TimeSpan.FromMinutes(2), options.MaxDisconnectionDuration);
        Assert.True(options.SkipMiddlewares);
        Assert.Equal(10_000, options.MaxMissedPackets);
        Assert.Equal(4_194_304, options.MaxMissedBytes);
        Assert.Equal(10_000, options.HistoryPackets);
        Assert.Equal(16_777_216, options.HistoryBytes);
    }

    [Fact]
    public void The_code_sample_turns_recovery_on()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.UseTestSilo();

        builder.Services.AddSocketIO(options => options.ConnectionStateRecovery = new()
        {
            MaxDisconnectionDuration = TimeSpan.FromMinutes(2),
            SkipMiddlewares = true,
        });

        using var app = builder.Build();
        var recovery = app.Services.GetRequiredService<IOptions<SocketIOOptions>>().Value.ConnectionStateRecovery;
        Assert.NotNull(recovery);
        Assert.Equal(TimeSpan.FromMinutes(2), recovery.MaxDisconnectionDuration);
    }

    [Fact]
    public void The_json_sample_binds_the_section_and_a_bad_value_stops_the_host_with_its_name()
    {
        var json = Assert.Single(DocsPages.Blocks("recovery.md", "json"));
        var builder = WebApplication.CreateSlimBuilder();
        builder.UseTestSilo();
        builder.Configuration.AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json)));
        builder.Services.AddSocketIO();
        using (var app = builder.Build())
        {
            Assert.Equal(TimeSpan.FromMinutes(2), app.Services.GetRequiredService<IOptions<SocketIOOptions>>().Value.ConnectionStateRecovery?.MaxDisconnectionDuration);
        }

        var bad = WebApplication.CreateSlimBuilder();
        bad.UseTestSilo();
        bad.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["SocketIO:ConnectionStateRecovery:MaxMissedPackets"] = "0" });
        bad.Services.AddSocketIO();
        using var failing = bad.Build();
        var error = Assert.Throws<OptionsValidationException>(() => failing.Services.GetRequiredService<IOptions<SocketIOOptions>>().Value);
        Assert.Contains("SocketIO:ConnectionStateRecovery:MaxMissedPackets must be at least 1.", error.Message);
    }
}
