namespace Portal.Data.Hosting;

/// <summary>
/// One ASP.NET Core data-protection key (it encrypts session cookies and antiforgery tokens), kept in the
/// database so every app instance shares the key ring.
/// </summary>
public class DataProtectionKey
{
    public int Id { get; set; }
    public string? FriendlyName { get; set; }
    public required string Xml { get; set; }
}
