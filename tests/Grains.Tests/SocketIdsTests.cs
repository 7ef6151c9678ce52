using System.Net;
using OrleansRooms.Grains.Routing;

namespace OrleansRooms.Grains.Tests;

public sealed class SocketIdsTests
{
    private static readonly SiloAddress Gateway = SiloAddress.New(IPAddress.Loopback, 11111, 42);

    [Fact]
    public void An_id_has_twenty_base64url_characters_and_names_its_gateway()
    {
        var id = SocketIds.New(Gateway);

        Assert.Matches("^[A-Za-z0-9_-]{20}$", id);
        Assert.True(SocketIds.TryGetTag(id, out var tag));
        Assert.Equal(SocketIds.TagOf(Gateway), tag);
    }

    [Fact]
    public void Ids_of_one_gateway_differ_in_their_random_part()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => SocketIds.New(Gateway)).ToHashSet();

        Assert.Equal(1000, ids.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("room")]
    [InlineData("exactly twenty chars")]
    [InlineData("a-room-name-of-29-characters")]
    public void A_name_that_is_not_shaped_like_an_id_has_no_tag(string name) => Assert.False(SocketIds.TryGetTag(name, out _));
}
