namespace OrleansRooms.Admin;

/// <summary>What the Admin UI is sent.</summary>
public enum AdminUIMode
{
    /// <summary>Every socket's events and the list of sockets, as well as the statistics.</summary>
    Development,

    /// <summary>The servers' statistics only.</summary>
    Production,
}
