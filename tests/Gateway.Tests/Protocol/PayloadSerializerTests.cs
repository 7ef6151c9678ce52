using System.Text.Json;
using OrleansRooms.Protocol;
using static OrleansRooms.Tests.Protocol.ProtocolTestData;

namespace OrleansRooms.Tests.Protocol;

public sealed class PayloadSerializerTests
{
    public sealed record Upload(string FileName, byte[] Content, ReadOnlyMemory<byte>? Preview);

    private static void Handler(Upload upload) => _ = upload;

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement;

    [Fact]
    public void Placeholder_becomes_the_attachment_itself()
    {
        byte[][] attachments = [[1], [2, 3]];
        var bytes = PayloadSerializer.Deserialize<byte[]>(Json("""{"_placeholder":true,"num":1}"""), attachments, Web);
        Assert.Same(attachments[1], bytes);
    }

    [Fact]
    public void Nested_placeholders_resolve_with_the_users_naming_policy()
    {
        byte[][] attachments = [[1, 2], [3]];
        var upload = PayloadSerializer.Deserialize<Upload>(
            Json("""{"fileName":"a.png","content":{"_placeholder":true,"num":0},"preview":{"num":1,"_placeholder":true,"extra":[1]}}"""),
            attachments,
            Web)!;
        Assert.Equal("a.png", upload.FileName);
        Assert.Equal(new byte[] { 1, 2 }, upload.Content);
        Assert.Equal(new byte[] { 3 }, upload.Preview!.Value.ToArray());
    }

    [Fact]
    public void Base64_string_still_reads_as_bytes()
    {
        Assert.Equal(new byte[] { 1, 2 }, PayloadSerializer.Deserialize<byte[]>(Json("\"AQI=\""), [], Web));
        Assert.Equal(new byte[] { 1, 2 }, PayloadSerializer.Deserialize<ReadOnlyMemory<byte>>(Json("\"AQI=\""), [], Web).ToArray());
    }

    [Fact]
    public void Null_reads_as_null_or_empty()
    {
        Assert.Null(PayloadSerializer.Deserialize<byte[]>(Json("null"), [], Web));
        Assert.True(PayloadSerializer.Deserialize<ReadOnlyMemory<byte>>(Json("null"), [], Web).IsEmpty);
        Assert.Null(PayloadSerializer.Deserialize<ReadOnlyMemory<byte>?>(Json("null"), [], Web));
    }

    [Theory]
    [InlineData("""{"_placeholder":true,"num":1}""")]
    [InlineData("""{"_placeholder":true,"num":-1}""")]
    [InlineData("""{"_placeholder":true,"num":"0"}""")]
    [InlineData("""{"_placeholder":true}""")]
    [InlineData("""{"_placeholder":false,"num":0}""")]
    [InlineData("""{"num":0}""")]
    [InlineData("[1,2]")]
    [InlineData("12")]
    public void Anything_but_a_valid_placeholder_or_base64_throws_json_exception(string json)
    {
        Assert.ThrowsAny<JsonException>(() => PayloadSerializer.Deserialize<byte[]>(Json(json), [[1]], Web));
    }

    [Fact]
    public void Placeholder_without_attachments_throws_json_exception()
    {
        Assert.ThrowsAny<JsonException>(() => PayloadSerializer.Deserialize<byte[]>(Json("""{"_placeholder":true,"num":0}"""), [], Web));
    }

    [Fact]
    public void Non_binary_types_read_as_usual()
    {
        Assert.Equal(42, PayloadSerializer.Deserialize<int>(Json("42"), [], Web));
        Assert.Equal("x", PayloadSerializer.Deserialize<string>(Json("\"x\""), [], Web));
        Assert.Equal(new List<int> { 1, 2 }, PayloadSerializer.Deserialize<List<int>>(Json("[1,2]"), [], Web));
    }

    [Fact]
    public void Runtime_type_overload_resolves_placeholders()
    {
        // As a handler dispatcher calls it, with the parameter type it found by reflection.
        var parameterType = typeof(PayloadSerializerTests).GetMethod(nameof(Handler), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.GetParameters()[0].ParameterType;
        var value = PayloadSerializer.Deserialize(Json("""{"fileName":"f","content":{"_placeholder":true,"num":0}}"""), parameterType, [[5]], Web);
        Assert.Equal(new byte[] { 5 }, Assert.IsType<Upload>(value).Content);
    }

    [Fact]
    public void Attachments_do_not_leak_into_a_later_call()
    {
        PayloadSerializer.Deserialize<byte[]>(Json("""{"_placeholder":true,"num":0}"""), [[1]], Web);
        Assert.ThrowsAny<JsonException>(() => PayloadSerializer.Deserialize<byte[]>(Json("""{"_placeholder":true,"num":0}"""), [], Web));
    }

    [Fact]
    public void Wrapped_options_are_built_once_per_options_instance()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Assert.Same(ProtocolJsonOptions.For(options), ProtocolJsonOptions.For(options));
        Assert.NotSame(ProtocolJsonOptions.For(options).Serializer, options);
        Assert.Empty(options.Converters);
    }

    [Fact]
    public void Users_converters_still_apply()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter());
        Assert.Equal(DayOfWeek.Friday, PayloadSerializer.Deserialize<DayOfWeek>(Json("\"Friday\""), [], options));

        var encoded = PacketEncoder.Event("/", "day", [DayOfWeek.Friday, 1], null, options);
        Assert.Equal("""42["day","Friday",1]""", Text(encoded));
    }
}
