namespace Portal.Data.Database;

/// <summary>An entity whose creation and last-change times are stamped by <see cref="TimestampInterceptor"/>.</summary>
public interface ITimestamped
{
    DateTimeOffset CreatedAt { get; set; }
    DateTimeOffset UpdatedAt { get; set; }
}
