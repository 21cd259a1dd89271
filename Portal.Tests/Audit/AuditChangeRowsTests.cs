using Portal.App.Audit;
using Portal.App.Folders;

namespace Portal.Tests.Audit;

/// <summary>The event detail's "What changed": each field before and after, as the app's own Changes are written.</summary>
public sealed class AuditChangeRowsTests
{
    [Fact]
    public void A_permission_change_shows_each_field_before_and_after_and_marks_what_changed()
    {
        var principal = Guid.NewGuid();
        var rows = AuditChangeRows.Of(AuditChanges.Of(
            new { principalId = principal, rights = new[] { "Browse" } },
            new { principalId = principal, rights = new[] { "Browse", "Download" } }));

        Assert.Equal(
            [new("principalId", principal.ToString(), principal.ToString()), new("rights", "Browse", "Browse, Download")],
            rows);
        Assert.Equal([false, true], rows.Select(r => r.Changed));
    }

    [Fact]
    public void A_creation_has_nothing_before_and_a_field_only_on_one_side_is_shown_on_that_side()
    {
        Assert.Equal([new("name", "—", "Reports"), new("parentId", "—", "—")],
            AuditChangeRows.Of(AuditChanges.Of(null, new { name = "Reports", parentId = (Guid?)null })));

        Assert.Equal([new("deleted", "true", "false"), new("deletionId", "7", "—"), new("folders", "—", "2"), new("rights", "—", "(none)")],
            AuditChangeRows.Of("""{"before":{"deleted":true,"deletionId":7},"after":{"deleted":false,"folders":2,"rights":[]}}"""));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("""{"something":"else"}""")]
    public void Anything_else_shows_no_rows_and_the_raw_text_stays_the_record(string? changes) =>
        Assert.Empty(AuditChangeRows.Of(changes));
}
