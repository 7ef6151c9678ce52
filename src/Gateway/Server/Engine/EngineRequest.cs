using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace OrleansRooms.Engine;

/// <summary>What the Engine.IO handshake request said, kept for the session's lifetime (Socket.IO's <c>socket.handshake</c>).</summary>
internal sealed record EngineRequest(
    IHeaderDictionary Headers,
    IQueryCollection Query,
    string RemoteAddress,
    string Url,
    bool Secure,
    bool CrossDomain,
    DateTimeOffset Time,
    ClaimsPrincipal User);
