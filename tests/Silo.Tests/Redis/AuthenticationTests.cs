using OrleansRooms.Silo.Redis;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Redis;

public sealed class AuthenticationTests
{
    [Fact]
    public async Task The_password_is_sent_on_connect_and_a_wrong_or_missing_one_is_a_clear_error()
    {
        await using var server = await RedisServer.StartAsync(password: "s3cret");

        await using (var client = await RedisClient.ConnectAsync(server.CreateOptions()))
        {
            Assert.Equal("PONG", (await client.ExecuteAsync(RedisCommand.Create("PING"))).AsString());
        }

        var wrong = server.CreateOptions();
        wrong.Password = "guess";
        var refused = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisClient.ConnectAsync(wrong));
        Assert.Contains("refused authentication", refused.Message, StringComparison.Ordinal);
        Assert.Contains("WRONGPASS", refused.Message, StringComparison.Ordinal);

        var missing = server.CreateOptions();
        missing.Password = null;
        var noAuth = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisClient.ConnectAsync(missing));
        Assert.Contains("NOAUTH", noAuth.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_acl_user_authenticates_with_user_and_password()
    {
        await using var server = await RedisServer.StartAsync(password: "admin");
        await server.SendAsync("ACL", "SETUSER", "gateway", "on", ">gw-pass", "~*", "&*", "+@all");
        var options = server.CreateOptions();
        options.User = "gateway";
        options.Password = "gw-pass";

        await using var client = await RedisClient.ConnectAsync(options);

        Assert.Equal("gateway", (await client.ExecuteAsync(RedisCommand.Create("ACL", "WHOAMI"))).AsString());
    }
}
