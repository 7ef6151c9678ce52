using System.Security.Cryptography;
using System.Text;

namespace OrleansRooms.Silo.Redis;

/// <summary>A Lua script and its SHA1, computed once; run with <see cref="RedisClient.EvalAsync"/> (EVALSHA, EVAL on NOSCRIPT).</summary>
internal sealed class RedisScript
{
    public RedisScript(string lua)
    {
        ArgumentException.ThrowIfNullOrEmpty(lua);
        Lua = lua;
        LuaBytes = Encoding.UTF8.GetBytes(lua);
        // SHA1 is how Redis names scripts (EVALSHA), not a security measure.
#pragma warning disable CA5350
        Sha1 = Convert.ToHexStringLower(SHA1.HashData(LuaBytes));
#pragma warning restore CA5350
        Sha1Bytes = Encoding.ASCII.GetBytes(Sha1);
    }

    public string Lua { get; }

    /// <summary>Lowercase hex SHA1 of the script, as <c>SCRIPT LOAD</c> returns it.</summary>
    public string Sha1 { get; }

    internal byte[] LuaBytes { get; }

    internal byte[] Sha1Bytes { get; }
}
