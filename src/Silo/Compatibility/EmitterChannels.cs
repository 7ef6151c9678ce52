using System.Text;

namespace OrleansRooms.Silo.Compatibility;

/// <summary>
/// The Redis channels of the official <c>@socket.io/redis-emitter</c> (and the Node Redis adapter) for one key
/// (<c>socket.io</c> by default): broadcasts on <c>key#nsp#</c>, or <c>key#nsp#room#</c> when exactly one room is
/// named; server-side requests on <c>key-request#nsp#</c>.
/// </summary>
internal sealed class EmitterChannels
{
    /// <summary>The key the official emitter uses unless told otherwise.</summary>
    public const string DefaultKey = "socket.io";

    public EmitterChannels(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        Key = key;
        BroadcastPrefix = key + "#";
        RequestPrefix = key + "-request#";
        BroadcastPattern = EscapeGlob(BroadcastPrefix) + "*";
        RequestPattern = EscapeGlob(RequestPrefix) + "*";
    }

    public string Key { get; }

    /// <summary><c>key#</c>: every broadcast channel starts with it.</summary>
    public string BroadcastPrefix { get; }

    /// <summary><c>key-request#</c>: every request channel starts with it.</summary>
    public string RequestPrefix { get; }

    /// <summary>The <c>PSUBSCRIBE</c> pattern matching every broadcast channel (glob characters of the key escaped).</summary>
    public string BroadcastPattern { get; }

    /// <summary>The <c>PSUBSCRIBE</c> pattern matching every request channel.</summary>
    public string RequestPattern { get; }

    /// <summary>The channel a broadcast to <paramref name="rooms"/> of <paramref name="nsp"/> is published on.</summary>
    public string BroadcastChannel(string nsp, IReadOnlyList<string> rooms) =>
        rooms.Count == 1 ? $"{BroadcastPrefix}{nsp}#{rooms[0]}#" : $"{BroadcastPrefix}{nsp}#";

    /// <summary>The channel requests to the servers of <paramref name="nsp"/> are published on.</summary>
    public string RequestChannel(string nsp) => $"{RequestPrefix}{nsp}#";

    private static string EscapeGlob(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (char c in text)
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
