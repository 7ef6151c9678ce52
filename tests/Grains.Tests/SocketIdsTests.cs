using OrleansRooms.Grains.Naming;

namespace OrleansRooms.Grains.Tests;

public sealed class SocketIdsTests
{
    [Fact]
    public void An_id_has_twenty_base64url_characters()
    {
        var id = SocketIds.New();

        Assert.Matches("^[A-Za-z0-9_-]{20}$", id);
        Assert.True(SocketIds.IsShaped(id));
    }

    [Fact]
    public void Ids_differ()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => SocketIds.New()).ToHashSet();

        Assert.Equal(1000, ids.Count);
    }

    [Fact]
    public void A_key_gives_back_its_id()
    {
        for (var i = 0; i < 100; i++)
        {
            var id = SocketIds.New();
            Assert.Equal(id, SocketKey.Parse(id).ToString());
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("room")]
    [InlineData("exactly twenty chars")]
    [InlineData("a-room-name-of-29-characters")]
    public void A_name_that_is_not_shaped_like_an_id_is_no_socket_id(string name)
    {
        Assert.False(SocketIds.IsShaped(name));
        Assert.False(SocketKey.TryParse(name, out _));
    }
}
