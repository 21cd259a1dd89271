using Npgsql;
using Portal.Data.Database;

namespace Portal.Tests.Database;

public class StatementPreparationTests
{
    [Fact]
    public void PostgreSQL_connections_prepare_hot_statements_and_skip_the_pool_reset_unless_the_connection_string_says_otherwise()
    {
        var chosen = new NpgsqlConnectionStringBuilder(PortalDatabase.WithNpgsqlDefaults("Host=db;Username=portal;Password=secret"));
        Assert.Equal((50, 2, true, "secret"), (chosen.MaxAutoPrepare, chosen.AutoPrepareMinUsages, chosen.NoResetOnClose, chosen.Password));

        var off = new NpgsqlConnectionStringBuilder(PortalDatabase.WithNpgsqlDefaults("Host=db;Max Auto Prepare=0;No Reset On Close=false"));
        Assert.Equal((0, false), (off.MaxAutoPrepare, off.NoResetOnClose));
    }
}
