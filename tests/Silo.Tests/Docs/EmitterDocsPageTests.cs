using System.Text.RegularExpressions;
using OrleansRooms.Specification;
using static OrleansRooms.Specification.DocsPages;

namespace OrleansRooms.Silo.Tests.Docs;

/// <summary>
/// Keeps <c>docs/emitter.md</c> and its tests in step: every <c>```csharp</c> block must appear, whitespace aside, in
/// the test sources of this folder, where a test runs it; the <c>```js</c> blocks are read from the page by the tests.
/// </summary>
public sealed partial class EmitterDocsPageTests
{
    [Fact]
    public void Every_csharp_block_is_run_by_a_test()
    {
        var tests = Normalize(string.Join("\n", Directory.GetFiles(Path.Combine(RepositoryRoot(), "tests", "Silo.Tests", "Docs"), "*.cs").Select(File.ReadAllText)));

        var missing = Blocks("csharp").Where(block => !tests.Contains(Normalize(block), StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(Blocks("csharp"));
        Assert.True(missing.Count == 0, "docs/emitter.md: these csharp blocks are in no test:\n\n" + string.Join("\n\n---\n\n", missing));
    }

    [Fact]
    public void The_js_blocks_are_the_two_the_tests_run()
    {
        var blocks = Blocks("js");

        Assert.Equal(2, blocks.Count);
        Assert.Contains("""emitter.emit("time", new Date());""", blocks[0], StringComparison.Ordinal);
        Assert.Contains("""emitter.serverSideEmit("hello", "world");""", blocks[1], StringComparison.Ordinal);
    }

    /// <summary>The contents of the fenced blocks of <paramref name="language"/> in <c>docs/emitter.md</c>.</summary>
    internal static IReadOnlyList<string> Blocks(string language) => DocsPages.Blocks("emitter.md", language);

    private static string Normalize(string code) => Whitespace().Replace(code, " ").Trim();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
