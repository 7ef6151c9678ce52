using OrleansRooms.Specification;

namespace OrleansRooms.Tests.Rooms;

/// <summary>
/// A room's member pages and presence on one node (the embedded default): what a read may ask for, how a walk ends,
/// and a presence handler that fails.
/// </summary>
public sealed class RoomPresenceTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(RoomMembersPage.MaxPageSize + 1)]
    public async Task A_page_size_out_of_range_is_refused(int pageSize)
    {
        await using var node = await GatewayNode.StartAsync();

        var refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            async () => await node.Io.Sockets.Adapter.GetRoomMembersAsync("room", pageSize));

        Assert.Equal("pageSize", refused.ParamName);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a token")]
    [InlineData("AAAAAAAAAAAAAAAAAAA!")]
    public async Task A_continuation_token_no_page_gave_is_refused(string token)
    {
        await using var node = await GatewayNode.StartAsync();

        var refused = await Assert.ThrowsAsync<ArgumentException>(
            async () => await node.Io.Sockets.Adapter.GetRoomMembersAsync("room", 10, token));

        Assert.Equal("continuationToken", refused.ParamName);
    }

    [Fact]
    public async Task A_walk_lists_every_member_once_and_its_last_page_has_no_token()
    {
        await using var node = await GatewayNode.StartAsync();
        var members = new List<TestClient>();
        for (var i = 0; i < 5; i++)
        {
            var client = await TestClient.ConnectAsync(node.Url);
            members.Add(client);
            await node.Io.Sockets.Sockets[client.Id].JoinAsync("room");
        }

        var adapter = node.Io.Sockets.Adapter;
        var first = await adapter.GetRoomMembersAsync("room", pageSize: 2);
        var second = await adapter.GetRoomMembersAsync("room", pageSize: 2, first.ContinuationToken);
        var last = await adapter.GetRoomMembersAsync("room", pageSize: 2, second.ContinuationToken);

        Assert.Equal([2, 2, 1], [first.SocketIds.Count, second.SocketIds.Count, last.SocketIds.Count]);
        Assert.NotNull(second.ContinuationToken);
        Assert.Null(last.ContinuationToken);
        Assert.Equal(
            members.Select(m => m.Id).Order(StringComparer.Ordinal),
            first.SocketIds.Concat(second.SocketIds).Concat(last.SocketIds).Order(StringComparer.Ordinal));
        Assert.Null((await adapter.GetRoomMembersAsync("nobody's room", pageSize: 2)).ContinuationToken);

        foreach (var member in members)
        {
            await member.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_presence_handler_that_throws_fails_neither_the_join_nor_the_other_handlers()
    {
        await using var node = await GatewayNode.StartAsync();
        await using var client = await TestClient.ConnectAsync(node.Url);
        var seen = new List<(string Room, string Id)>();
        node.Io.Sockets.Presence.Joined += (_, _) => throw new InvalidOperationException("a subscriber's bug");
        node.Io.Sockets.Presence.Joined += (room, id) => seen.Add((room, id));

        await node.Io.Sockets.Sockets[client.Id].JoinAsync("room");

        Assert.Equal([("room", client.Id)], seen);
        Assert.Contains("room", node.Io.Sockets.Sockets[client.Id].Rooms);
    }
}
