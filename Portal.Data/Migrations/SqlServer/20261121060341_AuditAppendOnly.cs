using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.SqlServer
{
    /// <inheritdoc />
    public partial class AuditAppendOnly : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The audit log is append-only: the database itself refuses changes, whatever the app does.
            migrationBuilder.Sql("""
                CREATE TRIGGER [AuditEvents_NoChange] ON [AuditEvents] INSTEAD OF UPDATE, DELETE AS
                BEGIN
                    THROW 50001, 'AuditEvents is append-only', 1;
                END
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER [AuditEvents_NoChange];");
        }
    }
}
