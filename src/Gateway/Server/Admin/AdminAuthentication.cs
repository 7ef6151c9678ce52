using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging;

namespace OrleansRooms.Admin;

/// <summary>
/// The admin namespace's middleware for basic authentication: a client gets in with the user name and the password
/// (checked against its bcrypt hash), and is then handed a session id (the <c>session</c> event) that lets it
/// reconnect without the password until it expires. A session id is sealed with ASP.NET Core Data Protection, so
/// every gateway that shares the key ring accepts it without shared state, and it dies with a change of user or password.
/// </summary>
internal sealed class AdminAuthentication
{
    private const string InvalidCredentials = "invalid credentials";

    private readonly string _username;
    private readonly string _passwordHash;
    private readonly string _binding;
    private readonly TimeSpan _sessionDuration;
    private readonly ITimeLimitedDataProtector _protector;
    private readonly ILogger _logger;
    private readonly ConditionalWeakTable<Socket, string> _issued = [];

    public AdminAuthentication(AdminUIOptions options, IDataProtectionProvider dataProtection, ILogger logger)
    {
        _username = options.Auth.Username!;
        _passwordHash = options.Auth.Password!;
        _sessionDuration = options.SessionDuration;
        _protector = dataProtection.CreateProtector("OrleansRooms.Admin.Session").ToTimeLimitedDataProtector();
        _logger = logger;
        // What a session id vouches for: these credentials, and no later ones.
        _binding = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(_username + "\n" + _passwordHash)));
    }

    public async Task AuthenticateAsync(Socket socket, Func<Task> next)
    {
        var auth = socket.Handshake.Auth;
        if (ReadString(auth, "sessionId") is { Length: > 0 } sessionId && IsValidSession(sessionId))
        {
            await next().ConfigureAwait(false);
            return;
        }

        var username = ReadString(auth, "username");
        var password = ReadString(auth, "password");
        if (username == _username && password is not null && BCrypt.Net.BCrypt.Verify(password, _passwordHash))
        {
            _issued.AddOrUpdate(socket, _protector.Protect(_binding, _sessionDuration));
            AdminLog.LoggedIn(_logger, username, socket.Handshake.Address, socket.Id);
            await next().ConfigureAwait(false);
            return;
        }

        AdminLog.InvalidCredentials(_logger, socket.Client.Connection.Id, socket.Handshake.Address, username);
        throw new ConnectionRejectedException(InvalidCredentials);
    }

    /// <summary>The session id issued to <paramref name="socket"/> when it logged in with its password; null when it came with a session.</summary>
    public string? TakeIssuedSession(Socket socket) =>
        _issued.TryGetValue(socket, out var session) && _issued.Remove(socket) ? session : null;

    private bool IsValidSession(string sessionId)
    {
        try
        {
            return _protector.Unprotect(sessionId, out _) == _binding;
        }
        catch (CryptographicException)
        {
            // Expired, forged, or sealed with a key this gateway does not have: the client must give the password.
            return false;
        }
    }

    private static string? ReadString(JsonElement auth, string name) =>
        auth.ValueKind == JsonValueKind.Object && auth.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
