using Npgsql;
using Portal.Data.Database;

namespace Portal.Tests.Database;

public class StatementPreparationTests
{
    [Fact]
    public void PostgreSQL_connections_prepare_hot_statements_unless_the_connection_string_says_otherwise()
    {
        var chosen = new NpgsqlConnectionStringBuilder(PortalDatabase.WithStatementPreparation("Host=db;Username=portal;Password=secret"));
        Assert.Equal((50, 2, "secret"), (chosen.MaxAutoPrepare, chosen.AutoPrepareMinUsages, chosen.Password));

        var off = new NpgsqlConnectionStringBuilder(PortalDatabase.WithStatementPreparation("Host=db;Max Auto Prepare=0"));
        Assert.Equal(0, off.MaxAutoPrepare);
    }
}
