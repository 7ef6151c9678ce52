using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace OrleansRooms.Admin;

/// <summary>Checks what data annotations cannot: an explicit auth choice, a complete basic auth, a bcrypt hash, a namespace name.</summary>
internal sealed partial class AdminUIOptionsValidator : IValidateOptions<AdminUIOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminUIOptions options)
    {
        var failures = new List<string>();
        if (options.NamespaceName is not { Length: > 1 } nsp || !nsp.StartsWith('/'))
        {
            failures.Add($"SocketIO:AdminUI:NamespaceName must start with '/' and name a namespace other than the main one (got '{options.NamespaceName}').");
        }

        var auth = options.Auth;
        switch (auth?.Type)
        {
            case null:
                failures.Add("SocketIO:AdminUI:Auth:Type must be set: Basic (with Username and a bcrypt hash as Password) or, explicitly, None.");
                break;
            case AdminUIAuthType.Basic:
                if (string.IsNullOrEmpty(auth.Username))
                {
                    failures.Add("SocketIO:AdminUI:Auth:Username must be set for basic authentication.");
                }

                if (auth.Password is null || !BcryptHash().IsMatch(auth.Password))
                {
                    failures.Add("SocketIO:AdminUI:Auth:Password must be a valid bcrypt hash ($2a$, $2b$ or $2y$, cost, 53 characters of salt and hash), not the password itself.");
                }

                break;
            case AdminUIAuthType.None:
                break;
            default:
                failures.Add($"SocketIO:AdminUI:Auth:Type '{auth.Type}' is not Basic or None.");
                break;
        }

        if (options.Mode is { } mode && !Enum.IsDefined(mode))
        {
            failures.Add($"SocketIO:AdminUI:Mode '{mode}' is not Development or Production.");
        }

        if (options.ServerId is { } serverId && string.IsNullOrWhiteSpace(serverId))
        {
            failures.Add("SocketIO:AdminUI:ServerId must not be blank (leave it unset for the default).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex(@"^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$")]
    private static partial Regex BcryptHash();
}
