using Microsoft.AspNetCore.Authentication;

namespace OrleansRooms.Host.Operators;

/// <summary>The one operator the demo's Basic authentication admits (section <c>BasicAuthentication</c>).</summary>
internal sealed class BasicAuthenticationOptions : AuthenticationSchemeOptions
{
    public const string SectionName = "BasicAuthentication";

    /// <summary>The operator's user name; required.</summary>
    public string UserName { get; set; } = "";

    /// <summary>The operator's password, from a secret store or the environment rather than appsettings.json; required.</summary>
    public string Password { get; set; } = "";

    /// <summary>The realm named to browsers when they are asked to log in.</summary>
    public string Realm { get; set; } = "OrleansRooms";
}
