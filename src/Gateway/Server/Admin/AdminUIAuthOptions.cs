namespace OrleansRooms.Admin;

/// <summary>How the Admin UI authenticates (<c>auth</c> of the package).</summary>
public sealed class AdminUIAuthOptions
{
    /// <summary><see cref="AdminUIAuthType.Basic"/> or <see cref="AdminUIAuthType.None"/>; no default: it must be chosen.</summary>
    public AdminUIAuthType? Type { get; set; }

    /// <summary>The user name the UI must give (basic authentication).</summary>
    public string? Username { get; set; }

    /// <summary>The bcrypt hash of the password (basic authentication), such as <c>$2b$10$...</c>; never the password itself.</summary>
    public string? Password { get; set; }
}
