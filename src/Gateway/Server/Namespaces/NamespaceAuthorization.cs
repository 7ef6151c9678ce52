using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;

namespace OrleansRooms;

/// <summary>
/// What a namespace's <c>RequireAuthorization</c> calls asked for: policy names (resolved by the application's
/// <see cref="IAuthorizationPolicyProvider"/> at each connection, as endpoint metadata is) and policies, all of which a
/// socket's user must satisfy.
/// </summary>
internal sealed class NamespaceAuthorization
{
    private readonly Lock _lock = new();
    private IAuthorizeData[] _authorizeData = [];
    private AuthorizationPolicy[] _policies = [];

    /// <summary>The outcome a client is told (<c>data.status</c> of its <c>connect_error</c>): not authenticated, or authenticated but not allowed.</summary>
    public const int Unauthenticated = 401;

    /// <inheritdoc cref="Unauthenticated"/>
    public const int Forbidden = 403;

    public bool IsEmpty => Volatile.Read(ref _authorizeData).Length == 0 && Volatile.Read(ref _policies).Length == 0;

    public void Add(IAuthorizeData data)
    {
        lock (_lock)
        {
            _authorizeData = [.. _authorizeData, data];
        }
    }

    public void Add(AuthorizationPolicy policy)
    {
        lock (_lock)
        {
            _policies = [.. _policies, policy];
        }
    }

    /// <summary>
    /// Evaluates <paramref name="parent"/>'s requirements (a dynamic parent's) and these against the socket's user; the
    /// socket is the resource, so a handler can read its namespace and handshake. Null when allowed, else the HTTP-like
    /// status of the refusal.
    /// </summary>
    public static async Task<int?> EvaluateAsync(Socket socket, IServiceProvider services, NamespaceAuthorization? parent, NamespaceAuthorization own)
    {
        var authorizeData = new List<IAuthorizeData>();
        var policies = new List<AuthorizationPolicy>();
        parent?.CopyTo(authorizeData, policies);
        own.CopyTo(authorizeData, policies);

        // Handlers may be scoped services, as they are for a request.
        await using var scope = services.CreateAsyncScope();
        var provider = scope.ServiceProvider.GetRequiredService<IAuthorizationPolicyProvider>();
        var policy = await AuthorizationPolicy.CombineAsync(provider, authorizeData, policies).ConfigureAwait(false)
            ?? throw new InvalidOperationException("The namespace's authorization requirements combine to no policy.");
        var user = socket.Handshake.User;
        var result = await scope.ServiceProvider.GetRequiredService<IAuthorizationService>().AuthorizeAsync(user, socket, policy).ConfigureAwait(false);
        if (result.Succeeded)
        {
            return null;
        }

        return user.Identities.Any(identity => identity.IsAuthenticated) ? Forbidden : Unauthenticated;
    }

    private void CopyTo(List<IAuthorizeData> authorizeData, List<AuthorizationPolicy> policies)
    {
        authorizeData.AddRange(Volatile.Read(ref _authorizeData));
        policies.AddRange(Volatile.Read(ref _policies));
    }
}
