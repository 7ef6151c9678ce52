using System.Text.Json;

namespace OrleansRooms.Conformance.Infrastructure;

/// <summary>
/// Debian's chromium for a node scenario, driven by puppeteer-core: a fresh profile per test, deleted with this object,
/// and the launch call that uses it. Chromium's own networking beyond the page (updates, sync) stays off.
/// </summary>
internal sealed class Chromium : IDisposable
{
    private const string Executable = "/usr/bin/chromium";

    private readonly DirectoryInfo _profile;

    private Chromium(DirectoryInfo profile) => _profile = profile;

    public static Chromium Create()
    {
        Assert.True(File.Exists(Executable), "Debian's chromium is not installed (tests/run installs it: apt-get install -y chromium)");
        return new Chromium(Directory.CreateTempSubdirectory("chromium-profile-"));
    }

    /// <summary>
    /// The JavaScript expression that launches a headless browser on this profile (await it; the scenario imports
    /// puppeteer-core); <paramref name="options"/> are more launch options, each ending with a comma.
    /// </summary>
    public string Launch(string options = "") => $$"""
        puppeteer.launch({
          executablePath: "{{Executable}}",
          headless: true,
          userDataDir: {{JsonSerializer.Serialize(_profile.FullName)}},
          args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
          {{options}}
        })
        """;

    public void Dispose() => _profile.Delete(recursive: true);
}
