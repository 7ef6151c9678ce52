using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;

namespace OrleansRooms.Silo.Dashboard;

/// <summary>The silo's half of the Orleans Dashboard: its options always, its statistics when enabled.</summary>
internal static class OrleansRoomsDashboard
{
    public static void Configure(ISiloBuilder silo, IConfigurationSection section)
    {
        silo.Services.AddOptions<OrleansRoomsDashboardOptions>().Bind(section).ValidateOnStart();
        silo.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OrleansRoomsDashboardOptions>, OrleansRoomsDashboardOptionsValidator>());
        if (!section.GetValue(nameof(OrleansRoomsDashboardOptions.Enabled), false))
        {
            return;
        }

        silo.AddDashboard();
        silo.Services.AddOptions<DashboardOptions>().Bind(section);
        // Its endpoints carry authorization metadata: a web host then runs the authorization middleware.
        silo.Services.AddAuthorization();
    }
}
