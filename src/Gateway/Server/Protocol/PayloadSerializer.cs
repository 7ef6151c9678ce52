using System.Text.Json;

namespace OrleansRooms.Protocol;

/// <summary>Reads event and ack arguments, resolving binary placeholders to the packet's attachments.</summary>
internal static class PayloadSerializer
{
    /// <summary>
    /// Reads <paramref name="element"/> as <typeparamref name="T"/>. Placeholders <c>{"_placeholder":true,"num":N}</c>
    /// become <c>attachments[N]</c> wherever <typeparamref name="T"/> (or a nested member) is byte[],
    /// ReadOnlyMemory&lt;byte&gt;, Memory&lt;byte&gt; or ArraySegment&lt;byte&gt;; the attachment array itself is
    /// returned, not a copy. Throws <see cref="JsonException"/> when the JSON does not fit the type or a placeholder
    /// has no attachment.
    /// </summary>
    public static T? Deserialize<T>(JsonElement element, IReadOnlyList<byte[]> attachments, JsonSerializerOptions options)
    {
        var serializer = ProtocolJsonOptions.For(options).Serializer;
        var previous = BinaryAttachments.Incoming;
        BinaryAttachments.Incoming = attachments;
        try
        {
            return element.Deserialize<T>(serializer);
        }
        finally
        {
            BinaryAttachments.Incoming = previous;
        }
    }

    /// <summary>Like <see cref="Deserialize{T}"/>, for a type known at run time (handler parameters).</summary>
    public static object? Deserialize(JsonElement element, Type returnType, IReadOnlyList<byte[]> attachments, JsonSerializerOptions options)
    {
        var serializer = ProtocolJsonOptions.For(options).Serializer;
        var previous = BinaryAttachments.Incoming;
        BinaryAttachments.Incoming = attachments;
        try
        {
            return element.Deserialize(returnType, serializer);
        }
        finally
        {
            BinaryAttachments.Incoming = previous;
        }
    }
}
