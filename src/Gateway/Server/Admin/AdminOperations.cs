using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace OrleansRooms.Admin;

/// <summary>
/// What an admin client may do, carried out on the whole cluster: <c>emit</c> (nsp, filter, event, ...args),
/// <c>join</c> and <c>leave</c> (nsp, room, filter), <c>_disconnect</c> (nsp, close, filter), where the filter is a room
/// (the UI gives a socket's own room to act on one socket) or nothing for the whole namespace. Read-only, each is
/// refused. An operation sent with an acknowledgement is answered <c>{ ok: true }</c> once done, or
/// <c>{ ok: false, error }</c> (the UI sends none; scripts and tests may).
/// </summary>
internal sealed class AdminOperations(SocketIOServer io, bool readOnly, ILogger logger)
{
    public void Register(Socket socket)
    {
        socket.On("emit", e => RunAsync(e, "emit", async (nsp, target) =>
        {
            var eventName = RequireString(e, 2, "the event name");
            var args = new object?[Math.Max(0, e.Arguments.Count - 3)];
            for (var i = 0; i < args.Length; i++)
            {
                args[i] = e.Arguments[i + 3].Clone();
            }

            await target.EmitAsync(eventName, args).ConfigureAwait(false);
        }));
        socket.On("join", e => RunAsync(e, "join", (nsp, target) => target.SocketsJoinAsync(RequireString(e, 1, "the room")).AsTask(), filterIndex: 2));
        socket.On("leave", e => RunAsync(e, "leave", (nsp, target) => target.SocketsLeaveAsync(RequireString(e, 1, "the room")).AsTask(), filterIndex: 2));
        socket.On("_disconnect", e => RunAsync(e, "_disconnect", (nsp, target) =>
        {
            var close = e.Arguments.Count > 1 && e.Arguments[1].ValueKind == JsonValueKind.True;
            return target.DisconnectSocketsAsync(close).AsTask();
        }, filterIndex: 2));
    }

    private async Task RunAsync(SocketEvent e, string operation, Func<Namespace, BroadcastOperator, Task> run, int filterIndex = 1)
    {
        var name = e.Arguments.Count > 0 && e.Arguments[0].ValueKind == JsonValueKind.String ? e.Arguments[0].GetString()! : null;
        if (readOnly)
        {
            AdminLog.ReadOnlyRefused(logger, operation, name);
            e.Ack(Failure("read-only"));
            return;
        }

        try
        {
            if (name is null)
            {
                throw new ArgumentException("the namespace must be a string");
            }

            // Never created for an admin: a namespace the application did not define stays undefined.
            var nsp = io.FindNamespace(name) ?? throw new ArgumentException($"no namespace '{name}' on this server");
            var filter = e.Arguments.Count > filterIndex && e.Arguments[filterIndex] is { ValueKind: JsonValueKind.String } f && f.GetString() is { Length: > 0 } room ? room : null;
            AdminLog.Operation(logger, operation, nsp.Name, filter, e.Socket.Id);
            await run(nsp, filter is null ? nsp.ToOperator() : nsp.In(filter)).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            AdminLog.InvalidOperation(logger, operation, ex.Message);
            e.Ack(Failure(ex.Message));
            return;
        }
        catch (Exception ex)
        {
            AdminLog.OperationFailed(logger, operation, name, ex);
            e.Ack(Failure(ex.Message));
            return;
        }

        e.Ack(new Dictionary<string, object?> { ["ok"] = true });
    }

    private static string RequireString(SocketEvent e, int index, string what) =>
        e.Arguments.Count > index && e.Arguments[index].ValueKind == JsonValueKind.String
            ? e.Arguments[index].GetString()!
            : throw new ArgumentException($"{what} must be a string");

    private static Dictionary<string, object?> Failure(string error) => new() { ["ok"] = false, ["error"] = error };
}
