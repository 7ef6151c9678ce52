using System.Reflection;

namespace OrleansRooms.Tests.SocketIO;

/// <summary>
/// The public API has one async return convention: methods return <see cref="ValueTask"/> or <see cref="ValueTask{T}"/>.
/// Only members that implement a framework interface (<c>IHostedService</c>, ...) keep the interface's <see cref="Task"/>.
/// </summary>
public sealed class AsyncApiConventionTests
{
    [Fact]
    public void Public_async_methods_return_ValueTask()
    {
        var offenders = new List<string>();
        foreach (var type in typeof(SocketIOServer).Assembly.GetExportedTypes())
        {
            if (typeof(Delegate).IsAssignableFrom(type))
            {
                continue;
            }

            var implemented = type.IsInterface ? [] : type.GetInterfaces()
                .SelectMany(i => type.GetInterfaceMap(i).TargetMethods)
                .ToHashSet();
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                if (IsTask(method.ReturnType) && !implemented.Contains(method))
                {
                    offenders.Add($"{type.Name}.{method.Name}");
                }
            }
        }

        Assert.Empty(offenders);
    }

    private static bool IsTask(Type type) =>
        type == typeof(Task) || (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Task<>));
}
