using System.Diagnostics;

namespace OrleansRooms.LoadGenerator;

/// <summary>
/// The published payload: a 10-digit sequence number (step * 10^8 + message index), then the intended send time in
/// Stopwatch ticks (19 digits), then 'x' up to the payload size. Each server emits it back as <c>42["msg","...</c>
/// (SignalR: <c>{"type":1,"target":"msg","arguments":["...</c>), so receivers find both numbers at fixed offsets with
/// no JSON parsing.
/// </summary>
internal static class Payload
{
    public const int Header = 29;
    public const long StepSpan = 100_000_000;

    public static ReadOnlySpan<byte> EventPrefix => "42[\"msg\",\""u8;

    /// <summary>The start of a SignalR "msg" invocation as the JSON hub protocol writes it (type, target, arguments).</summary>
    public static ReadOnlySpan<byte> SignalRPrefix => "{\"type\":1,\"target\":\"msg\",\"arguments\":[\""u8;

    public static void Write(Span<byte> destination, long sequence, long timestamp)
    {
        WriteDigits(destination[..10], sequence);
        WriteDigits(destination.Slice(10, 19), timestamp);
    }

    public static long ReadDigits(ReadOnlySpan<byte> digits)
    {
        long v = 0;
        foreach (var d in digits)
        {
            v = (v * 10) + (d - '0');
        }

        return v;
    }

    private static void WriteDigits(Span<byte> destination, long value)
    {
        for (var i = destination.Length - 1; i >= 0; i--)
        {
            destination[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }
}

/// <summary>Counts deliveries per step and records their latency for the step being measured.</summary>
internal sealed class Measurement
{
    private static readonly double s_ticksPerMicro = Stopwatch.Frequency / 1_000_000.0;
    private readonly long[] _received = new long[100];
    private Histogram _latency = new();
    private Histogram _acks = new();
    private int _step = -1;
    private long _closed;
    private long _deliveries;

    public Histogram Latency => _latency;

    public Histogram Acks => _acks;

    public long Closed => Interlocked.Read(ref _closed);

    /// <summary>All deliveries of every step, late ones included.</summary>
    public long Deliveries => Interlocked.Read(ref _deliveries);

    public long Received(int step) => Interlocked.Read(ref _received[step]);

    public void StartStep(int step)
    {
        _latency = new Histogram();
        Volatile.Write(ref _step, step);
    }

    public void ResetAcks() => _acks = new Histogram();

    /// <summary>One "msg" received; <paramref name="body"/> starts where the payload starts.</summary>
    public void OnDelivery(ReadOnlySpan<byte> body)
    {
        if (body.Length < Payload.Header)
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        var sequence = Payload.ReadDigits(body[..10]);
        var sent = Payload.ReadDigits(body.Slice(10, 19));
        var step = (int)(sequence / Payload.StepSpan);
        Interlocked.Increment(ref _deliveries);
        if ((uint)step < (uint)_received.Length)
        {
            Interlocked.Increment(ref _received[step]);
        }

        if (step == Volatile.Read(ref _step))
        {
            _latency.Record((long)((now - sent) / s_ticksPerMicro));
        }
    }

    public void OnAck(TimeSpan elapsed) => _acks.Record((long)(elapsed.Ticks / 10.0));

    public void OnClosed() => Interlocked.Increment(ref _closed);
}
