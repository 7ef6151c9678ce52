using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using StackExchange.Redis;

namespace Orleans.Hosting;

/// <summary>
/// What keeps an OrleansRooms host from starting, each as one line that names the setting, its value and the fix: found
/// before the host starts (<see cref="Find"/>), or read from the exception it failed with (<see cref="Describe"/>).
/// </summary>
internal static partial class StartupProblems
{
    private const string Urls = "urls (--urls or ASPNETCORE_URLS)";
    private const string RedisSetting = "Orleans:Clustering:ConnectionString";

    public static IReadOnlyList<string> Find(IConfiguration configuration, IServiceProvider services)
    {
        var problems = new List<string>();
        var listens = CheckUrls(configuration, problems);
        CheckOptions(services, configuration, problems);
        if (problems.Count > 0)
        {
            // Ports and Redis are worth checking only once the settings that name them read right.
            return problems;
        }

        foreach (var (endpoint, setting) in listens)
        {
            if (PortProbe.TryBind(endpoint) is { } error)
            {
                problems.Add($"port {endpoint.Port} on {Host(endpoint)} {PortProbe.Explain(error)} ({setting}): stop what uses it, or choose another port, as in --urls http://127.0.0.1:3001.");
            }
        }

        CheckSiloPorts(services, problems);
        CheckMembershipRedis(configuration, problems);
        return problems;
    }

