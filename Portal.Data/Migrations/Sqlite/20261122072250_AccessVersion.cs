using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.Sqlite
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
                    Id = table.Column<int>(type: "INTEGER", nullable: false),
                    Version = table.Column<long>(type: "INTEGER", nullable: false)
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
            // version. SQLite has only row triggers, one event each; its writers take turns, so nothing waits in a cycle.
            foreach (var table in new[] { "Documents", "Folders", "PermissionEntries", "GroupMemberships" })
                foreach (var change in new[] { "INSERT", "UPDATE", "DELETE" })
                    migrationBuilder.Sql($"CREATE TRIGGER \"{table}_AccessChanged_{change}\" AFTER {change} ON \"{table}\" BEGIN UPDATE \"AccessVersion\" SET \"Version\" = \"Version\" + 1 WHERE \"Id\" = 1; END;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var table in new[] { "Documents", "Folders", "PermissionEntries", "GroupMemberships" })
                foreach (var change in new[] { "INSERT", "UPDATE", "DELETE" })
                    migrationBuilder.Sql($"DROP TRIGGER \"{table}_AccessChanged_{change}\";");

            migrationBuilder.DropTable(
                name: "AccessVersion");
        }
    }
}
