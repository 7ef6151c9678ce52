using Microsoft.AspNetCore.Http;

namespace OrleansRooms.Engine;

/// <summary>
/// A request the Engine.IO server refused (the argument of Engine.IO's <c>connection_error</c> event). The codes are the
/// protocol's: 0 transport unknown, 1 session ID unknown, 2 bad handshake method, 3 bad request, 4 forbidden, 5
/// unsupported protocol version; the limits of this server (payload too large, connection limit, shutting down) answer 3.
/// </summary>
public sealed class EngineConnectionError
{
    internal EngineConnectionError(HttpRequest request, int status, int code, string message, IReadOnlyDictionary<string, string?> context)
    {
        Request = request;
        Status = status;
        Code = code;
        Message = message;
        Context = context;
    }

    /// <summary>The refused request; valid only while the handler runs.</summary>
    public HttpRequest Request { get; }

    /// <summary>The HTTP status of the answer, such as 400 or 403.</summary>
    public int Status { get; }

    /// <summary>The Engine.IO error code, such as 1.</summary>
    public int Code { get; }

    /// <summary>The error message sent to the client, such as <c>Session ID unknown</c>.</summary>
    public string Message { get; }

    /// <summary>
    /// What the request said that was refused, as in Engine.IO: <c>transport</c> (code 0), <c>sid</c> (1), <c>method</c>
    /// (2) or <c>protocol</c> (5); empty for the other codes. Values are the client's, unchecked.
    /// </summary>
    public IReadOnlyDictionary<string, string?> Context { get; }

    internal static IReadOnlyDictionary<string, string?> ContextOf(HttpRequest request, int code)
    {
        var query = request.QueryString.Value;
        return code switch
        {
            0 => new Dictionary<string, string?> { ["transport"] = Value(query, "transport") },
            1 => new Dictionary<string, string?> { ["sid"] = Value(query, "sid") },
            2 => new Dictionary<string, string?> { ["method"] = request.Method },
            5 => new Dictionary<string, string?> { ["protocol"] = Value(query, "EIO") },
            _ => new Dictionary<string, string?>(),
        };
    }

    private static string? Value(string? query, string name) => EngineRequest.FindQueryValue(query, name, out var value) > 0 ? value : null;
}
