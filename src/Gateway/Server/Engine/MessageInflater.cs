using System.Buffers;
using System.IO.Compression;

namespace OrleansRooms.Engine;

/// <summary>
/// Inflates the compressed messages of one WebSocket (RFC 7692 §7.2.2). One inflate stream is kept from message to
/// message, since a client that did not agree to <c>client_no_context_takeover</c> refers back to what it sent before;
/// with that agreement the stream is dropped after each message, so an idle connection holds no inflate state. The
/// output is bounded: a message that inflates past the limit is refused before more is inflated.
/// </summary>
internal sealed class MessageInflater(bool resetAfterEachMessage) : IDisposable
{
    private readonly MessageFeed _feed = new();
    private DeflateStream? _inflater;

    /// <summary>
    /// Inflates <paramref name="compressed"/> into a buffer rented from <see cref="ArrayPool{T}.Shared"/> (the caller
    /// returns it). False, with no buffer held, when the message inflates to more than <paramref name="maxLength"/> bytes.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not a valid deflate stream.</exception>
    public bool TryInflate(ReadOnlyMemory<byte> compressed, int maxLength, out byte[] inflated, out int length)
    {
        _feed.Start(compressed);
        _inflater ??= new DeflateStream(_feed, CompressionMode.Decompress, leaveOpen: true);

        // Reads up to one byte more than allowed: reaching it means the message is too large.
        var limit = maxLength + 1L;
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit, Math.Max(4096L, compressed.Length * 4L)));
        length = 0;
        try
        {
            while (true)
            {
                if (length == limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = [];
                    inflated = [];
                    length = 0;
                    Reset();
                    return false;
                }

                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit, buffer.Length * 2L));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = _inflater.Read(buffer, length, (int)Math.Min(buffer.Length, limit) - length);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }
        }
        catch
        {
            if (buffer.Length != 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            Reset();
            throw;
        }

        if (resetAfterEachMessage)
        {
            Reset();
        }

        inflated = buffer;
        return true;
    }

    public void Dispose() => Reset();

    private void Reset()
    {
        _inflater?.Dispose();
        _inflater = null;
    }

    /// <summary>The stream the inflater reads: one message's bytes, then the 0x00 0x00 0xFF 0xFF its sender removed (§7.2.2).</summary>
    private sealed class MessageFeed : Stream
    {
        private static readonly byte[] Tail = [0x00, 0x00, 0xFF, 0xFF];

        private ReadOnlyMemory<byte> _message;
        private int _tailRead = Tail.Length;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public void Start(ReadOnlyMemory<byte> message)
        {
            _message = message;
            _tailRead = 0;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (!_message.IsEmpty)
            {
                var n = Math.Min(buffer.Length, _message.Length);
                _message.Span[..n].CopyTo(buffer);
                _message = _message[n..];
                return n;
            }

            var tail = Math.Min(buffer.Length, Tail.Length - _tailRead);
            Tail.AsSpan(_tailRead, tail).CopyTo(buffer);
            _tailRead += tail;
            return tail;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
