using OrleansRooms.Grains.Gateways;
using OrleansRooms.Specification;
using OrleansRooms.TestCluster;

namespace OrleansRooms.Silo.Tests.Gateways;

/// <summary>The room-semantics suite, unchanged, on three gateways of an Orleans test cluster, broadcasts by direct grain calls.</summary>
public sealed class DirectCallRoomSemanticsTests : RoomSemanticsSpecification
{
    protected override IGatewayCluster CreateCluster() => new OrleansGatewayCluster(gateways: 3, GatewayDeliveryMode.DirectCall);
}

/// <summary>The room-semantics suite, unchanged, on three gateways of an Orleans test cluster, broadcasts through the gateways' streams.</summary>
public sealed class StreamRoomSemanticsTests : RoomSemanticsSpecification
{
    protected override IGatewayCluster CreateCluster() => new OrleansGatewayCluster(gateways: 3, GatewayDeliveryMode.Streams);
}

/// <summary>
/// The room-semantics suite on three gateways with connection state recovery on: every replayable broadcast goes to
/// every silo in its sender's sequence, and each packet carries an offset as its last argument.
/// </summary>
public sealed class RecoveryRoomSemanticsTests : RoomSemanticsSpecification
{
    protected override IGatewayCluster CreateCluster() => new OrleansGatewayCluster(gateways: 3)
    {
        Settings = new Dictionary<string, string> { ["SocketIO:ConnectionStateRecovery:MaxDisconnectionDuration"] = "00:02:00" },
    };
}
