using System.Buffers.Text;

namespace OrleansRooms.Grains.Recovery;

/// <summary>
/// How far a reader got in each sender's sequence of broadcasts of one namespace: for each sender (a silo that
/// broadcasts, named by <see cref="RecoveryVector.SenderOf"/>), the last sequence number it has taken. Every silo takes
/// each sender's broadcasts in sequence order, so a vector says exactly which broadcasts came before: this is the
/// offset a gateway appends to each packet, and what a client hands back to recover. Senders interleave differently on
/// each silo; one number per sender is what makes an offset mean the same thing on every silo. Immutable.
/// </summary>
[GenerateSerializer, Immutable, Alias("orleansrooms.recovery-vector")]
internal readonly struct RecoveryVector : IEquatable<RecoveryVector>
{
    private const byte Version = 1;

    [Id(0)]
    private readonly (uint Sender, long Sequence)[]? _entries;

    private RecoveryVector((uint, long)[] entries) => _entries = entries;

    /// <summary>No broadcast taken from anyone.</summary>
    public static RecoveryVector Empty => default;

    /// <summary>The senders and their last sequence numbers, by sender.</summary>
    public ReadOnlySpan<(uint Sender, long Sequence)> Entries => _entries;

    /// <summary>The name of a sender in a vector: a hash of its silo address (generation included), the same on every silo.</summary>
    public static uint SenderOf(SiloAddress silo) => unchecked((uint)silo.GetConsistentHashCode());

    /// <summary>The last sequence number taken from <paramref name="sender"/>; 0 for none.</summary>
    public long this[uint sender]
    {
        get
        {
            foreach (var (s, sequence) in Entries)
            {
                if (s == sender)
                {
                    return sequence;
                }
            }

            return 0;
        }
    }

    /// <summary>This vector with <paramref name="sender"/> at <paramref name="sequence"/>.</summary>
    public RecoveryVector With(uint sender, long sequence)
    {
        var entries = Entries;
        var index = 0;
        while (index < entries.Length && entries[index].Sender < sender)
        {
            index++;
        }

        if (index < entries.Length && entries[index].Sender == sender)
        {
            var copy = entries.ToArray();
            copy[index] = (sender, sequence);
            return new RecoveryVector(copy);
        }

        var grown = new (uint, long)[entries.Length + 1];
        entries[..index].CopyTo(grown);
        grown[index] = (sender, sequence);
        entries[index..].CopyTo(grown.AsSpan(index + 1));
        return new RecoveryVector(grown);
    }

    /// <summary>This vector without <paramref name="sender"/>.</summary>
    public RecoveryVector Without(uint sender)
    {
        var list = new List<(uint, long)>(Entries.Length);
        foreach (var entry in Entries)
        {
            if (entry.Sender != sender)
            {
                list.Add(entry);
            }
        }

        return list.Count == Entries.Length ? this : new RecoveryVector([.. list]);
    }

    /// <summary>For each sender, the larger of the two.</summary>
    public RecoveryVector Max(RecoveryVector other)
    {
        var result = this;
        foreach (var (sender, sequence) in other.Entries)
        {
            if (sequence > result[sender])
            {
                result = result.With(sender, sequence);
            }
        }

        return result;
    }

    /// <summary>Whether every sender of this vector is at or before its place in <paramref name="other"/>.</summary>
    public bool IsCoveredBy(RecoveryVector other)
    {
        foreach (var (sender, sequence) in Entries)
        {
            if (sequence > other[sender])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The vector as bytes: a version, the count, then each sender (4 bytes) and sequence (variable length).</summary>
    public byte[] ToBytes()
    {
        var entries = Entries;
        var buffer = new byte[2 + (entries.Length * 14)];
        buffer[0] = Version;
        var position = 1;
        position += WriteVarint(buffer.AsSpan(position), (ulong)entries.Length);
        foreach (var (sender, sequence) in entries)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(position), sender);
            position += 4;
            position += WriteVarint(buffer.AsSpan(position), (ulong)sequence);
        }

        return buffer[..position];
    }

    /// <summary>Reads a vector written by <see cref="ToBytes"/>; false for anything else.</summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, out RecoveryVector vector)
    {
        vector = default;
        if (bytes.Length < 2 || bytes[0] != Version || !TryReadVarint(bytes[1..], out var count, out var read) || count > 1024)
        {
            return false;
        }

        var position = 1 + read;
        var entries = new (uint, long)[count];
        uint previous = 0;
        for (var i = 0; i < entries.Length; i++)
        {
            if (bytes.Length - position < 5)
            {
                return false;
            }

            var sender = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes[position..]);
            position += 4;
            if (!TryReadVarint(bytes[position..], out var sequence, out read) || sequence > long.MaxValue || (i > 0 && sender <= previous))
            {
                return false;
            }

            position += read;
            entries[i] = (sender, (long)sequence);
            previous = sender;
        }

        if (position != bytes.Length)
        {
            return false;
        }

        vector = new RecoveryVector(entries);
        return true;
    }

    /// <summary>The offset a client gets and hands back: the vector in base64url.</summary>
    public string ToOffset() => Base64Url.EncodeToString(ToBytes());

    /// <summary>Reads an offset made by <see cref="ToOffset"/>; false for anything else.</summary>
    public static bool TryParseOffset(string? offset, out RecoveryVector vector)
    {
        vector = default;
        if (offset is null || offset.Length == 0 || offset.Length > 4096 || !Base64Url.IsValid(offset))
        {
            return false;
        }

        var bytes = new byte[Base64Url.GetMaxDecodedLength(offset.Length)];
        return Base64Url.TryDecodeFromChars(offset, bytes, out var written) && TryRead(bytes.AsSpan(0, written), out vector);
    }

    public bool Equals(RecoveryVector other) => Entries.SequenceEqual(other.Entries);

    public override bool Equals(object? obj) => obj is RecoveryVector other && Equals(other);

    public override int GetHashCode() => Entries.Length;

    public override string ToString() => string.Join(",", _entries?.Select(e => $"{e.Sender:x8}:{e.Sequence}") ?? []);

    public static bool operator ==(RecoveryVector left, RecoveryVector right) => left.Equals(right);

    public static bool operator !=(RecoveryVector left, RecoveryVector right) => !left.Equals(right);

    private static int WriteVarint(Span<byte> into, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            into[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        into[i++] = (byte)value;
        return i;
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> from, out ulong value, out int read)
    {
        value = 0;
        for (read = 0; read < from.Length && read < 10; read++)
        {
            value |= (ulong)(from[read] & 0x7F) << (7 * read);
            if ((from[read] & 0x80) == 0)
            {
                read++;
                return true;
            }
        }

        return false;
    }
}
