using MudBlazor;

namespace Portal.App.Components;

/// <summary>
/// The portal's one MudBlazor theme, light and dark. MudBlazor's default palette fails WCAG AA contrast in many places
/// (white on its green is 2.2:1); the colours below were measured with axe-core on every page (AccessibilityTests):
/// white text on each filled colour is at least 4.5:1, and warnings carry dark text.
/// </summary>
public static class PortalTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#3949ab", PrimaryContrastText = "#ffffff",
            Secondary = "#ad1457", SecondaryContrastText = "#ffffff",
            Tertiary = "#00695c", TertiaryContrastText = "#ffffff",
            Success = "#2e7d32", SuccessContrastText = "#ffffff",
            Error = "#c62828", ErrorContrastText = "#ffffff",
            Info = "#1565c0", InfoContrastText = "#ffffff",
            Warning = "#ffa000", WarningContrastText = "#212121",
            AppbarBackground = "#283593", AppbarText = "#ffffff",
            Background = "#f5f5f5", Surface = "#ffffff",
            TextPrimary = "rgba(0,0,0,0.87)", TextSecondary = "rgba(0,0,0,0.66)",
            DrawerBackground = "#ffffff", DrawerText = "rgba(0,0,0,0.87)", DrawerIcon = "rgba(0,0,0,0.66)",
            ActionDefault = "rgba(0,0,0,0.66)",
        },
        PaletteDark = new PaletteDark
        {
            // Light tints on the dark surfaces: dark text on the filled colours, light text beside them.
            Primary = "#9fa8da", PrimaryContrastText = "#121212",
            Secondary = "#f48fb1", SecondaryContrastText = "#121212",
            Tertiary = "#80cbc4", TertiaryContrastText = "#121212",
            Success = "#81c784", SuccessContrastText = "#121212",
            Error = "#ef9a9a", ErrorContrastText = "#121212",
            Info = "#90caf9", InfoContrastText = "#121212",
            Warning = "#ffb74d", WarningContrastText = "#121212",
            AppbarBackground = "#1e1e2e", AppbarText = "rgba(255,255,255,0.92)",
            Background = "#121212", Surface = "#1e1e1e",
            TextPrimary = "rgba(255,255,255,0.92)", TextSecondary = "rgba(255,255,255,0.72)",
            DrawerBackground = "#1a1a1a", DrawerText = "rgba(255,255,255,0.92)", DrawerIcon = "rgba(255,255,255,0.72)",
            ActionDefault = "rgba(255,255,255,0.72)",
        },
        LayoutProperties = new LayoutProperties { DrawerWidthLeft = "240px" },
    };
}