    /// <summary>The lines for an exception a host failed to start with, or none when it is not a setting's fault.</summary>
    public static IReadOnlyList<string> Describe(Exception exception, IConfiguration configuration)
    {
        var problems = new List<string>();
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            switch (ex)
            {
                case AggregateException aggregate:
                    foreach (var inner in aggregate.InnerExceptions)
                    {
                        problems.AddRange(Describe(inner, configuration));
                    }

                    return problems;
                case OptionsValidationException validation:
                    problems.AddRange(validation.Failures.Select(failure => DescribeFailure(failure, configuration)));
                    return problems;
                case InvalidOperationException when ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal):
                    problems.Add(OneLine(ex.Message));
                    return problems;
                case IOException when ex.InnerException is AddressInUseException:
                    // Kestrel: "Failed to bind to address http://127.0.0.1:3000: address already in use."
                    problems.Add($"{OneLine(ex.Message)} Stop what uses it, or choose another port with {Urls}.");
                    return problems;
                case AddressInUseException:
                    problems.Add($"{OneLine(ex.Message)}: stop what uses it, or choose another port (Orleans:Endpoints:SiloPort, Orleans:Endpoints:GatewayPort).");
                    return problems;
                case RedisConnectionException:
                    problems.Add($"the membership Redis ({RedisSetting}) does not answer: {OneLine(ex.Message)}");
                    return problems;
            }
        }

        return problems;
    }

    /// <summary>Reads the URLs Kestrel will listen on as Kestrel does, and returns the endpoints to check.</summary>
    private static List<(IPEndPoint Endpoint, string Setting)> CheckUrls(IConfiguration configuration, List<string> problems)
    {
        var listens = new List<(IPEndPoint, string)>();
        if (configuration["urls"] is { Length: > 0 } urls)
        {
            foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (ReadUrl(url, out var endpoint) is { } error)
                {
                    problems.Add($"{Urls} has \"{Escape(url)}\": {error}, as in http://127.0.0.1:3000.");
                }
                else if (endpoint is not null)
                {
                    listens.Add((endpoint, $"{Escape(url)} in {Urls}"));
                }
            }

            return listens;
        }

        foreach (var (key, setting) in new[] { ("http_ports", "http_ports (ASPNETCORE_HTTP_PORTS)"), ("https_ports", "https_ports (ASPNETCORE_HTTPS_PORTS)") })
        {
            foreach (var text in (configuration[key] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (ReadPort(text) is { } port)
                {
                    listens.Add((new IPEndPoint(IPAddress.IPv6Any, port), $"{port} in {setting}"));
                }
                else
                {
                    problems.Add($"{setting} has \"{Escape(text)}\": a port is a number from 0 to 65535, as in 3000.");
                }
            }
        }

        return listens;
    }

    /// <summary>
    /// Why <paramref name="url"/> is not a URL Kestrel can listen on, or null; with the endpoint to check, none for a port 0
    /// or a Unix socket. Kestrel itself reads a port that is not a number as part of the host name, and then listens on
    /// port 80 of every interface.
    /// </summary>
    private static string? ReadUrl(string url, out IPEndPoint? endpoint)
    {
        endpoint = null;
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            return "a URL is scheme://host:port";
        }

        var scheme = url[..schemeEnd].ToLowerInvariant();
        if (scheme is not ("http" or "https"))
        {
            return $"the scheme is http or https, not {scheme}";
        }

        var rest = url[(schemeEnd + 3)..];
        if (rest.StartsWith("unix:", StringComparison.OrdinalIgnoreCase) || rest.StartsWith("pipe:", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var authority = rest.IndexOf('/', StringComparison.Ordinal) is var slash and >= 0 ? rest[..slash] : rest;
        string host;
        string? portText = null;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || (close + 1 < authority.Length && authority[close + 1] != ':'))
            {
                return "an IPv6 address is written in brackets, as in http://[::1]:3000";
            }

            host = authority[1..close];
            portText = close + 1 < authority.Length ? authority[(close + 2)..] : null;
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            portText = colon < 0 ? null : authority[(colon + 1)..];
            if (host.Contains(':', StringComparison.Ordinal))
            {
                return "an IPv6 address is written in brackets, as in http://[::1]:3000";
            }
        }

        if (host.Length == 0)
        {
            return "the host is missing (127.0.0.1, localhost, or * for every interface)";
        }

        int port;
        if (portText is null)
        {
            port = scheme == "https" ? 443 : 80;
        }
        else if (ReadPort(portText) is { } read)
        {
            port = read;
        }
        else
        {
            return $"the port \"{Escape(portText)}\" is not a number from 0 to 65535";
        }

        if (port > 0)
        {
            // As Kestrel binds: localhost on the loopback, an IP address on itself, anything else on every interface.
            var address = host == "localhost" ? IPAddress.Loopback : IPAddress.TryParse(host, out var ip) ? ip : IPAddress.IPv6Any;
            endpoint = new IPEndPoint(address, port);
        }

        return null;
    }

    private static int? ReadPort(string text) =>
        text.Length is > 0 and <= 5 && text.All(char.IsAsciiDigit) && int.Parse(text, CultureInfo.InvariantCulture) is var port and <= IPEndPoint.MaxPort
            ? port
            : null;

    private static void CheckOptions(IServiceProvider services, IConfiguration configuration, List<string> problems)
    {
        try
        {
            services.GetService<IStartupValidator>()?.Validate();
        }
        catch (Exception ex) when (Describe(ex, configuration) is { Count: > 0 } lines)
        {
            problems.AddRange(lines);
        }
    }

    private static void CheckSiloPorts(IServiceProvider services, List<string> problems)
    {
        if (services.GetService<IOptions<EndpointOptions>>()?.Value is not { } endpoints)
        {
            return;
        }

        var silo = endpoints.SiloListeningEndpoint ?? new IPEndPoint(endpoints.AdvertisedIPAddress ?? IPAddress.Any, endpoints.SiloPort);
        var gateway = endpoints.GatewayListeningEndpoint ?? new IPEndPoint(endpoints.AdvertisedIPAddress ?? IPAddress.Any, endpoints.GatewayPort);
        foreach (var (endpoint, key, what) in new[] { (silo, "SiloPort", "silo port"), (gateway, "GatewayPort", "Orleans gateway port") })
        {
            if (endpoint.Port > 0 && PortProbe.TryBind(endpoint) is { } error)
            {
                var setting = $"Orleans:Endpoints:{key}";
                var hint = error == SocketError.AddressAlreadyInUse ? " (perhaps another gateway or silo on this machine)" : "";
                problems.Add($"the {what} {endpoint.Port} on {Host(endpoint)} ({setting}) {PortProbe.Explain(error)}{hint}: stop it, or set {setting} to a free port.");
            }
        }
    }

    private static void CheckMembershipRedis(IConfiguration configuration, List<string> problems)
    {
        var clustering = configuration.GetSection("Orleans:Clustering");
        if (!string.Equals(clustering["ProviderType"], "Redis", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        const string setting = RedisSetting;
        if (clustering["ConnectionString"] is not { Length: > 0 } connectionString)
        {
            problems.Add($"{setting} is not set: give the membership Redis, as in 127.0.0.1:6379.");
            return;
        }

        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(connectionString);
        }
        catch (ArgumentException ex)
        {
            problems.Add($"{setting} is not a Redis connection string ({OneLine(ex.Message)}): write host:port, as in 127.0.0.1:6379.");
            return;
        }

        // One attempt: a Redis that is down refuses at once, but the client would try three times for 5 s each.
        options.AbortOnConnectFail = true;
        options.ConnectRetry = 1;
        var where = string.Join(", ", options.EndPoints.Select(e => e is DnsEndPoint dns ? $"{dns.Host}:{dns.Port}" : e.ToString()));
        try
        {
            using var redis = ConnectionMultiplexer.Connect(options, TextWriter.Null);
        }
        catch (RedisConnectionException)
        {
            problems.Add($"the membership Redis at {where} ({setting}) does not answer: start Redis there, or set {setting} to one that runs.");
        }
    }

    /// <summary>
    /// A failure of an options validation, with the setting's path and value when the configuration holds it. Failures
    /// of data annotations name the options type and member ("SocketIOOptions", "PingInterval"); their section is taken
    /// to be the type's name without "Options" ("SocketIO"), as in this repository's hosts.
    /// </summary>
    private static string DescribeFailure(string failure, IConfiguration configuration)
    {
        if (DataAnnotationFailure().Match(failure) is not { Success: true } match)
        {
            return OneLine(failure);
        }

        var type = match.Groups["type"].Value;
        var member = match.Groups["member"].Value;
        var error = match.Groups["error"].Value;
        var section = type.EndsWith("Options", StringComparison.Ordinal) ? type[..^"Options".Length] : type;
        var path = $"{section}:{member}";
        return configuration[path] is { } value
            ? $"{path} is \"{Escape(value)}\": {OneLine(error)}"
            : $"{type}.{member}: {OneLine(error)}";
    }

    [GeneratedRegex("^DataAnnotation validation failed for '(?<type>[^']+)' members: '(?<member>[^']+)' with the error: '(?<error>.*)'\\.$", RegexOptions.Singleline)]
    private static partial Regex DataAnnotationFailure();

    private static string Host(IPEndPoint endpoint) =>
        endpoint.Address.Equals(IPAddress.IPv6Any) || endpoint.Address.Equals(IPAddress.Any) ? "every interface" : endpoint.Address.ToString();

    private static string OneLine(string text) => Escape(text.ReplaceLineEndings(" ").Trim());

    /// <summary>Text from settings or exceptions, with control characters escaped so that it stays on its line.</summary>
    private static string Escape(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(char.IsControl(c) ? $"\\u{(int)c:x4}" : c);
        }

        return builder.ToString();
    }
}
