using System.Globalization;
using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Features.Authentication;
using Microsoft.AspNetCore.WebUtilities;

namespace OrleansRooms.Engine;

/// <summary>
/// What the Engine.IO handshake request said, kept for the session's lifetime (Socket.IO's <c>socket.handshake</c>).
/// Most sessions never read it, so it keeps only references to what the server holds anyway (the raw query string, the
/// path, the remote address) and builds the collections and strings on first use. The headers are read from the live
/// request until it ends (a WebSocket's request lasts as long as the session), then from a copy taken at its end.
/// </summary>
internal sealed class EngineRequest
{
    private readonly Lock _gate = new();
    private readonly string? _rawQuery;
    private readonly PathString _pathBase;
    private readonly PathString _path;
    private readonly IPAddress? _remoteIp;
    private HttpContext? _context;
    private IHeaderDictionary? _headers;
    private IQueryCollection? _query;
    private string? _url;
    private string? _remoteAddress;
    private ClaimsPrincipal? _user;

    /// <summary>The request <paramref name="context"/>, which must be followed by <see cref="Detach"/> before it completes.</summary>
    public EngineRequest(HttpContext context, DateTimeOffset time)
    {
        var request = context.Request;
        _context = context;
        _rawQuery = request.QueryString.Value;
        _pathBase = request.PathBase;
        _path = request.Path;
        _remoteIp = context.Features.Get<IHttpConnectionFeature>()?.RemoteIpAddress;

        // Through the feature: context.User would create an anonymous principal for every session.
        _user = context.Features.Get<IHttpAuthenticationFeature>()?.User;
        Secure = request.IsHttps;
        CrossDomain = request.Headers.Origin.Count != 0;
        Time = time;
    }

    /// <summary>A request described by another gateway; its user is anonymous.</summary>
    public EngineRequest(IHeaderDictionary headers, IQueryCollection query, string remoteAddress, string url, bool secure, bool crossDomain, DateTimeOffset time)
    {
        _headers = headers;
        _query = query;
        _remoteAddress = remoteAddress;
        _url = url;
        Secure = secure;
        CrossDomain = crossDomain;
        Time = time;
    }

    public IHeaderDictionary Headers
    {
        get
        {
            if (Volatile.Read(ref _headers) is { } headers)
            {
                return headers;
            }

            lock (_gate)
            {
                return _headers ??= CopyHeaders(_context!);
            }
        }
    }

    public IQueryCollection Query
    {
        get
        {
            if (Volatile.Read(ref _query) is { } query)
            {
                return query;
            }

            // The same parsing as the request's own Query, into a collection of our own (Kestrel reuses its own).
            var parsed = QueryHelpers.ParseNullableQuery(_rawQuery);
            return Interlocked.CompareExchange(ref _query, parsed is null ? QueryCollection.Empty : new QueryCollection(parsed), null) ?? _query;
        }
    }

    public string RemoteAddress =>
        _remoteAddress ??= _remoteIp?.ToString() ?? string.Empty;

    public string Url =>
        _url ??= string.Concat(_pathBase.ToUriComponent(), _path.ToUriComponent(), _rawQuery);

    public bool Secure { get; }

    public bool CrossDomain { get; }

    public DateTimeOffset Time { get; }

    public string TimeText => Time.ToString("R", CultureInfo.InvariantCulture);

    public ClaimsPrincipal User
    {
        get
        {
            if (Volatile.Read(ref _user) is { } user)
            {
                return user;
            }

            return Interlocked.CompareExchange(ref _user, new ClaimsPrincipal(new ClaimsIdentity()), null) ?? _user;
        }
    }

    /// <summary>The request is about to complete (the server reuses its collections): copy the headers if nobody did yet.</summary>
    public void Detach()
    {
        lock (_gate)
        {
            if (_context is { } context)
            {
                _headers ??= CopyHeaders(context);
                _context = null;
            }
        }
    }

    /// <summary>
    /// How many times <paramref name="key"/> occurs in a raw query string (<c>?a=1&amp;b=2</c>), and its first value,
    /// decoded as <see cref="HttpRequest.Query"/> would (keys case-insensitive, <c>+</c> and <c>%XX</c> decoded).
    /// </summary>
    public static int FindQueryValue(string? query, string key, out string? value)
    {
        value = null;
        if (string.IsNullOrEmpty(query))
        {
            return 0;
        }

        var rest = query.AsSpan(query[0] == '?' ? 1 : 0);
        var count = 0;
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf('&');
            var pair = end < 0 ? rest : rest[..end];
            rest = end < 0 ? default : rest[(end + 1)..];
            if (pair.IsEmpty)
            {
                continue;
            }

            var equals = pair.IndexOf('=');
            var name = equals < 0 ? pair : pair[..equals];
            if (!Decode(name).Equals(key, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (count++ == 0)
            {
                value = equals < 0 ? string.Empty : Decode(pair[(equals + 1)..]).ToString();
            }
        }

        return count;
    }

    private static ReadOnlySpan<char> Decode(ReadOnlySpan<char> text) =>
        text.IndexOfAny('%', '+') < 0 ? text : Uri.UnescapeDataString(text.ToString().Replace('+', ' '));

    private static HeaderDictionary CopyHeaders(HttpContext context)
    {
        var headers = new HeaderDictionary();
        foreach (var header in context.Request.Headers)
        {
            headers[header.Key] = header.Value;
        }

        return headers;
    }
}
