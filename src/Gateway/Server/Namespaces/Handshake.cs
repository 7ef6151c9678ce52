using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using OrleansRooms.Engine;

namespace OrleansRooms;

/// <summary>The details of the handshake (Socket.IO's <c>socket.handshake</c>).</summary>
public sealed class Handshake
{
    // Shared by the client's sockets of every namespace; builds what it is asked for on first use.
    private readonly EngineRequest _request;
    private string? _time;
    private ClaimsPrincipal? _user;

    internal Handshake(EngineRequest request, JsonElement? auth)
    {
        _request = request;
        Auth = auth ?? EmptyAuth;
    }

    /// <summary>A handshake described by another gateway (<c>FetchSocketsAsync</c>); its user is anonymous.</summary>
    internal Handshake(IHeaderDictionary headers, IQueryCollection query, JsonElement? auth, string address, string time, long issued, string url, bool secure, bool xdomain)
    {
        _request = new EngineRequest(headers, query, address, url, secure, xdomain, DateTimeOffset.FromUnixTimeMilliseconds(issued));
        _time = time;
        Auth = auth ?? EmptyAuth;
    }

    /// <summary>What a client that sends no <c>auth</c> payload gets, as in Socket.IO: an empty object.</summary>
    internal static JsonElement EmptyAuth { get; } = JsonElement.Parse("{}"u8);

    /// <summary>The headers of the first HTTP request of the session.</summary>
    public IHeaderDictionary Headers => _request.Headers;

    /// <summary>The query string of the first HTTP request.</summary>
    public IQueryCollection Query => _request.Query;

    /// <summary>The <c>auth</c> payload the client sent when connecting to the namespace: an object, empty (<c>{}</c>) when it sent none.</summary>
    public JsonElement Auth { get; }

    /// <summary>The client's IP address.</summary>
    public string Address => _request.RemoteAddress;

    /// <summary>When the session was created, as a date string.</summary>
    public string Time => _time ??= _request.TimeText;

    /// <summary>When the session was created, in Unix milliseconds.</summary>
    public long Issued => _request.Time.ToUnixTimeMilliseconds();

    /// <summary>The request URL (path and query).</summary>
    public string Url => _request.Url;

    /// <summary>Whether the connection is over TLS.</summary>
    public bool Secure => _request.Secure;

    /// <summary>Whether the request was cross-origin (an <c>Origin</c> header was sent).</summary>
    public bool XDomain => _request.CrossDomain;

    /// <summary>
    /// The authenticated user: the one the namespace's <see cref="Namespace.Authenticate"/> made from this handshake
    /// if it made one, else the user of the session's first HTTP request (ASP.NET Core authentication, whichever
    /// transport it came by), anonymous if none.
    /// </summary>
    public ClaimsPrincipal User => _user ?? _request.User;

    /// <summary>The namespace's authentication made <paramref name="user"/> from this handshake.</summary>
    internal void Authenticated(ClaimsPrincipal user) => _user = user;

    /// <summary>
    /// Reads the <c>auth</c> payload as <typeparamref name="T"/> (web defaults: camelCase, case-insensitive). A client
    /// that sent none gives <c>{}</c>, so an object type comes back with its members unset, not null.
    /// </summary>
    /// <exception cref="JsonException">The payload is not a <typeparamref name="T"/>.</exception>
    public T? GetAuth<T>(JsonSerializerOptions? options = null) => Auth.Deserialize<T>(options ?? JsonSerializerOptions.Web);
}
