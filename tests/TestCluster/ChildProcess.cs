using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace OrleansRooms.TestCluster;

/// <summary>What a child process printed, and how it ended (-1 when it was killed at its timeout).</summary>
public sealed record ChildProcessResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs a program (node, npm, a script) for a test: no input, output captured, killed with its children at a timeout.</summary>
public static class ChildProcess
{
    public static async Task<ChildProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> args,
        string workingDirectory,
        IReadOnlyDictionary<string, string>? environment,
        TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            // Also waits for the end of the redirected streams: the program's children must not hold them.
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Append(stderr, string.Create(CultureInfo.InvariantCulture, $"killed after {timeout.TotalSeconds} s"));
            return new ChildProcessResult(-1, Read(stdout), Read(stderr));
        }

        return new ChildProcessResult(process.ExitCode, Read(stdout), Read(stderr));
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is not null)
        {
            lock (builder)
            {
                builder.AppendLine(line);
            }
        }
    }

    private static string Read(StringBuilder builder)
    {
        lock (builder)
        {
            return builder.ToString();
        }
    }
}
