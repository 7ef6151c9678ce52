using System.Text;
using StackExchange.Redis;

namespace OrleansRooms.Silo.Compatibility;

/// <summary>
/// The Redis channels of the official <c>@socket.io/redis-emitter</c> for one key (<c>socket.io</c> by default):
/// broadcasts on <c>key#nsp#</c>, or <c>key#nsp#room#</c> when exactly one room is named; requests to the servers on
/// <c>key-request#nsp#</c>.
/// </summary>
internal sealed class EmitterChannels
{
    public EmitterChannels(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        Key = key;
        BroadcastPrefix = key + "#";
        RequestPrefix = key + "-request#";
        BroadcastPattern = RedisChannel.Pattern(EscapeGlob(BroadcastPrefix) + "*");
        RequestPattern = RedisChannel.Pattern(EscapeGlob(RequestPrefix) + "*");
    }

    public string Key { get; }

    /// <summary><c>key#</c>: every broadcast channel starts with it.</summary>
    public string BroadcastPrefix { get; }

    /// <summary><c>key-request#</c>: every request channel starts with it.</summary>
    public string RequestPrefix { get; }

    /// <summary>The <c>PSUBSCRIBE</c> pattern of every broadcast channel (glob characters of the key escaped).</summary>
    public RedisChannel BroadcastPattern { get; }

    /// <summary>The <c>PSUBSCRIBE</c> pattern of every request channel.</summary>
    public RedisChannel RequestPattern { get; }

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
