using System.Text.RegularExpressions;

namespace OrleansRooms.Specification;

/// <summary>The repository's docs pages, read by the tests that keep them and the code in step.</summary>
public static class DocsPages
{
    /// <summary>The folder holding <c>OrleansRooms.sln</c>, above the running test assembly.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OrleansRooms.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("OrleansRooms.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The contents of the fenced blocks of <paramref name="language"/> of <c>docs/{page}</c>.</summary>
    public static IReadOnlyList<string> Blocks(string page, string language)
    {
        var markdown = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", page)).ReplaceLineEndings("\n");
        return [.. Regex.Matches(markdown, "^```" + Regex.Escape(language) + "\n(?<code>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)
            .Select(m => m.Groups["code"].Value)];
    }
}
