using Microsoft.Extensions.Options;

namespace OrleansRooms.Silo.Hosting;

/// <summary>Checks the rules that attributes cannot express.</summary>
internal sealed class RedisClusterOptionsValidator : IValidateOptions<RedisClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisClusterOptions options)
    {
        var failures = new List<string>();
        if (options.LeaseDuration < options.HeartbeatInterval * 2)
        {
            failures.Add("SocketIO:Redis:LeaseDuration must be at least twice SocketIO:Redis:HeartbeatInterval.");
        }

        if (string.IsNullOrEmpty(options.KeyPrefix) || options.KeyPrefix.AsSpan().IndexOfAny('{', '}') >= 0)
        {
            failures.Add("SocketIO:Redis:KeyPrefix must not be empty or contain '{' or '}'.");
        }

        foreach (var endpoint in options.Endpoints)
        {
            if (string.IsNullOrWhiteSpace(endpoint))
            {
                failures.Add("SocketIO:Redis:Endpoints must not contain empty entries.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
