using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class UniquePermissionEntries : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Grants made at the same moment may have left several entries for one folder and principal: merge them
            // before the unique indexes go on. The earliest entry stays, with the union (bit_or) of their rights.
            migrationBuilder.Sql("""
                UPDATE "PermissionEntries" AS p SET "Rights" = m."Rights"
                FROM (SELECT "FolderId", "UserId", "GroupId", bit_or("Rights") AS "Rights" FROM "PermissionEntries"
                      GROUP BY "FolderId", "UserId", "GroupId" HAVING count(*) > 1) AS m
                WHERE p."FolderId" = m."FolderId"
                  AND p."UserId" IS NOT DISTINCT FROM m."UserId" AND p."GroupId" IS NOT DISTINCT FROM m."GroupId";
                """);
            migrationBuilder.Sql("""
                DELETE FROM "PermissionEntries" AS p USING "PermissionEntries" AS k
                WHERE k."FolderId" = p."FolderId"
                  AND k."UserId" IS NOT DISTINCT FROM p."UserId" AND k."GroupId" IS NOT DISTINCT FROM p."GroupId"
                  AND (k."CreatedAt", k."Id") < (p."CreatedAt", p."Id");
                """);

            migrationBuilder.DropIndex(
                name: "IX_PermissionEntries_FolderId_GroupId",
                table: "PermissionEntries");

            migrationBuilder.DropIndex(
                name: "IX_PermissionEntries_FolderId_UserId",
                table: "PermissionEntries");

            migrationBuilder.CreateIndex(
                name: "IX_PermissionEntries_FolderId_GroupId",
                table: "PermissionEntries",
                columns: new[] { "FolderId", "GroupId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_PermissionEntries_FolderId_UserId",
                table: "PermissionEntries",
                columns: new[] { "FolderId", "UserId" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_PermissionEntries_FolderId_GroupId",
                table: "PermissionEntries");

            migrationBuilder.DropIndex(
                name: "IX_PermissionEntries_FolderId_UserId",
                table: "PermissionEntries");

            migrationBuilder.CreateIndex(
                name: "IX_PermissionEntries_FolderId_GroupId",
                table: "PermissionEntries",
                columns: new[] { "FolderId", "GroupId" });

            migrationBuilder.CreateIndex(
                name: "IX_PermissionEntries_FolderId_UserId",
                table: "PermissionEntries",
                columns: new[] { "FolderId", "UserId" });
        }
    }
}
