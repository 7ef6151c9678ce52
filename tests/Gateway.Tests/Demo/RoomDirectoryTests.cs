using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using OrleansRooms.Host.Chat;
using OrleansRooms.Specification;

namespace OrleansRooms.Tests.Demo;

/// <summary>The chat demo's room list (src/Gateway/Host/Chat/RoomDirectory.cs): changes only, coalesced, on a fake clock.</summary>
public sealed class RoomDirectoryTests : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    private readonly FakeTimeProvider _time = new();
    private GatewayNode _node = null!;
    private RoomDirectory _rooms = null!;

    public async Task InitializeAsync()
    {
        _node = await GatewayNode.StartAsync();
        _rooms = new RoomDirectory(_node.Io.Sockets, Interval, _time, NullLogger.Instance);
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    public void Dispose() => _rooms?.Dispose();

    [Fact]
    public async Task Changes_within_one_interval_reach_every_client_as_one_update_of_the_latest_counts()
    {
        await using var watcher = await TestClient.ConnectAsync(_node.Url);
        await using var busy = await TestClient.ConnectAsync(_node.Url);
        var socket = _node.Io.Sockets.Sockets[busy.Id];

        for (var i = 0; i < 500; i++)
        {
            await socket.JoinAsync($"room-{i % 10}");
            await socket.JoinAsync("churn");
            await socket.LeaveAsync("churn");
        }

        await socket.JoinAsync("stays");
        _time.Advance(Interval - TimeSpan.FromMilliseconds(1));
        await _node.Io.To(watcher.Id).EmitAsync("marker");
        await watcher.ExpectNothingBeforeAsync("marker"); // nothing before the interval is over

        _time.Advance(TimeSpan.FromMilliseconds(1));
        var update = await watcher.ExpectEventAsync("rooms:changed");
        var expected = Enumerable.Range(0, 10).ToDictionary(i => $"room-{i}", _ => 1);
        expected["churn"] = 0; // joined and left 500 times: gone, said once
        expected["stays"] = 1;
        Assert.Equal(expected, Counts(update));
        Assert.Equal(expected.Where(p => p.Value > 0).ToDictionary(), await _rooms.SnapshotAsync());

        // The next change waits for its own interval, and carries only itself.
        await socket.LeaveAsync("stays");
        await _node.Io.Sockets.Sockets[watcher.Id].JoinAsync("room-3");
        _time.Advance(Interval);
        Assert.Equal(new Dictionary<string, int> { ["stays"] = 0, ["room-3"] = 2 }, Counts(await watcher.ExpectEventAsync("rooms:changed")));
        _time.Advance(Interval * 10);
        await _node.Io.To(watcher.Id).EmitAsync("marker");
        await watcher.ExpectNothingBeforeAsync("marker"); // no change, no update
    }

    [Fact]
    public async Task A_client_that_disconnects_is_counted_out_of_its_rooms()
    {
        await using var watcher = await TestClient.ConnectAsync(_node.Url);
        var leaving = await TestClient.ConnectAsync(_node.Url);
        await _node.Io.Sockets.Sockets[leaving.Id].JoinAsync(["a", "b"]);
        await _node.Io.Sockets.Sockets[watcher.Id].JoinAsync("b");
        _time.Advance(Interval);
        Assert.Equal(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 }, Counts(await watcher.ExpectEventAsync("rooms:changed")));

        // Presence raises the leaves once the session has left the room grains: the counts read then are without it.
        var left = new TaskCompletionSource();
        _node.Io.Sockets.Presence.Left += (room, id) =>
        {
            if (room == "b" && id == leaving.Id)
            {
                left.TrySetResult();
            }
        };
        await leaving.DisposeAsync();
        await left.Task.WaitAsync(TimeSpan.FromSeconds(30));
        _time.Advance(Interval);

        Assert.Equal(new Dictionary<string, int> { ["a"] = 0, ["b"] = 1 }, Counts(await watcher.ExpectEventAsync("rooms:changed")));
    }

    [Fact]
    public async Task The_whole_list_leaves_out_the_private_rooms()
    {
        await using var busy = await TestClient.ConnectAsync(_node.Url);
        await using var newcomer = await TestClient.ConnectAsync(_node.Url);
        await _node.Io.Sockets.Sockets[busy.Id].JoinAsync(["a", "b"]);

        await _rooms.SendSnapshotAsync(_node.Io.Sockets.Sockets[newcomer.Id]);

        Assert.Equal(new Dictionary<string, int> { ["a"] = 1, ["b"] = 1 }, Counts(await newcomer.ExpectEventAsync("rooms")));
    }

    private static Dictionary<string, int> Counts(ReceivedEvent e) =>
        e[0].EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
}
