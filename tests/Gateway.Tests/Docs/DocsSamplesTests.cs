using System.Text.RegularExpressions;
using static OrleansRooms.Specification.DocsPages;

namespace OrleansRooms.Tests.Docs;

/// <summary>
/// Keeps the docs and the tests in sync: every <c>```csharp</c> block of <c>docs/*.md</c> must appear, whitespace
/// aside, in the test sources of this folder, where a test runs it.
/// </summary>
public sealed partial class DocsSamplesTests
{
    public static TheoryData<string> Pages => ["README.md", "rooms.md", "namespaces.md", "configuration.md", "engine-io.md", "recovery.md", "production.md", "orleans-dashboard.md", "admin-ui.md", "observability.md", "presence.md", "authorization.md", "compression.md", "older-clients.md"];

    [Theory]
    [MemberData(nameof(Pages))]
    public void Every_csharp_block_of_the_page_is_run_by_a_test(string page)
    {
        var root = RepositoryRoot();
        var markdown = File.ReadAllText(Path.Combine(root, "docs", page));
        var tests = string.Join(
            "\n",
            Directory.GetFiles(Path.Combine(root, "tests", "Gateway.Tests", "Docs"), "*.cs").Select(File.ReadAllText));
        var normalizedTests = Normalize(tests);

        var missing = CSharpBlocks(markdown)
            .Where(block => !normalizedTests.Contains(Normalize(block), StringComparison.Ordinal))
            .ToList();

        Assert.True(missing.Count == 0, $"docs/{page}: these csharp blocks are in no test:\n\n" + string.Join("\n\n---\n\n", missing));
    }

    [Fact]
    public void Every_page_has_csharp_samples_but_the_index()
    {
        var root = RepositoryRoot();
        foreach (var page in new[] { "rooms.md", "namespaces.md" })
        {
            Assert.NotEmpty(CSharpBlocks(File.ReadAllText(Path.Combine(root, "docs", page))));
        }
    }

    /// <summary>The contents of the <c>```csharp</c> fenced blocks of a markdown page.</summary>
    internal static IReadOnlyList<string> CSharpBlocks(string markdown) =>
        [.. CSharpBlock().Matches(markdown.ReplaceLineEndings("\n")).Select(m => m.Groups["code"].Value)];

    private static string Normalize(string code) => Whitespace().Replace(code, " ").Trim();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex("^```csharp\n(?<code>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
