using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Gateways;

/// <summary>The room-semantics suite, unchanged, against three gateways sharing a standalone Redis; clients are spread over the gateways.</summary>
public sealed class RedisRoomSemanticsTests : RoomSemanticsSpecification
{
    protected override IGatewayCluster CreateCluster() => new RedisGatewayCluster(gateways: 3);
}
