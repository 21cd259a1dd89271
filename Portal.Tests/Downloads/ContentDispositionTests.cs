using System.Net.Http.Headers;
using Portal.App.Downloads;

namespace Portal.Tests.Downloads;

/// <summary>Hostile and non-ASCII names never break the header and come back exactly (via filename*).</summary>
public class ContentDispositionTests
{
    [Fact]
    public void A_plain_ascii_name_is_a_quoted_filename_only() =>
        Assert.Equal("attachment; filename=\"report.pdf\"", ContentDisposition.Attachment("report.pdf"));

    [Theory]
    [InlineData("résumé été.bin")]
    [InlineData("報告書 2026.pdf")]
    [InlineData("quote\"and 'apostrophe'.txt")]
    [InlineData("100% sure.txt")]
    [InlineData("emoji 📄.txt")]
    public void The_exact_name_round_trips_through_filename_star(string name)
    {
        var header = ContentDisposition.Attachment(name);

        Assert.True(ContentDispositionHeaderValue.TryParse(header, out var parsed), header);
        Assert.Equal(name, parsed!.FileNameStar);
        Assert.All(header, c => Assert.InRange(c, ' ', '~'));
    }

    [Fact]
    public void Separators_inside_the_quoted_name_stay_inside_it()
    {
        Assert.True(ContentDispositionHeaderValue.TryParse(ContentDisposition.Attachment("semi;colon, comma=x.txt"), out var parsed));
        Assert.Equal("semi;colon, comma=x.txt", parsed!.FileName);
        Assert.Equal(["filename"], parsed.Parameters.Select(p => p.Name));
    }

    [Theory]
    [InlineData("evil\r\nSet-Cookie: x=1.txt")]
    [InlineData("nul\0byte.txt")]
    [InlineData("tab\there.txt")]
    [InlineData("bell\u0007.txt")]
    public void Control_characters_cannot_split_or_inject_a_header(string name)
    {
        var header = ContentDisposition.Attachment(name);

        Assert.DoesNotContain(header, c => char.IsControl(c));
        Assert.True(ContentDispositionHeaderValue.TryParse(header, out var parsed), header);
        Assert.Equal("attachment", parsed!.DispositionType);
        Assert.Equal(["filename"], parsed.Parameters.Select(p => p.Name));
        Assert.Equal(string.Concat(name.Select(c => char.IsControl(c) ? '_' : c)), parsed.FileName);
    }

    [Theory]
    [InlineData("../../etc/passwd", ".._.._etc_passwd")]
    [InlineData("..\\windows\\system.ini", ".._windows_system.ini")]
    public void Path_separators_become_underscores(string name, string expected)
    {
        Assert.True(ContentDispositionHeaderValue.TryParse(ContentDisposition.Attachment(name), out var parsed));
        Assert.Equal(expected, parsed!.FileName);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("..")]
    public void An_empty_or_dots_only_name_becomes_download(string name) =>
        Assert.Equal("attachment; filename=\"download\"", ContentDisposition.Attachment(name));

    [Fact]
    public void A_very_long_name_keeps_a_short_ascii_fallback_and_the_full_name_in_filename_star()
    {
        var name = new string('a', 300) + "é.txt";
        Assert.True(ContentDispositionHeaderValue.TryParse(ContentDisposition.Attachment(name), out var parsed));
        Assert.True(parsed!.FileName!.Length <= 150);
        Assert.Equal(name, parsed.FileNameStar);
    }

    [Fact]
    public void Inline_uses_the_inline_type() =>
        Assert.StartsWith("inline;", ContentDisposition.Inline("picture.png"));
}
