using Microsoft.Extensions.Logging;
using OrleansRooms.Specification;

#pragma warning disable CA1873 // The samples log where the Socket.IO docs call console.log; an IsEnabled guard on each would hide the point.

namespace OrleansRooms.Tests.Docs;

/// <summary>
/// The C# samples of <c>docs/presence.md</c>: each test runs its sample as written there (marked
/// <c>// docs/presence.md: heading</c>) and checks what the page says it does.
/// </summary>
public sealed class PresenceDocsTests
{
    [Fact]
    public async Task The_count_of_a_room_is_its_members()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        io.Of("/chat"); // the namespace exists before its clients connect
        await using var first = await TestClient.ConnectAsync(node.Url, "/chat");
        await using var second = await TestClient.ConnectAsync(node.Url, "/chat");
        await io.Of("/chat").Sockets[first.Id].JoinAsync("lobby");
        await io.Of("/chat").Sockets[second.Id].JoinAsync("lobby");

        // docs/presence.md: How many
        var count = await io.Of("/chat").Adapter.GetRoomMemberCountAsync("lobby");

        Assert.Equal(2, count);
    }

    [Fact]
    public async Task A_walk_of_the_pages_lists_every_member()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        var logger = new RecordingLogger();
        io.Of("/chat"); // the namespace exists before its clients connect
        await using var first = await TestClient.ConnectAsync(node.Url, "/chat");
        await using var second = await TestClient.ConnectAsync(node.Url, "/chat");
        await io.Of("/chat").Sockets[first.Id].JoinAsync("lobby");
        await io.Of("/chat").Sockets[second.Id].JoinAsync("lobby");

        // docs/presence.md: Who, page by page
        var adapter = io.Of("/chat").Adapter;
        string? token = null;
        do
        {
            var page = await adapter.GetRoomMembersAsync("lobby", pageSize: 500, token);
            foreach (var id in page.SocketIds)
            {
                logger.LogInformation("{Id} is in the lobby", id);
            }

            token = page.ContinuationToken;
        }
        while (token is not null);

        var logged = new[] { await logger.NextAsync(), await logger.NextAsync() };
        Assert.Equal(new[] { $"{first.Id} is in the lobby", $"{second.Id} is in the lobby" }.Order(), logged.Order());
    }

    [Fact]
    public async Task Presence_raises_the_joins_and_leaves()
    {
        await using var node = await GatewayNode.StartAsync();
        var io = node.Io;
        var logger = new RecordingLogger();

        // docs/presence.md: Joins and leaves, cluster-wide
        io.Of("/chat").Presence.Joined += (room, id) =>
        {
            logger.LogInformation("socket {Id} joined {Room} somewhere in the cluster", id, room);
        };

        io.Of("/chat").Presence.Left += (room, id) =>
        {
            logger.LogInformation("socket {Id} left {Room}", id, room);
        };

        var client = await TestClient.ConnectAsync(node.Url, "/chat");
        var socket = io.Of("/chat").Sockets[client.Id];
        await socket.JoinAsync("lobby");
        await logger.ExpectAsync($"socket {client.Id} joined lobby somewhere in the cluster");
        await socket.LeaveAsync("lobby");
        await logger.ExpectAsync($"socket {client.Id} left lobby");

        // A disconnection takes the socket out of its rooms; its own room is not reported.
        await socket.JoinAsync("lobby");
        await logger.ExpectAsync($"socket {client.Id} joined lobby somewhere in the cluster");
        await client.DisposeAsync();
        await logger.ExpectAsync($"socket {client.Id} left lobby");
    }
}
