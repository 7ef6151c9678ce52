using Microsoft.Extensions.Options;

namespace OrleansRooms.Hosting;

/// <summary>Checks the rules that attributes cannot express.</summary>
internal sealed class SocketIOOptionsValidator : IValidateOptions<SocketIOOptions>
{
    public ValidateOptionsResult Validate(string? name, SocketIOOptions options)
    {
        var failures = new List<string>();
        if ((options.Transports & (SocketIOTransports.Polling | SocketIOTransports.WebSocket)) == 0
            || (options.Transports & ~(SocketIOTransports.Polling | SocketIOTransports.WebSocket)) != 0)
        {
            failures.Add("SocketIO:Transports must be Polling, WebSocket or both.");
        }

        if (options.JsonSerializerOptions is null)
        {
            failures.Add("SocketIO:JsonSerializerOptions must be set.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
