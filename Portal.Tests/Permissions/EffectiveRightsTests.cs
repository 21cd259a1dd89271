using Portal.Data.Permissions;

namespace Portal.Tests.Permissions;

/// <summary>The rule of the design on its own: union along the path, stopped where a folder stops inheriting.</summary>
public class EffectiveRightsTests
{
    private static FolderGrants Inherits(Rights granted = Rights.None) => new(true, granted);
    private static FolderGrants Stops(Rights granted = Rights.None) => new(false, granted);

    [Fact]
    public void A_direct_grant_on_the_folder_applies() =>
        Assert.Equal(Rights.Browse | Rights.Download, EffectiveRights.Compute([Inherits(), Inherits(Rights.Browse | Rights.Download)]));

    [Fact]
    public void A_grant_on_an_ancestor_is_inherited_down_the_tree() =>
        Assert.Equal(Rights.Browse, EffectiveRights.Compute([Inherits(Rights.Browse), Inherits(), Inherits()]));

    [Fact]
    public void Grants_along_the_path_add_up() =>
        Assert.Equal(Rights.Browse | Rights.Upload, EffectiveRights.Compute([Inherits(Rights.Browse), Inherits(Rights.Upload)]));

    [Fact]
    public void No_grant_anywhere_means_no_rights() =>
        Assert.Equal(Rights.None, EffectiveRights.Compute([Inherits(), Inherits()]));

    [Fact]
    public void A_folder_that_stops_inheritance_ignores_grants_above_it() =>
        Assert.Equal(Rights.None, EffectiveRights.Compute([Inherits(Rights.All), Stops()]));

    [Fact]
    public void A_folder_that_stops_inheritance_keeps_its_own_grants_and_passes_them_down() =>
        Assert.Equal(Rights.Download, EffectiveRights.Compute([Inherits(Rights.Browse), Stops(Rights.Download), Inherits()]));

    [Fact]
    public void Stopping_inheritance_below_the_grant_does_not_affect_folders_above() =>
        Assert.Equal(Rights.Browse, EffectiveRights.Compute([Inherits(Rights.Browse)]));
}
