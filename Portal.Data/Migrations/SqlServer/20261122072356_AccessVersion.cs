using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.SqlServer
{
    /// <inheritdoc />
    public partial class AccessVersion : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AccessVersion",
                columns: table => new
                {
                    Id = table.Column<int>(type: "int", nullable: false),
                    Version = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AccessVersion", x => x.Id);
                });

            migrationBuilder.InsertData(
                table: "AccessVersion",
                columns: new[] { "Id", "Version" },
                values: new object[] { 1, 0L });

            // What decides a download (documents, folders, permission entries, group memberships) raises the access
            // version, once per statement that changes a row (a cascade fires the child table's trigger too).
            foreach (var table in new[] { "Documents", "Folders", "PermissionEntries", "GroupMemberships" })
                migrationBuilder.Sql($"""
                    CREATE TRIGGER [{table}_AccessChanged] ON [{table}] AFTER INSERT, UPDATE, DELETE AS
                    BEGIN
                        SET NOCOUNT ON;
                        IF EXISTS (SELECT 1 FROM inserted) OR EXISTS (SELECT 1 FROM deleted)
                            UPDATE [AccessVersion] SET [Version] = [Version] + 1 WHERE [Id] = 1;
                    END
                    """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var table in new[] { "Documents", "Folders", "PermissionEntries", "GroupMemberships" })
                migrationBuilder.Sql($"DROP TRIGGER [{table}_AccessChanged];");

            migrationBuilder.DropTable(
                name: "AccessVersion");
        }
    }
}
