namespace OrleansRooms.Grains.Naming;

/// <summary>
/// Keys of the grains of one namespace: <c>namespace,name</c>. A Socket.IO namespace name never holds a comma (the
/// protocol ends it there: <c>2/chat,["event"]</c>), so the first comma splits the key unambiguously.
/// </summary>
internal static class GrainKeys
{
    /// <summary>The key of the room or socket <paramref name="name"/> of namespace <paramref name="ns"/>.</summary>
    public static string Of(string ns, string name)
    {
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentNullException.ThrowIfNull(name);
        if (ns.Contains(','))
        {
            throw new ArgumentException($"A namespace name cannot contain ',': {ns}", nameof(ns));
        }

        return string.Concat(ns, ",", name);
    }

    /// <summary>Splits a key made by <see cref="Of(string, string)"/>.</summary>
    public static (string Namespace, string Name) Split(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var comma = key.IndexOf(',', StringComparison.Ordinal);
        if (comma < 0)
        {
            throw new ArgumentException($"Not a namespace grain key: {key}", nameof(key));
        }

        return (key[..comma], key[(comma + 1)..]);
    }

    /// <summary>The key of a grain that belongs to one silo: its address.</summary>
    public static string Of(SiloAddress silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        return silo.ToParsableString();
    }
}
