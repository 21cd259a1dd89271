using Portal.App.Auth;

namespace Portal.Tests.Auth;

public class PageRolesTests
{
    [Theory]
    [InlineData("/audit", "compliance officers")]
    [InlineData("/AUDIT?from=2026-01-01#top", "compliance officers")]
    [InlineData("/admin/users/", "administrators")]
    [InlineData("/bin", "administrators")]
    [InlineData("/search?q=x", null)]                 // any signed-in person
    [InlineData("/folders/6f9619ff-8b86-d011-b42d-00cf4fc964ff/access", null)] // route parameters: no role of its own
    [InlineData("//evil.example/audit", null)]         // not a local path
    [InlineData("https://evil.example/audit", null)]
    [InlineData("/no-such-page", null)]
    [InlineData("", null)]
    public void The_no_access_message_names_whom_the_asked_for_page_is_for(string returnUrl, string? expected) =>
        Assert.Equal(expected, PageRoles.InWordsForPath(returnUrl));
}
