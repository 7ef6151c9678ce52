using OrleansRooms.Specification;

namespace OrleansRooms.Tests.Rooms;

/// <summary>The room-semantics suite against one gateway with the in-process grains (the embedded default).</summary>
public sealed class InProcessRoomSemanticsTests : RoomSemanticsSpecification
{
    protected override IGatewayCluster CreateCluster() => new SingleGatewayCluster();
}
