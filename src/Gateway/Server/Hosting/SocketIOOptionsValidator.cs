using Microsoft.Extensions.Options;

namespace OrleansRooms.Hosting;

/// <summary>Checks the rules that attributes cannot express.</summary>
internal sealed class SocketIOOptionsValidator : IValidateOptions<SocketIOOptions>
{
    public ValidateOptionsResult Validate(string? name, SocketIOOptions options)
    {
        var failures = new List<string>();
        if (options.Transports.Count == 0)
        {
            failures.Add("SocketIO:Transports must name at least one transport.");
        }

        foreach (var transport in options.Transports)
        {
            if (transport is not ("polling" or "websocket"))
            {
                failures.Add($"SocketIO:Transports: unknown transport '{transport}' (use 'polling' and/or 'websocket').");
            }
        }

        if (options.JsonSerializerOptions is null)
        {
            failures.Add("SocketIO:JsonSerializerOptions must be set.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
