using Microsoft.AspNetCore.Http;

namespace OrleansRooms.Engine;

/// <summary>The Engine.IO error answers to HTTP requests; bodies are fixed, so they are encoded once.</summary>
internal static class EngineErrors
{
    internal static readonly EngineError UnknownTransport = new(StatusCodes.Status400BadRequest, 0, "Transport unknown");
    internal static readonly EngineError UnknownSid = new(StatusCodes.Status400BadRequest, 1, "Session ID unknown");
    internal static readonly EngineError BadHandshakeMethod = new(StatusCodes.Status400BadRequest, 2, "Bad handshake method");
    internal static readonly EngineError BadRequest = new(StatusCodes.Status400BadRequest, 3, "Bad request");
    internal static readonly EngineError Forbidden = new(StatusCodes.Status403Forbidden, 4, "Forbidden");
    internal static readonly EngineError UnsupportedProtocolVersion = new(StatusCodes.Status400BadRequest, 5, "Unsupported protocol version");

    /// <summary>Not an Engine.IO error code: Kestrel's limit of upgraded connections is reached (see KestrelConnectionLimits).</summary>
    internal static readonly EngineError ConnectionLimitReached = new(StatusCodes.Status503ServiceUnavailable, 3, "Connection limit reached");

    /// <summary>Not an Engine.IO error code: the server is stopping; a client's handshake fails and it retries, elsewhere.</summary>
    internal static readonly EngineError ShuttingDown = new(StatusCodes.Status503ServiceUnavailable, 3, "Server shutting down");

    /// <summary>Not an Engine.IO error code: the POST payload exceeded <c>MaxHttpBufferSize</c>.</summary>
    internal static readonly EngineError PayloadTooLarge = new(StatusCodes.Status413PayloadTooLarge, 3, "Payload too large");

    /// <summary>Not an Engine.IO error code: an Engine.IO v3 client asked for JSONP polling (<c>j=</c>), which this server does not serve.</summary>
    internal static readonly EngineError JsonpUnsupported = new(StatusCodes.Status400BadRequest, 3, "JSONP polling is not supported");

    internal static async Task WriteAsync(HttpContext context, EngineError error)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return;
        }

        response.StatusCode = error.Status;
        response.ContentType = "application/json";
        response.ContentLength = error.Body.Length;
        try
        {
            await response.BodyWriter.WriteAsync(error.Body, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The client went away; there is nobody to tell.
        }
    }
}

/// <summary>An HTTP status with its JSON body <c>{"code":N,"message":"..."}</c>.</summary>
internal sealed class EngineError
{
    internal EngineError(int status, int code, string message)
    {
        Status = status;
        Code = code;
        Message = message;
        Body = System.Text.Encoding.UTF8.GetBytes($"{{\"code\":{code},\"message\":\"{message}\"}}");
    }

    internal int Status { get; }

    internal int Code { get; }

    internal string Message { get; }

    internal byte[] Body { get; }
}
