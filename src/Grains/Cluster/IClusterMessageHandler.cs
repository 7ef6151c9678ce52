namespace OrleansRooms.Grains;

/// <summary>Receives the cluster messages addressed to a gateway for one namespace.</summary>
public interface IClusterMessageHandler
{
    /// <summary>
    /// Called for each message, in the order they arrived, on the engine's receive loop: keep it short and hand
    /// slow work elsewhere. The message's memory stays valid after the call.
    /// </summary>
    void OnClusterMessage(ClusterMessage message);
}
