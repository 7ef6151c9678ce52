using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OrleansRooms.Engine;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps an Engine.IO endpoint on its own.</summary>
public static class EngineIOEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the <see cref="EngineIOServer"/> registered by <c>AddEngineIO</c> at <paramref name="path"/> (the
    /// clients' default is <c>/engine.io</c>) for long-polling and WebSocket, and configures it, typically with
    /// <see cref="EngineIOServer.OnConnection"/>. The result accepts the usual conventions (<c>RequireCors</c>, ...).
    /// </summary>
    public static IEndpointConventionBuilder MapEngineIO(this IEndpointRouteBuilder endpoints, string path, Action<EngineIOServer> configure)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(configure);
        var server = endpoints.ServiceProvider.GetRequiredService<EngineIOServer>();
        configure(server);
        return endpoints.Map(path.TrimEnd('/') + "/", server.Engine.HandleRequestAsync).WithDisplayName("Engine.IO");
    }
}
