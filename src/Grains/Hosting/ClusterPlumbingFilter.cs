using OrleansRooms.Grains.Routing;

namespace OrleansRooms.Grains.Hosting;

/// <summary>
/// Keeps the cluster's plumbing to its silos: a call from an Orleans client (a process that joined the cluster as a
/// client, not a silo) to any OrleansRooms grain or service other than the emitter grain is refused. Without it, any
/// client of the cluster could inject packets into a gateway or rewrite the rooms of any socket. The interfaces are
/// internal too; this holds against a client that reaches them anyway.
/// </summary>
internal sealed class ClusterPlumbingFilter : IIncomingGrainCallFilter
{
    // A silo's own non-grain code (a gateway's ASP.NET Core code) calls through the silo's hosted client.
    private const string HostedClientPrefix = "hosted-";

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.SourceId is { } source
            && source.IsClient()
            && !source.Key.ToString().StartsWith(HostedClientPrefix, StringComparison.Ordinal)
            && context.InterfaceMethod.DeclaringType is { } type
            && type.Assembly == typeof(ClusterPlumbingFilter).Assembly
            && type != typeof(IEmitterGrain))
        {
            throw new UnauthorizedAccessException($"{type.Name}.{context.MethodName} is internal to the OrleansRooms cluster; Orleans clients send through the emitter.");
        }

        return context.Invoke();
    }
}
