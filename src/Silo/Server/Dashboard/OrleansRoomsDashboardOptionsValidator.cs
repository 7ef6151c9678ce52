using Microsoft.Extensions.Options;

namespace OrleansRooms.Silo.Dashboard;

/// <summary>Checks the rules of <see cref="OrleansRoomsDashboardOptions"/> that attributes cannot express.</summary>
internal sealed class OrleansRoomsDashboardOptionsValidator : IValidateOptions<OrleansRoomsDashboardOptions>
{
    public ValidateOptionsResult Validate(string? name, OrleansRoomsDashboardOptions options)
    {
        var failures = new List<string>();
        const string Section = OrleansRoomsDashboardOptions.SectionName;
        // The dashboard's page loads its files relative to its own path: the site's root is taken by the host's pages.
        if (options.Path is not ['/', _, ..] || options.Path.EndsWith('/') || options.Path.Contains("//", StringComparison.Ordinal))
        {
            failures.Add($"{Section}:Path must be a path of its own such as /orleans (starting with '/', not ending with it), not '{options.Path}'.");
        }

        if (string.IsNullOrWhiteSpace(options.Policy))
        {
            failures.Add($"{Section}:Policy must name an authorization policy (default {OrleansRoomsDashboardOptions.DefaultPolicy}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
