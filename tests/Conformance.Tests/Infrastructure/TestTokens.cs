using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace OrleansRooms.Conformance.Infrastructure;

/// <summary>
/// JWT bearer authentication as an application sets it up for Socket.IO: the token in the <c>Authorization</c> header
/// or, where a browser cannot send one, in the <c>access_token</c> query parameter; signed with a test key.
/// </summary>
internal static class TestTokens
{
    public const string Issuer = "orleansrooms-tests";
    public const string Audience = "orleansrooms";

    private static readonly SymmetricSecurityKey Key = new(Encoding.UTF8.GetBytes("a test signing key of at least 256 bits, for HS256"));
    private static readonly SymmetricSecurityKey OtherKey = new(Encoding.UTF8.GetBytes("another key the server does not trust, 256 bits+"));

    /// <summary>What the server accepts.</summary>
    public static TokenValidationParameters Parameters { get; } = new()
    {
        ValidIssuer = Issuer,
        ValidAudience = Audience,
        IssuerSigningKey = Key,
        NameClaimType = "name",
        RoleClaimType = "role",
    };

    /// <summary>The user of <paramref name="token"/> if the server accepts it, else null.</summary>
    public static async ValueTask<ClaimsPrincipal?> ValidateAsync(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        var result = await new JsonWebTokenHandler { MapInboundClaims = false }.ValidateTokenAsync(token, Parameters);
        return result.IsValid ? new ClaimsPrincipal(result.ClaimsIdentity) : null;
    }

    /// <summary>A valid token for <paramref name="name"/> with <paramref name="roles"/> and, if given, a <c>tenant</c> claim.</summary>
    public static string For(string name, string[]? roles = null, string? tenant = null) => Create(Key, name, roles ?? [], tenant);

    /// <summary>A well-formed token the server does not trust (signed with another key).</summary>
    public static string Forged(string name, string[]? roles = null) => Create(OtherKey, name, roles ?? [], null);

    /// <summary>JWT bearer authentication and an <c>AdminsOnly</c> policy (role <c>admin</c>).</summary>
    public static void AddTo(IServiceCollection services)
    {
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(options =>
        {
            options.MapInboundClaims = false;
            options.TokenValidationParameters = Parameters;
            options.Events = new JwtBearerEvents
            {
                OnMessageReceived = context =>
                {
                    var token = context.Request.Query["access_token"];
                    if (!string.IsNullOrEmpty(token) && context.HttpContext.Request.Path.StartsWithSegments("/socket.io"))
                    {
                        context.Token = token;
                    }

                    return Task.CompletedTask;
                },
            };
        });
        services.AddAuthorization(options => options.AddPolicy("AdminsOnly", policy => policy.RequireRole("admin")));
    }

    private static string Create(SymmetricSecurityKey key, string name, string[] roles, string? tenant)
    {
        var claims = new Dictionary<string, object> { ["name"] = name };
        if (roles.Length > 0)
        {
            claims["role"] = roles;
        }

        if (tenant is not null)
        {
            claims["tenant"] = tenant;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Claims = claims,
            Expires = DateTime.UtcNow.AddHours(1),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        });
    }
}
