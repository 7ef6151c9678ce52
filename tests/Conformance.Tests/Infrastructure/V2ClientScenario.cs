namespace OrleansRooms.Conformance.Infrastructure;

/// <summary>
/// Runs a JavaScript scenario with node and <c>socket.io-client</c> 2.x (Engine.IO v3, Socket.IO protocol v4), the
/// client older apps ship, installed in <c>tests/compat-v2</c> with a harness of its own.
/// </summary>
internal static class V2ClientScenario
{
    private static readonly NodeClientFolder Folder = new(
        "CompatV2Directory",
        ["socket.io-client"],
        "io, URL, connect, connected, once, ack, record, eq, assert, bytes, transport, done");

    /// <summary>tests/compat-v2, where the client is installed.</summary>
    public static string Directory => Folder.Path;

    /// <inheritdoc cref="NodeClientFolder.RunAsync"/>
    public static Task<string> RunAsync(Uri gateway, string script, TimeSpan? timeout = null) => Folder.RunAsync(gateway, script, timeout);
}
