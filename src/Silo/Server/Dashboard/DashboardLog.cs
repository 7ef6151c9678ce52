using Microsoft.Extensions.Logging;

namespace OrleansRooms.Silo.Dashboard;

internal static partial class DashboardLog
{
    [LoggerMessage(301, LogLevel.Information, "Orleans Dashboard served at {Path} to the users admitted by authorization policy {Policy}")]
    public static partial void Served(ILogger logger, string path, string policy);

    [LoggerMessage(302, LogLevel.Warning, "Orleans Dashboard served at {Path} to anyone who can reach it (Orleans:Dashboard:AllowAnonymous)")]
    public static partial void ServedToAnyone(ILogger logger, string path);
}
