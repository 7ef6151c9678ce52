using System.Net;
using OrleansRooms.Silo.Host.Health;

// A grain-only OrleansRooms silo: it joins the gateways' Orleans cluster and hosts room, namespace and socket-index
// grains beside them. It has no Socket.IO endpoint and no gateway inbox, so it is never sent broadcasts.
var builder = WebApplication.CreateSlimBuilder(args);

// /healthz and /silo on localhost:3010, unless --urls, ASPNETCORE_URLS or ASPNETCORE_HTTP_PORTS say otherwise.
if (builder.Configuration["urls"] is null && builder.Configuration["http_ports"] is null)
{
    builder.WebHost.UseUrls("http://localhost:3010");
}

// Orleans reads its own section "Orleans": ClusterId, ServiceId, Endpoints (SiloPort, GatewayPort,
// AdvertisedIPAddress) and Clustering (such as ProviderType=Redis with a ConnectionString). With no Clustering, this silo
// joins the development cluster of a gateway started with `dotnet run --project src/Gateway/Host` on this machine,
// whose silo listens on 127.0.0.1:11111 and holds the membership table.
builder.UseOrleans(silo =>
{
    if (!builder.Configuration.GetSection("Orleans:Clustering").Exists())
    {
        silo.UseLocalhostClustering(
            siloPort: builder.Configuration.GetValue("Orleans:Endpoints:SiloPort", 11112),
            gatewayPort: builder.Configuration.GetValue("Orleans:Endpoints:GatewayPort", 0),
            primarySiloEndpoint: new IPEndPoint(IPAddress.Loopback, 11111));
    }

    // With Orleans:Dashboard:Enabled, set alike on every silo of the cluster, this silo reports to the Orleans Dashboard;
    // the gateways serve it (docs/orleans-dashboard.md).
    silo.AddOrleansRooms();
});

builder.Services.AddHealthChecks().AddCheck<ActiveSiloHealthCheck>("orleans-membership");

var app = builder.Build();

// A setting that keeps the silo from starting (an unusable URL, a taken port, a membership Redis that does not answer)
// ends it here with one line on standard error.
if (!app.CheckStartup())
{
    return HostStartupExtensions.StartupFailedExitCode;
}

// 200 "Healthy" while membership lists this silo as active, 503 otherwise (joining, shutting down, declared dead).
app.MapHealthChecks("/healthz");

// This silo: its address, its membership status, the active silos it sees (itself and the gateways included), and how
// many activations of each grain type it holds.
app.MapGet("/silo", async (ILocalSiloDetails silo, IClusterMembershipService membership, IGrainFactory grains) =>
{
    var snapshot = membership.CurrentSnapshot;
    var active = snapshot.Members.Values
        .Where(member => member.Status == SiloStatus.Active)
        .Select(member => member.SiloAddress.ToParsableString())
        .Order(StringComparer.Ordinal)
        .ToArray();
    var statistics = await grains.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics([silo.SiloAddress]);
    var activations = new SortedDictionary<string, int>(StringComparer.Ordinal);
    foreach (var statistic in statistics)
    {
        activations[statistic.GrainType] = activations.GetValueOrDefault(statistic.GrainType) + statistic.ActivationCount;
    }

    return Results.Json(new SiloReport(
        silo.SiloAddress.ToParsableString(),
        silo.Name,
        snapshot.GetSiloStatus(silo.SiloAddress).ToString(),
        active,
        activations));
});

return app.RunChecked();

internal sealed record SiloReport(string Address, string Name, string Status, IReadOnlyList<string> ActiveSilos, IReadOnlyDictionary<string, int> Activations);
