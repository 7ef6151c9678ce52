namespace OrleansRooms.Admin;

/// <summary>The Admin UI's authentication.</summary>
public enum AdminUIAuthType
{
    /// <summary>Anyone who reaches the admin namespace is let in (<c>auth: false</c>): for a private network or a test only.</summary>
    None,

    /// <summary>A user name and a password checked against its bcrypt hash (<c>type: "basic"</c>).</summary>
    Basic,
}
