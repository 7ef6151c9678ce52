using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace OrleansRooms.Silo.Redis;

/// <summary>
/// A command and its arguments, built once and written as a RESP array of bulk strings (possibly more than once when a
/// cluster redirects it). The first argument added with <see cref="Key"/> is the routing key: its hash slot picks the
/// cluster node. Bytes passed as arguments are not copied: keep them unchanged until the command completes.
/// </summary>
internal sealed class RedisCommand
{
    private readonly byte[] _name;
    private readonly List<ReadOnlyMemory<byte>> _args = [];

    public RedisCommand(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        _name = Encoding.UTF8.GetBytes(name);
    }

    private RedisCommand(string name, byte[] nameBytes, int slot, List<ReadOnlyMemory<byte>> args)
    {
        Name = name;
        _name = nameBytes;
        Slot = slot;
        _args = args;
    }

    public string Name { get; }

    /// <summary>The hash slot of the routing key, or -1 when the command has no key (any node will do).</summary>
    public int Slot { get; private set; } = -1;

    public int ArgumentCount => _args.Count;

    /// <summary>A command with no key and the given arguments.</summary>
    public static RedisCommand Create(string name, params ReadOnlySpan<RedisArg> args)
    {
        var command = new RedisCommand(name);
        foreach (var arg in args)
        {
            command.Arg(arg);
        }

        return command;
    }

    /// <summary>A command whose first argument is its routing key, followed by the given arguments.</summary>
    public static RedisCommand WithKey(string name, RedisArg key, params ReadOnlySpan<RedisArg> args)
    {
        var command = new RedisCommand(name).Key(key);
        foreach (var arg in args)
        {
            command.Arg(arg);
        }

        return command;
    }

    /// <summary>Adds a key argument; the first key routes the command in a cluster.</summary>
    public RedisCommand Key(RedisArg key)
    {
        var bytes = key.ToMemory();
        if (Slot < 0)
        {
            Slot = RedisHashSlot.Of(bytes.Span);
        }

        _args.Add(bytes);
        return this;
    }

    public RedisCommand Arg(RedisArg arg)
    {
        _args.Add(arg.ToMemory());
        return this;
    }

    /// <summary>Routes a keyless command as if it had this key (SPUBLISH, SSUBSCRIBE: the shard channel is hashed like a key).</summary>
    public RedisCommand RouteBy(ReadOnlySpan<byte> key)
    {
        Slot = RedisHashSlot.Of(key);
        return this;
    }

    internal ReadOnlyMemory<byte> GetArgument(int index) => _args[index];

    /// <summary>The same arguments under another name, with the first argument replaced (EVALSHA sha → EVAL script).</summary>
    internal RedisCommand WithNameAndFirstArgument(string name, ReadOnlyMemory<byte> first)
    {
        var args = new List<ReadOnlyMemory<byte>>(_args);
        args[0] = first;
        return new RedisCommand(name, Encoding.UTF8.GetBytes(name), Slot, args);
    }

    public void WriteTo(IBufferWriter<byte> writer)
    {
        WriteHeader(writer, (byte)'*', _args.Count + 1);
        WriteBulk(writer, _name);
        foreach (var arg in _args)
        {
            WriteBulk(writer, arg.Span);
        }
    }

    private static void WriteBulk(IBufferWriter<byte> writer, ReadOnlySpan<byte> value)
    {
        WriteHeader(writer, (byte)'$', value.Length);
        writer.Write(value);
        writer.Write("\r\n"u8);
    }

    private static void WriteHeader(IBufferWriter<byte> writer, byte prefix, int length)
    {
        var span = writer.GetSpan(16);
        span[0] = prefix;
        Utf8Formatter.TryFormat(length, span[1..], out int written);
        span[1 + written] = (byte)'\r';
        span[2 + written] = (byte)'\n';
        writer.Advance(written + 3);
    }

    public override string ToString() => _args.Count == 0 ? Name : $"{Name} ({_args.Count} args)";
}
