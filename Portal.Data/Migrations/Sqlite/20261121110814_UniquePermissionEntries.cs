using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class UniquePermissionEntries : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Grants made at the same moment may have left several entries for one folder and principal: merge them
            // before the unique indexes go on. The earliest entry stays, with the union of their rights (SQLite has no
            // bitwise-OR aggregate: a right is in the union when any of the entries has its bit).
            migrationBuilder.Sql("""
                UPDATE "PermissionEntries" SET "Rights" = (
                    WITH RECURSIVE "bits"("b") AS (SELECT 1 UNION ALL SELECT "b" * 2 FROM "bits" WHERE "b" < 1073741824)
                    SELECT SUM("b") FROM "bits" WHERE EXISTS (
                        SELECT 1 FROM "PermissionEntries" AS "d"
                        WHERE "d"."FolderId" = "PermissionEntries"."FolderId"
                          AND ("d"."UserId" = "PermissionEntries"."UserId" OR "d"."GroupId" = "PermissionEntries"."GroupId")
                          AND ("d"."Rights" & "bits"."b") <> 0))
                WHERE EXISTS (
                    SELECT 1 FROM "PermissionEntries" AS "d"
                    WHERE "d"."FolderId" = "PermissionEntries"."FolderId"
                      AND ("d"."UserId" = "PermissionEntries"."UserId" OR "d"."GroupId" = "PermissionEntries"."GroupId")
                      AND "d"."Id" <> "PermissionEntries"."Id");
                """);
            migrationBuilder.Sql("""
                DELETE FROM "PermissionEntries" WHERE EXISTS (
                    SELECT 1 FROM "PermissionEntries" AS "k"
                    WHERE "k"."FolderId" = "PermissionEntries"."FolderId"
                      AND ("k"."UserId" = "PermissionEntries"."UserId" OR "k"."GroupId" = "PermissionEntries"."GroupId")
                      AND ("k"."CreatedAt" < "PermissionEntries"."CreatedAt"
                           OR ("k"."CreatedAt" = "PermissionEntries"."CreatedAt" AND "k"."Id" < "PermissionEntries"."Id")));
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
