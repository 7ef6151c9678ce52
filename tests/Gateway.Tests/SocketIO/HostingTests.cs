using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace OrleansRooms.Tests.SocketIO;

public sealed class HostingTests
{
    [Fact]
    public void Options_are_bound_from_the_SocketIO_configuration_section()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SocketIO:PingInterval"] = "00:00:05",
            ["SocketIO:MaxHttpBufferSize"] = "2048",
            ["SocketIO:Transports"] = "WebSocket",
        });
        builder.Services.AddSocketIO();
        using var app = builder.Build();

        var options = app.Services.GetRequiredService<IOptions<SocketIOOptions>>().Value;

        Assert.Equal(TimeSpan.FromSeconds(5), options.PingInterval);
        Assert.Equal(2048, options.MaxHttpBufferSize);
        Assert.Equal(TimeSpan.FromSeconds(20), options.PingTimeout);
        Assert.Equal(SocketIOTransports.WebSocket, options.Transports);
    }

    [Fact]
    public async Task Invalid_options_stop_the_host_at_start_up()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Services.AddSocketIO(o => o.MaxHttpBufferSize = 0);
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("MaxHttpBufferSize", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transports_must_name_at_least_one()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Services.AddSocketIO(o => o.Transports = SocketIOTransports.None);
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Transports", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_server_is_a_singleton_resolved_from_dependency_injection()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddSocketIO();
        using var app = builder.Build();

        Assert.Same(app.Services.GetRequiredService<SocketIOServer>(), app.Services.GetRequiredService<SocketIOServer>());
        Assert.Equal("/", app.Services.GetRequiredService<SocketIOServer>().Sockets.Name);
    }
}
