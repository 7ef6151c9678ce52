using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;
using OrleansRooms.Silo.Dashboard;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Serves the Orleans Dashboard of an OrleansRooms cluster.</summary>
public static class OrleansRoomsDashboardEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the Orleans Dashboard (its page, files and API) at <c>Orleans:Dashboard:Path</c> when
    /// <c>Orleans:Dashboard:Enabled</c> is true (<see cref="OrleansRoomsDashboardOptions"/>; the silo's half is added by
    /// <c>AddOrleansRooms</c>), behind the authorization policy <c>Orleans:Dashboard:Policy</c>. Off, nothing answers
    /// there. Throws, so the host does not start, when the dashboard would be open by accident: no authentication scheme
    /// is registered and <c>Orleans:Dashboard:AllowAnonymous</c> is not set, or the policy it names is not registered.
    /// The result takes further conventions for the whole dashboard, such as <c>RequireHost</c>.
    /// </summary>
    public static RouteGroupBuilder MapOrleansRoomsDashboard(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        var options = services.GetRequiredService<IOptions<OrleansRoomsDashboardOptions>>().Value;
        if (!options.Enabled)
        {
            return endpoints.MapGroup(options.Path);
        }

        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OrleansRoomsDashboardOptions).FullName!);
        if (options.AllowAnonymous)
        {
            var open = endpoints.MapOrleansDashboard(options.Path).AllowAnonymous();
            DashboardLog.ServedToAnyone(logger, options.Path);
            return open;
        }

        const string Section = OrleansRoomsDashboardOptions.SectionName;
        if (!services.GetRequiredService<IOptions<AuthenticationOptions>>().Value.Schemes.Any())
        {
            throw new InvalidOperationException(
                $"{Section}:Enabled is true, but no authentication scheme is registered, so no one could be admitted to the dashboard " +
                "by its authorization policy. Register one (AddAuthentication().AddCookie(), AddJwtBearer(), ...: docs/orleans-dashboard.md), " +
                $"or set {Section}:AllowAnonymous to true to serve the dashboard to anyone who can reach it.");
        }

        var policy = services.GetRequiredService<IOptions<AuthorizationOptions>>().Value.GetPolicy(options.Policy);
        if (policy is null && options.Policy != OrleansRoomsDashboardOptions.DefaultPolicy)
        {
            throw new InvalidOperationException(
                $"{Section}:Policy names the authorization policy '{options.Policy}', which is not registered: " +
                "add it with AddAuthorization(o => o.AddPolicy(...)), or leave the setting out for any authenticated user.");
        }

        // The default name, not registered by the host: any authenticated user.
        policy ??= new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
        var group = endpoints.MapOrleansDashboard(options.Path).RequireAuthorization(policy);
        DashboardLog.Served(logger, options.Path, options.Policy);
        return group;
    }
}
