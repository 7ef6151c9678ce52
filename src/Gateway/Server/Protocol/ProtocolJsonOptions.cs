using System.Runtime.CompilerServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace OrleansRooms.Protocol;

/// <summary>
/// The user's <see cref="JsonSerializerOptions"/> wrapped once with the binary placeholder converters, plus what the
/// encoder derives from them. Built on first use of an options instance and cached for its lifetime, so later changes
/// to that instance are not seen (System.Text.Json freezes options on first use for the same reason).
/// </summary>
internal sealed class ProtocolJsonOptions
{
    private static readonly ConditionalWeakTable<JsonSerializerOptions, ProtocolJsonOptions> Cache = new();

    private ProtocolJsonOptions(JsonSerializerOptions userOptions)
    {
        var wrapped = new JsonSerializerOptions(userOptions);
        // Inserted first: the first converter that can handle a type wins over the user's.
        wrapped.Converters.Insert(0, BinaryConverters.ByteArray);
        wrapped.Converters.Insert(1, BinaryConverters.ReadOnlyMemory);
        wrapped.Converters.Insert(2, BinaryConverters.Memory);
        wrapped.Converters.Insert(3, BinaryConverters.ArraySegment);
        Serializer = wrapped;

        // JSON.stringify writes non-ASCII text as is; the default encoder would escape it (bigger frames, bytes
        // unlike the reference server's). HTML-safe escaping buys nothing on a socket.
        Encoder = userOptions.Encoder ?? JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

        // The encoder writes common primitives itself only when the serializer would write them the same way.
        PrimitiveFastPath = userOptions.Converters.Count == 0
            && (userOptions.NumberHandling & System.Text.Json.Serialization.JsonNumberHandling.WriteAsString) == 0;
    }

    /// <summary>The user's options plus the converters for byte[], ReadOnlyMemory&lt;byte&gt;, Memory&lt;byte&gt; and ArraySegment&lt;byte&gt;.</summary>
    public JsonSerializerOptions Serializer { get; }

    /// <summary>The encoder the JSON writer uses for strings.</summary>
    public JavaScriptEncoder Encoder { get; }

    /// <summary>Whether strings, bools, int, long, double and null may be written without the serializer.</summary>
    public bool PrimitiveFastPath { get; }

    /// <summary>The wrapped options for <paramref name="userOptions"/>, created on first use.</summary>
    public static ProtocolJsonOptions For(JsonSerializerOptions userOptions) =>
        Cache.GetValue(userOptions, static options => new ProtocolJsonOptions(options));
}
