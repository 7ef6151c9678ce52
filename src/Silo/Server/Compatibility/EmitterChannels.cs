using System.Text;
using StackExchange.Redis;

namespace OrleansRooms.Silo.Compatibility;

/// <summary>
/// The Redis channels of the official <c>@socket.io/redis-emitter</c> for one key (<c>socket.io</c> by default):
/// broadcasts on <c>key#nsp#</c>, or <c>key#nsp#room#</c> when exactly one room is named; requests to the servers on
/// <c>key-request#nsp#</c>. Both are heard through one pattern, <c>key*</c>, so that they arrive in one stream, in the
/// order they were published (an emit, then a <c>disconnectSockets</c> of its room, as a Node server hears them);
/// what else the pattern matches (Node servers' <c>key-response#</c>, another key that starts with this one) is not
/// an emitter channel and is ignored.
/// </summary>
internal sealed class EmitterChannels
{
    public EmitterChannels(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        Key = key;
        BroadcastPrefix = key + "#";
        RequestPrefix = key + "-request#";
        Pattern = RedisChannel.Pattern(EscapeGlob(key) + "*");
    }

    public string Key { get; }

    /// <summary><c>key#</c>: every broadcast channel starts with it.</summary>
    public string BroadcastPrefix { get; }

    /// <summary><c>key-request#</c>: every request channel starts with it.</summary>
    public string RequestPrefix { get; }

    /// <summary>The <c>PSUBSCRIBE</c> pattern matching every broadcast and request channel (glob characters of the key escaped).</summary>
    public RedisChannel Pattern { get; }

    /// <summary>Whether <paramref name="channel"/> is a broadcast or request channel of this key.</summary>
    public bool IsEmitterChannel(string channel) =>
        channel.StartsWith(BroadcastPrefix, StringComparison.Ordinal) || channel.StartsWith(RequestPrefix, StringComparison.Ordinal);

    // A key such as "app[1]" must match itself, not a character class.
    private static string EscapeGlob(string text)
    {
        var builder = new StringBuilder(text.Length + 4);
        foreach (var c in text)
        {
            if (c is '*' or '?' or '[' or ']' or '\\')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        return builder.ToString();
    }
}
