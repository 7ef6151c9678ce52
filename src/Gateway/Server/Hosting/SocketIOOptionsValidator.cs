using Microsoft.Extensions.Options;
using OrleansRooms.Engine;

namespace OrleansRooms.Hosting;

/// <summary>Checks the rules of <see cref="EngineIOOptions"/> that attributes cannot express.</summary>
internal sealed class EngineIOOptionsValidator : IValidateOptions<EngineIOOptions>
{
    public ValidateOptionsResult Validate(string? name, EngineIOOptions options)
    {
        var failures = new List<string>();
        Check(options, "EngineIO", failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static void Check(EngineIOOptions options, string section, List<string> failures)
    {
        if ((options.Transports & (SocketIOTransports.Polling | SocketIOTransports.WebSocket)) == 0
            || (options.Transports & ~(SocketIOTransports.Polling | SocketIOTransports.WebSocket)) != 0)
        {
            failures.Add($"{section}:Transports must be Polling, WebSocket or both.");
        }

        if (options.PerMessageDeflate?.Validate() is { } deflate)
        {
            failures.Add($"{section}:PerMessageDeflate:{deflate}");
        }
    }
}

/// <summary>Checks the rules that attributes cannot express.</summary>
internal sealed class SocketIOOptionsValidator : IValidateOptions<SocketIOOptions>
{
    public ValidateOptionsResult Validate(string? name, SocketIOOptions options)
    {
        var failures = new List<string>();
        EngineIOOptionsValidator.Check(options, "SocketIO", failures);

        if (options.JsonSerializerOptions is null)
        {
            failures.Add("SocketIO:JsonSerializerOptions must be set.");
        }

        if (options.ConnectionStateRecovery?.Validate() is { } recovery)
        {
            failures.Add($"SocketIO:ConnectionStateRecovery:{recovery}");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
