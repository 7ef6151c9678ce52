namespace OrleansRooms.Tests.SocketIO;

/// <summary>What <see cref="LogText"/> writes for text a client chose.</summary>
public sealed class LogTextTests
{
    [Theory]
    [InlineData("plain /namespace and room #1")]
    [InlineData("caf\u00e9 \u6f22\u5b57 \U0001F600")] // non-ASCII text and a surrogate pair are kept
    [InlineData("")]
    public void Text_with_nothing_to_escape_is_the_same_instance(string text)
    {
        Assert.Same(text, LogText.Escape(text));
        Assert.Same(text, new LogText(text).ToString());
    }

    [Theory]
    [InlineData("a\r\nb", @"a\r\nb")]
    [InlineData("\u001b[31mred", @"\u001B[31mred")]
    [InlineData("tab\there", @"tab\there")]
    [InlineData(@"back\slash", @"back\\slash")]
    [InlineData("nul\0", @"nul\u0000")]
    [InlineData("del\u007f csi\u009b", @"del\u007F csi\u009B")]
    [InlineData("line\u2028para\u2029", @"line\u2028para\u2029")]
    [InlineData("rtl\u202eexe.txt", @"rtl\u202Eexe.txt")]
    [InlineData("\U0001F600 pair kept\n", "\U0001F600 pair kept\\n")]
    public void Control_characters_are_escaped(string text, string expected)
    {
        Assert.Equal(expected, LogText.Escape(text));
    }

    // Lone surrogates cannot go through InlineData (the test runner turns them into U+FFFD).
    [Fact]
    public void Lone_surrogates_are_escaped_and_pairs_kept()
    {
        Assert.Equal(@"lone \uD800 high", LogText.Escape("lone \ud800 high"));
        Assert.Equal(@"lone \uDC00 low", LogText.Escape("lone \udc00 low"));
        Assert.Equal(@"\uDE00\uD83D reversed", LogText.Escape("\ude00\ud83d reversed"));
        Assert.Equal("\U0001F600" + @"\uD83D", LogText.Escape("\U0001F600\ud83d"));
        Assert.Equal(@"\uD83D\n", LogText.Escape("\ud83d\n"));
    }

    [Fact]
    public void Long_text_is_cut_with_a_count()
    {
        var escaped = LogText.Escape(new string('x', LogText.MaxLength + 10));

        Assert.Equal(new string('x', LogText.MaxLength) + "…(10 more characters)", escaped);
    }

    [Fact]
    public void Null_is_written_as_the_logging_formatter_writes_it()
    {
        Assert.Equal("(null)", LogText.Escape(null));
        Assert.Equal("(null)", default(LogText).ToString());
    }
}
