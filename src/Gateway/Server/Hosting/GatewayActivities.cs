using System.Diagnostics;

namespace OrleansRooms.Hosting;

/// <summary>
/// The gateway's spans, on the <c>OrleansRooms.Gateway</c> activity source (the name of its meter too), for
/// <c>AddSource</c> in OpenTelemetry. Every span starts only when something listens to the source: without a listener
/// <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns null and nothing is allocated.
/// </summary>
internal static class GatewayActivities
{
    /// <summary>The activity source name.</summary>
    public const string SourceName = "OrleansRooms.Gateway";

    public const string Handshake = "engineio.handshake";
    public const string Connect = "socketio.connect";
    public const string Event = "socketio.event";
    public const string Broadcast = "socketio.broadcast";
    public const string Deliver = "socketio.deliver";
    public const string Join = "socketio.join";
    public const string Leave = "socketio.leave";

    public const string TransportTag = "engineio.transport";
    public const string NamespaceTag = "socketio.namespace";
    public const string SocketIdTag = "socketio.socket.id";
    public const string EventNameTag = "socketio.event.name";
    public const string RoomsTag = "socketio.rooms";
    public const string ExceptTag = "socketio.except";
    public const string RecipientsTag = "socketio.broadcast.recipients";
    public const string GatewaysTag = "socketio.broadcast.gateways";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// Starts a span that is the root of a trace of its own, whatever request it runs in (a WebSocket's request lasts as
    /// long as its connection, and would otherwise be the parent of everything the connection does); null when nothing
    /// listens. The span is Activity.Current until <see cref="Restore"/>.
    /// </summary>
    public static Activity? StartRoot(string name, ActivityKind kind, out Activity? previous)
    {
        previous = Activity.Current;
        if (!Source.HasListeners())
        {
            return null;
        }

        Activity.Current = null;
        var activity = Source.StartActivity(name, kind);
        if (activity is null)
        {
            Activity.Current = previous;
        }

        return activity;
    }

    /// <summary>Makes <paramref name="previous"/> current again once a span of <see cref="StartRoot"/> ran its synchronous part.</summary>
    public static void Restore(Activity? activity, Activity? previous)
    {
        if (activity is not null)
        {
            Activity.Current = previous;
        }
    }

    /// <summary>The current span when it is one of this source's named <paramref name="name"/>; otherwise null.</summary>
    public static Activity? CurrentOf(string name) =>
        Activity.Current is { } current && ReferenceEquals(current.Source, Source) && current.OperationName == name ? current : null;

    /// <summary>Starts the span of a message another gateway sent, as a child of the span that sent it when it carries one.</summary>
    public static Activity? StartFromMessage(string name, string? traceParent)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        return traceParent is not null && ActivityContext.TryParse(traceParent, null, isRemote: true, out var parent)
            ? Source.StartActivity(name, ActivityKind.Consumer, parent)
            : Source.StartActivity(name, ActivityKind.Consumer);
    }

    /// <summary>Marks a span failed with <paramref name="exception"/>.</summary>
    public static void Fail(Activity? activity, Exception exception)
    {
        if (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
            activity.AddException(exception);
        }
    }
}
