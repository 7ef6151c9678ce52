namespace OrleansRooms.Silo.Dashboard;

/// <summary>
/// The Orleans Dashboard of an OrleansRooms cluster (bound from <c>Orleans:Dashboard</c>): off unless
/// <see cref="Enabled"/>; on, every silo collects its statistics and a host that calls <c>MapOrleansRoomsDashboard</c>
/// serves it at <see cref="Path"/> to the users that <see cref="Policy"/> admits. Orleans' own dashboard settings
/// (<c>HideTrace</c>, <c>CounterUpdateIntervalMs</c>, <c>HistoryLength</c>) are read from the same section.
/// </summary>
public sealed class OrleansRoomsDashboardOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Orleans:Dashboard";

    /// <summary>The authorization policy used unless <see cref="Policy"/> names another.</summary>
    public const string DefaultPolicy = "OrleansDashboard";

    /// <summary>
    /// Whether this silo collects the dashboard's statistics (grain calls, activations, its counters) and its host may
    /// serve the dashboard. Every silo of a cluster must have the same value: the dashboard asks each silo for its
    /// statistics, and its grain may be placed on any silo. Default: false.
    /// </summary>
    public bool Enabled { get; set; }

    /// <summary>Where the dashboard is served: a path of its own, starting with '/'. Default: <c>/orleans</c>.</summary>
    public string Path { get; set; } = "/orleans";

    /// <summary>
    /// The ASP.NET Core authorization policy a request to the dashboard (its page, its files and its API) must satisfy.
    /// Default: <see cref="DefaultPolicy"/>, which, unless the host registers a policy of that name, admits any
    /// authenticated user. Another name must be registered by the host (<c>AddAuthorization</c>), or the host refuses
    /// to start.
    /// </summary>
    public string Policy { get; set; } = DefaultPolicy;

    /// <summary>
    /// Serves the dashboard to anyone who can reach it, with no authorization at all. Without it, a host that has no
    /// authentication scheme refuses to start with the dashboard enabled, so that it is never open by accident.
    /// Default: false.
    /// </summary>
    public bool AllowAnonymous { get; set; }
}
