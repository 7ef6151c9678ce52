using System.Globalization;
using System.Text.Json;
using OrleansRooms.LoadGenerator;

// OrleansRooms.LoadGenerator <broadcast|joinleave|memory|report> [--option value]...
// Every load scenario writes one JSON result (--out); `report` turns a directory of them into docs/benchmarks.md.
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: OrleansRooms.LoadGenerator broadcast|joinleave|memory|report [--option value]...");
    return 2;
}

var options = Options.Parse(args.AsSpan(1));
EpollReceiver.Configure(options.Int("--receivers", 1));
WsClient.OfferDeflate = options.Int("--deflate", 0) != 0;
WsClient.Protocol = options.Get("--protocol", "socketio") switch
{
    "socketio" => WireProtocol.SocketIO,
    "signalr" => WireProtocol.SignalR,
    var other => throw new ArgumentException($"--protocol {other}: expected socketio or signalr"),
};
ThreadPool.SetMinThreads(8, 8); // no ramp-up delay for receive continuations when a step starts
object result;
switch (args[0])
{
    case "broadcast":
        result = await Scenarios.BroadcastAsync(options);
        break;
    case "joinleave":
        result = await Scenarios.JoinLeaveAsync(options);
        break;
    case "memory":
        result = await Scenarios.MemoryAsync(options);
        break;
    case "report":
        Report.Write(options.Get("--results", "artifacts/bench"), options.Get("--md", "docs/benchmarks.md"), options.Get("--svg", "docs/benchmarks.svg"));
        return 0;
    default:
        Console.Error.WriteLine($"unknown scenario {args[0]}");
        return 2;
}

var json = JsonSerializer.Serialize(result, result.GetType(), new JsonSerializerOptions { WriteIndented = true });
if (options.Find("--out") is { } path)
{
    File.WriteAllText(path, json);
}

Console.WriteLine(json);
return 0;

internal sealed class Options
{
    private readonly Dictionary<string, string> _values = [];

    public static Options Parse(ReadOnlySpan<string> args)
    {
        var options = new Options();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            options._values[args[i]] = args[i + 1];
        }

        return options;
    }

    public string? Find(string name) => _values.GetValueOrDefault(name);

    public string Get(string name, string fallback) => _values.GetValueOrDefault(name, fallback);

    public int Int(string name, int fallback) => _values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) =>
        _values.TryGetValue(name, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public int[] Ints(string name) =>
        _values.TryGetValue(name, out var v) && v.Length > 0
            ? [.. v.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))]
            : [];
}
