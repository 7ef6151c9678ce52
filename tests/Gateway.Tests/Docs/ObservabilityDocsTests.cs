using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using OrleansRooms.Specification;
using OrleansRooms.Tests.SocketIO;

namespace OrleansRooms.Tests.Docs;

/// <summary>The samples of <c>docs/observability.md</c>, with the OpenTelemetry SDK exporting to memory as well.</summary>
[Collection(GatewayActivitySourceCollection.Name)]
public sealed class ObservabilityDocsTests
{
    [Fact]
    public async Task The_gateway_source_and_meter_export_spans_and_every_documented_instrument()
    {
        var builder = DocsHost.NewBuilder();
        builder.UseTestSilo();
        builder.Services.AddSocketIO();

        // docs/observability.md: Exporting
        builder.Services.AddOpenTelemetry()
            .WithTracing(tracing => tracing
                .AddSource("OrleansRooms.Gateway")
                .AddAspNetCoreInstrumentation()
                .AddConsoleExporter())
            .WithMetrics(metrics => metrics
                .AddMeter("OrleansRooms.Gateway")
                .AddConsoleExporter());

        // docs/observability.md: Grain calls
        builder.UseOrleans(silo => silo.AddActivityPropagation());
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddSource("Microsoft.Orleans.Runtime"));

        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans));
        builder.Services.ConfigureOpenTelemetryMeterProvider(meters => meters.AddInMemoryExporter(metrics));
        var app = builder.Build();
        app.MapSocketIO("/socket.io", io => io.OnConnection(socket =>
        {
            var joined = socket.JoinAsync("room").AsTask();
            socket.On("say", async e =>
            {
                await joined;
                await io.To("room").EmitAsync("said", e.Get<string>(0));
            });
        }));

        var socketId = "";
        await using (app)
        {
            await app.StartAsync();
            await using var client = await TestClient.ConnectAsync(new Uri(app.Urls.First()));
            socketId = client.Id;
            await client.EmitAsync("say", "hello");
            await client.ExpectEventAsync("said");
            await client.DisposeAsync();
            await app.StopAsync();
        }

        // Stopping the host flushed both exporters.
        var names = spans.Select(s => s.OperationName).ToHashSet();
        foreach (var name in new[] { "engineio.handshake", "socketio.connect", "socketio.join", "socketio.event", "socketio.broadcast" })
        {
            Assert.Contains(name, names);
        }

        // A handshake is a child of its HTTP request. The sources are the process's: tests running beside this one add
        // handshakes whose requests may end after this host stopped, so this client's is one of those that have theirs.
        Assert.Contains(spans, handshake => handshake.OperationName == "engineio.handshake"
            && spans.Any(s => s.Source.Name == "Microsoft.AspNetCore" && s.SpanId == handshake.ParentSpanId));

        // The join's grain calls are its children (Orleans' propagation, on the source Orleans puts this project's grains on).
        var join = spans.Single(s => s.OperationName == "socketio.join" && (string?)s.GetTagItem("socketio.socket.id") == socketId);
        Assert.Contains(spans, s => s.Source.Name == "Microsoft.Orleans.Runtime" && s.OperationName == "ISocketGrain/JoinAsync" && s.ParentSpanId == join.SpanId);

        var documented = DocumentedInstruments();
        var exported = metrics.Select(m => m.Name).ToHashSet();
        foreach (var histogram in new[] { "orleansrooms.engine.handshake.duration", "orleansrooms.socketio.event.duration", "orleansrooms.socketio.room_change.duration", "orleansrooms.socketio.broadcast.recipients" })
        {
            var metric = metrics.First(m => m.Name == histogram);
            Assert.Equal(MetricType.Histogram, metric.MetricType & MetricType.Histogram);
            long count = 0;
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                count += point.GetHistogramCount();
            }

            Assert.True(count > 0, histogram + " recorded nothing");
        }

        Assert.Empty(exported.Except(documented));
    }

    // The instrument names of the table in docs/observability.md ("Metrics").
    private static HashSet<string> DocumentedInstruments()
    {
        var page = File.ReadAllText(Path.Combine(DocsPages.RepositoryRoot(), "docs", "observability.md"));
        return [.. System.Text.RegularExpressions.Regex.Matches(page, @"^\| `(?<name>orleansrooms\.[a-z_.]+)`", System.Text.RegularExpressions.RegexOptions.Multiline).Select(m => m.Groups["name"].Value)];
    }
}
