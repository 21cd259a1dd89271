using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SessionActivity : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "LastActivityAt",
                table: "Sessions",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            // Sessions open at the upgrade count as active since they began, not since the year 1 (which would end them all).
            migrationBuilder.Sql("UPDATE \"Sessions\" SET \"LastActivityAt\" = \"CreatedAt\";");

            migrationBuilder.CreateIndex(
                name: "IX_Sessions_EndedAt_LastActivityAt",
                table: "Sessions",
                columns: new[] { "EndedAt", "LastActivityAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Sessions_EndedAt_LastActivityAt",
                table: "Sessions");

            migrationBuilder.DropColumn(
                name: "LastActivityAt",
                table: "Sessions");
        }
    }
}
