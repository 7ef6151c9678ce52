using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OrleansRooms;
using OrleansRooms.Engine;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Socket.IO endpoint.</summary>
public static class SocketIOEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the Engine.IO / Socket.IO endpoint at <paramref name="path"/> (default <c>/socket.io</c>, the clients'
    /// default) for long-polling and WebSocket. The result accepts the usual conventions, such as
    /// <c>RequireCors</c> and <c>RequireAuthorization</c> (for every namespace at once; see
    /// <see cref="Namespace.RequireAuthorization(string[])"/> for one namespace).
    /// </summary>
    public static IEndpointConventionBuilder MapSocketIO(this IEndpointRouteBuilder endpoints, string path = "/socket.io")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var engine = endpoints.ServiceProvider.GetRequiredService<EngineServer>();
        return endpoints.Map(path.TrimEnd('/') + "/", engine.HandleRequestAsync).WithDisplayName("Socket.IO");
    }

    /// <summary>Maps the endpoint and configures the server, typically its connection handlers.</summary>
    public static IEndpointConventionBuilder MapSocketIO(this IEndpointRouteBuilder endpoints, string path, Action<SocketIOServer> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var builder = endpoints.MapSocketIO(path);
        configure(endpoints.ServiceProvider.GetRequiredService<SocketIOServer>());
        return builder;
    }
}
