using OrleansRooms.Specification;

namespace OrleansRooms.Tests.Rooms;

/// <summary>The room-semantics suite against the embedded default: one gateway with its co-hosted silo and real grains.</summary>
public sealed class EmbeddedRoomSemanticsTests : RoomSemanticsSpecification
{
    protected override IGatewayCluster CreateCluster() => new SingleGatewayCluster();
}
