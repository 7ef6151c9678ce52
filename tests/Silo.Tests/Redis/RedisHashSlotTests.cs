using System.Text;
using OrleansRooms.Silo.Redis;

namespace OrleansRooms.Silo.Tests.Redis;

public sealed class RedisHashSlotTests
{
    [Theory]
    [InlineData("123456789", 0x31C3)] // the CRC16-XMODEM check value
    [InlineData("", 0x0000)]
    [InlineData("A", 0x58E5)]
    public void Crc16_is_xmodem(string text, int expected) =>
        Assert.Equal(expected, RedisHashSlot.Crc16(Encoding.ASCII.GetBytes(text)));

    [Theory]
    [InlineData("foo", 12182)] // known answers of CLUSTER KEYSLOT
    [InlineData("bar", 5061)]
    [InlineData("somekey", 11058)]
    [InlineData("{user1000}.following", 3443)]
    public void Slots_match_known_cluster_keyslot_answers(string key, int slot) =>
        Assert.Equal(slot, RedisHashSlot.Of(key));

    [Fact]
    public void Only_a_non_empty_first_hash_tag_is_hashed()
    {
        Assert.Equal(RedisHashSlot.Of("user1000"), RedisHashSlot.Of("{user1000}.followers"));
        Assert.Equal(RedisHashSlot.Of("{user1000}.following"), RedisHashSlot.Of("{user1000}.followers"));
        Assert.Equal(RedisHashSlot.Of("bar"), RedisHashSlot.Of("foo{bar}{zap}"));
        Assert.Equal(RedisHashSlot.Crc16(Encoding.ASCII.GetBytes("foo{}{bar}")) & 16383, RedisHashSlot.Of("foo{}{bar}"));
        Assert.Equal(RedisHashSlot.Of("{bar"), RedisHashSlot.Crc16(Encoding.ASCII.GetBytes("{bar")) & 16383);
        Assert.Equal(RedisHashSlot.Of("{{bar}}"), RedisHashSlot.Of("{bar"));
    }
}
