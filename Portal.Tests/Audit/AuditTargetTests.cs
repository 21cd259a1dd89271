using Portal.App.Audit;

namespace Portal.Tests.Audit;

/// <summary>The audit page's "Document or folder": each thing's path once, as the person would write it.</summary>
public sealed class AuditTargetTests
{
    private static readonly Guid Document = Guid.NewGuid();

    [Theory]
    // A document: its folder's path and its name.
    [InlineData("/Company/Policies", "Expense policy.md", true, "/Company/Policies/Expense policy.md")]
    // A document named like its folder is still inside it.
    [InlineData("/Company", "Company", true, "/Company/Company")]
    // A folder's own event: its path already ends with its name.
    [InlineData("/Company/Minutes 2027", "Minutes 2027", false, "/Company/Minutes 2027")]
    [InlineData("/A/A", "A", false, "/A/A")]
    // A refused new folder or upload: where it was meant to go, and the name asked for.
    [InlineData("/Company", "Minutes 2027", false, "/Company/Minutes 2027")]
    // Only a path (a folder opened, a page refused), or only a name.
    [InlineData("/Finance", null, false, "/Finance")]
    [InlineData(null, "Board minutes.txt", true, "Board minutes.txt")]
    [InlineData(null, null, false, "")]
    public void Each_target_reads_as_one_path(string? path, string? name, bool isDocument, string shown) =>
        Assert.Equal(shown, AuditTarget.Describe(path, name, isDocument ? Document : null));
}
