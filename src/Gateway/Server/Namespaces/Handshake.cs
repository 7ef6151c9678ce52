using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using OrleansRooms.Engine;

namespace OrleansRooms;

/// <summary>The details of the handshake (Socket.IO's <c>socket.handshake</c>).</summary>
public sealed class Handshake
{
    internal Handshake(EngineRequest request, JsonElement? auth)
    {
        Headers = request.Headers;
        Query = request.Query;
        Address = request.RemoteAddress;
        Url = request.Url;
        Secure = request.Secure;
        XDomain = request.CrossDomain;
        Issued = request.Time.ToUnixTimeMilliseconds();
        Time = request.Time.ToString("R", CultureInfo.InvariantCulture);
        User = request.User;
        Auth = auth;
    }

    /// <summary>A handshake described by another gateway (<c>FetchSocketsAsync</c>); its user is anonymous.</summary>
    internal Handshake(IHeaderDictionary headers, IQueryCollection query, JsonElement? auth, string address, string time, long issued, string url, bool secure, bool xdomain)
    {
        Headers = headers;
        Query = query;
        Auth = auth;
        Address = address;
        Time = time;
        Issued = issued;
        Url = url;
        Secure = secure;
        XDomain = xdomain;
        User = new ClaimsPrincipal(new ClaimsIdentity());
    }

    /// <summary>The headers of the first HTTP request of the session.</summary>
    public IHeaderDictionary Headers { get; }

    /// <summary>The query string of the first HTTP request.</summary>
    public IQueryCollection Query { get; }

    /// <summary>The <c>auth</c> payload the client sent when connecting to the namespace, if any.</summary>
    public JsonElement? Auth { get; }

    /// <summary>The client's IP address.</summary>
    public string Address { get; }

    /// <summary>When the session was created, as a date string.</summary>
    public string Time { get; }

    /// <summary>When the session was created, in Unix milliseconds.</summary>
    public long Issued { get; }

    /// <summary>The request URL (path and query).</summary>
    public string Url { get; }

    /// <summary>Whether the connection is over TLS.</summary>
    public bool Secure { get; }

    /// <summary>Whether the request was cross-origin (an <c>Origin</c> header was sent).</summary>
    public bool XDomain { get; }

    /// <summary>The authenticated user of the first request (ASP.NET Core authentication), anonymous if none.</summary>
    public ClaimsPrincipal User { get; }

    /// <summary>Reads the <c>auth</c> payload as <typeparamref name="T"/>; default when none was sent.</summary>
    public T? GetAuth<T>(JsonSerializerOptions? options = null) =>
        Auth is { } auth ? auth.Deserialize<T>(options ?? JsonSerializerOptions.Web) : default;
}
