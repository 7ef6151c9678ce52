namespace OrleansRooms.Conformance.Infrastructure;

/// <summary>Runs a JavaScript scenario with node and the official <c>socket.io-client</c> of <c>tests/conformance</c>.</summary>
internal static class NodeScenario
{
    private static readonly NodeClientFolder Folder = new(
        "ConformanceDirectory",
        ["socket.io-client", "puppeteer-core"],
        "io, URL, connect, connected, once, ack, record, eq, assert, bytes, done");

    /// <inheritdoc cref="NodeClientFolder.RunAsync"/>
    public static Task<string> RunAsync(Uri gateway, string script, TimeSpan? timeout = null) => Folder.RunAsync(gateway, script, timeout);
}
