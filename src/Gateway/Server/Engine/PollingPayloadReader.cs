using System.Buffers;
using System.IO.Pipelines;

namespace OrleansRooms.Engine;

/// <summary>What reading a polling POST's payload came to.</summary>
internal enum PostOutcome
{
    Ok,
    Invalid,
    TooLarge,
}

/// <summary>
/// Reads the payload of a polling POST and hands each packet to the session as soon as its separator (or the end of
/// the body) arrives. Every read is consumed in full, a packet cut by the end of a read being copied aside until its
/// rest arrives: Kestrel's body reader, once left with examined but unconsumed bytes, keeps its connection's pipe
/// marked as reading when the request then ends early, and the connection ends with a warning and a stack trace
/// (dotnet/aspnetcore#17840, #19476).
/// </summary>
internal static class PollingPayloadReader
{
    private const byte RecordSeparator = 0x1E;

    /// <summary>Delivers the payload's packets; stops at an invalid packet (parse error, client ping), at the session's close, or past <paramref name="max"/> bytes.</summary>
    public static async Task<PostOutcome> ReadAsync(PipeReader body, long? contentLength, int max, EngineSession session)
    {
        if (contentLength > max)
        {
            return PostOutcome.TooLarge;
        }

        var cut = new CutPacket();
        try
        {
            long received = 0;
            while (true)
            {
                // No cancellation token: Kestrel ends the read itself when the client goes away, whereas a read
                // cancelled by a token leaves its body reader marked as reading too.
                var result = await body.ReadAsync();
                var buffer = result.Buffer;

                // Each read holds only new bytes (everything before was consumed), so this is the body's length so far.
                received += buffer.Length;
                if (received > max)
                {
                    body.AdvanceTo(buffer.End);
                    return PostOutcome.TooLarge;
                }

                var outcome = Receive(session, buffer, result.IsCompleted, ref cut, out var stop);
                body.AdvanceTo(buffer.End);
                if (stop)
                {
                    return outcome;
                }
            }
        }
        finally
        {
            cut.Release();
        }
    }

    private static PostOutcome Receive(EngineSession session, in ReadOnlySequence<byte> buffer, bool isFinal, ref CutPacket cut, out bool stop)
    {
        var reader = new SequenceReader<byte>(buffer);
        PacketResult result;
        if (cut.Length != 0)
        {
            if (reader.TryReadTo(out ReadOnlySequence<byte> rest, RecordSeparator))
            {
                cut.Append(rest);
                result = session.ReceivePacket(cut.Sequence, isBinary: false, fromPolling: true);
                cut.Clear();
                if (result != PacketResult.Continue)
                {
                    stop = true;
                    return ToOutcome(result);
                }
            }
            else
            {
                cut.Append(reader.UnreadSequence);
                stop = isFinal;
                return isFinal ? ToOutcome(session.ReceivePacket(cut.Sequence, isBinary: false, fromPolling: true)) : PostOutcome.Ok;
            }
        }

        while (reader.TryReadTo(out ReadOnlySequence<byte> packet, RecordSeparator))
        {
            result = session.ReceivePacket(packet, isBinary: false, fromPolling: true);
            if (result != PacketResult.Continue)
            {
                stop = true;
                return ToOutcome(result);
            }
        }

        stop = isFinal;
        if (isFinal)
        {
            // The last packet has no separator after it; an empty one (empty body, trailing separator) is malformed.
            return ToOutcome(session.ReceivePacket(reader.UnreadSequence, isBinary: false, fromPolling: true));
        }

        cut.Append(reader.UnreadSequence);
        return PostOutcome.Ok;
    }

    private static PostOutcome ToOutcome(PacketResult result) => result == PacketResult.Invalid ? PostOutcome.Invalid : PostOutcome.Ok;

    /// <summary>The start of a packet that a read ended in the middle of, in a pooled buffer (at most the payload limit).</summary>
    private struct CutPacket
    {
        private byte[]? _buffer;
        private int _length;

        public readonly int Length => _length;

        public readonly ReadOnlySequence<byte> Sequence => new(_buffer ?? [], 0, _length);

        public void Append(in ReadOnlySequence<byte> bytes)
        {
            if (bytes.IsEmpty)
            {
                return;
            }

            var needed = _length + (int)bytes.Length;
            if (_buffer is null || _buffer.Length < needed)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 256));
                if (_buffer is not null)
                {
                    _buffer.AsSpan(0, _length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(_buffer);
                }

                _buffer = larger;
            }

            bytes.CopyTo(_buffer.AsSpan(_length));
            _length = needed;
        }

        public void Clear() => _length = 0;

        public void Release()
        {
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = null;
            }

            _length = 0;
        }
    }
}
