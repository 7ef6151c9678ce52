using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace OrleansRooms.Host.Operators;

/// <summary>
/// HTTP Basic authentication of one operator from configuration: enough for the demo's Orleans Dashboard over HTTPS or
/// on a private network (a browser asks for the login and repeats it on every request of the dashboard); a deployment
/// with users of its own plugs in its identity provider instead (docs/orleans-dashboard.md).
/// </summary>
internal sealed class BasicAuthenticationHandler(IOptionsMonitor<BasicAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<BasicAuthenticationOptions>(options, logger, encoder)
{
    public const string SchemeName = "Basic";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!AuthenticationHeaderValue.TryParse(Request.Headers.Authorization, out var header)
            || !SchemeName.Equals(header.Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (Decode(header.Parameter) is not { } credentials || credentials.IndexOf(':') is var colon && colon < 0)
        {
            return Task.FromResult(AuthenticateResult.Fail("Malformed Basic credentials."));
        }

        var userName = credentials[..colon];
        // Both compared in full, in constant time, so the answer's timing tells nothing about either.
        var userMatches = SameText(userName, Options.UserName);
        var passwordMatches = SameText(credentials[(colon + 1)..], Options.Password);
        if (!(userMatches & passwordMatches))
        {
            return Task.FromResult(AuthenticateResult.Fail("Wrong user name or password."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, userName)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = $"Basic realm=\"{Options.Realm}\", charset=\"UTF-8\"";
        return base.HandleChallengeAsync(properties);
    }

    private static string? Decode(string? parameter)
    {
        var bytes = new byte[((parameter?.Length ?? 0) * 3 / 4) + 3];
        return parameter is not null && Convert.TryFromBase64String(parameter, bytes, out var length)
            ? Encoding.UTF8.GetString(bytes, 0, length)
            : null;
    }

    private static bool SameText(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
