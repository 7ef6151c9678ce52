using OrleansRooms.Silo.Redis;

namespace OrleansRooms.Silo.Grains;

/// <summary>
/// The Lua scripts of the room grain. Each runs on one room's slot (both keys share the hash tag), so it is one atomic
/// step, like a grain turn. Every script is idempotent: guarded by the member field, so re-publishing is safe.
/// </summary>
internal static class ClusterScripts
{
    /// <summary>
    /// KEYS: members hash, gateways hash. ARGV: socket id, gateway id. Adds the member and counts it for its gateway
    /// only when it was not there. Returns 0 (already a member), 1 (joined) or 2 (joined and created the room).
    /// </summary>
    public static readonly RedisScript Join = new("""
        if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
        redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
        if redis.call('HLEN', KEYS[1]) == 1 then return 2 end
        return 1
        """);

    /// <summary>
    /// KEYS: members hash, gateways hash. ARGV: socket id. Removes the member and uncounts it from the gateway that
    /// hosted it (the field goes at zero, so that gateway stops receiving the room's broadcasts). Returns 0 (not a
    /// member), 1 (left) or 2 (left and deleted the room).
    /// </summary>
    public static readonly RedisScript Leave = new("""
        local g = redis.call('HGET', KEYS[1], ARGV[1])
        if not g then return 0 end
        redis.call('HDEL', KEYS[1], ARGV[1])
        if redis.call('HINCRBY', KEYS[2], g, -1) <= 0 then redis.call('HDEL', KEYS[2], g) end
        if redis.call('EXISTS', KEYS[1]) == 0 then
          redis.call('DEL', KEYS[2])
          return 2
        end
        return 1
        """);

    /// <summary>KEYS: gateways sorted set. The gateways whose lease has not expired, on Redis's clock.</summary>
    public static readonly RedisScript LiveGateways = new("""
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        return redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')
        """);

    /// <summary>
    /// KEYS: gateways sorted set. ARGV: gateway id, lease (ms). Renews the lease on Redis's clock (no skew between
    /// gateways) and returns {1 if the lease was there before, expired gateway ids...}: one round trip per heartbeat.
    /// </summary>
    public static readonly RedisScript Heartbeat = new("""
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local had = redis.call('ZSCORE', KEYS[1], ARGV[1]) and 1 or 0
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
        local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now, 'LIMIT', 0, 16)
        table.insert(expired, 1, had)
        return expired
        """);
}
