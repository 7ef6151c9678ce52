using System.Collections.Concurrent;

namespace OrleansRooms.TestCluster;

/// <summary>
/// Faults injected into the grain calls of the in-process test clusters: a rule makes calls of one method whose
/// arguments mention a given value fail with a given exception, as a silo that dies or a network that drops them would.
/// Every silo of every test cluster in the process runs the filter (<see cref="FaultFilter"/>); rules are matched by a
/// value unique to the test (a room name), so tests running side by side do not see each other's faults. It also counts
/// calls per method and value, for tests that check which grain calls an operation makes.
/// </summary>
public static class Faults
{
    private static readonly ConcurrentDictionary<Rule, byte> Rules = new();
    private static readonly ConcurrentDictionary<(string Method, string Value), int> Counts = new();
    private static readonly ConcurrentDictionary<string, byte> Watched = new(StringComparer.Ordinal);

    /// <summary>Makes calls of <paramref name="method"/> with an argument mentioning <paramref name="value"/> throw what <paramref name="fault"/> makes, until disposed.</summary>
    public static IDisposable Fail(string method, string value, Func<Exception> fault)
    {
        var rule = new Rule(method, value, fault);
        Rules[rule] = 0;
        return new Removal(rule);
    }

    /// <summary>Counts the calls whose arguments mention <paramref name="value"/>, per method, until disposed.</summary>
    public static IDisposable Count(string value)
    {
        Watched[value] = 0;
        return new Unwatch(value);
    }

    /// <summary>How many calls of <paramref name="method"/> mentioning <paramref name="value"/> were made since it was watched.</summary>
    public static int CallsOf(string method, string value) => Counts.GetValueOrDefault((method, value));

    internal static void Check(string method, IReadOnlyList<string> arguments)
    {
        if (!Watched.IsEmpty)
        {
            foreach (var value in Watched.Keys)
            {
                if (Mentions(arguments, value))
                {
                    Counts.AddOrUpdate((method, value), 1, static (_, n) => n + 1);
                }
            }
        }

        foreach (var rule in Rules.Keys)
        {
            if (rule.Method == method && Mentions(arguments, rule.Value))
            {
                throw rule.Fault();
            }
        }
    }

    private static bool Mentions(IReadOnlyList<string> arguments, string value)
    {
        foreach (var argument in arguments)
        {
            if (argument.Contains(value, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private sealed record Rule(string Method, string Value, Func<Exception> Fault);

    private sealed class Removal(Rule rule) : IDisposable
    {
        public void Dispose() => Rules.TryRemove(rule, out _);
    }

    private sealed class Unwatch(string value) : IDisposable
    {
        public void Dispose()
        {
            Watched.TryRemove(value, out _);
            foreach (var key in Counts.Keys)
            {
                if (key.Value == value)
                {
                    Counts.TryRemove(key, out _);
                }
            }
        }
    }
}

/// <summary>Applies <see cref="Faults"/> to every incoming grain call of a silo: the grain's key and the call's arguments are what a rule's value is looked for in.</summary>
internal sealed class FaultFilter : IIncomingGrainCallFilter
{
    public Task Invoke(IIncomingGrainCallContext context)
    {
        var arguments = new List<string>(4) { context.TargetId.ToString() };
        for (var i = 0; i < context.Request.GetArgumentCount(); i++)
        {
            arguments.Add(Describe(context.Request.GetArgument(i)));
        }

        Faults.Check(context.MethodName, arguments);
        return context.Invoke();
    }

    private static string Describe(object? argument) => argument switch
    {
        null => "",
        string text => text,
        System.Collections.IEnumerable items => string.Join(",", items.Cast<object?>().Select(Describe)),
        _ => argument.ToString() ?? "",
    };
}
