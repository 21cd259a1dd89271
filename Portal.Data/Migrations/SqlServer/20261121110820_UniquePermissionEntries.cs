using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.SqlServer
{
    /// <inheritdoc />
    public partial class UniquePermissionEntries : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Grants made at the same moment may have left several entries for one folder and principal: merge them
            // before the unique indexes go on. The earliest entry stays, with the union of their rights (SQL Server has
            // no bitwise-OR aggregate: a right is in the union when any of the entries has its bit).
            migrationBuilder.Sql("""
                WITH [bits] AS (SELECT 1 AS [b] UNION ALL SELECT [b] * 2 FROM [bits] WHERE [b] < 1073741824)
                UPDATE [p] SET [Rights] = (
                    SELECT SUM([bits].[b]) FROM [bits] WHERE EXISTS (
                        SELECT 1 FROM [PermissionEntries] AS [d]
                        WHERE [d].[FolderId] = [p].[FolderId]
                          AND ([d].[UserId] = [p].[UserId] OR [d].[GroupId] = [p].[GroupId])
                          AND ([d].[Rights] & [bits].[b]) <> 0))
                FROM [PermissionEntries] AS [p]
                WHERE EXISTS (
                    SELECT 1 FROM [PermissionEntries] AS [d]
                    WHERE [d].[FolderId] = [p].[FolderId]
                      AND ([d].[UserId] = [p].[UserId] OR [d].[GroupId] = [p].[GroupId])
                      AND [d].[Id] <> [p].[Id]);
                """);
            migrationBuilder.Sql("""
                DELETE [p] FROM [PermissionEntries] AS [p] WHERE EXISTS (
                    SELECT 1 FROM [PermissionEntries] AS [k]
                    WHERE [k].[FolderId] = [p].[FolderId]
                      AND ([k].[UserId] = [p].[UserId] OR [k].[GroupId] = [p].[GroupId])
                      AND ([k].[CreatedAt] < [p].[CreatedAt]
                           OR ([k].[CreatedAt] = [p].[CreatedAt] AND [k].[Id] < [p].[Id])));
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
                unique: true,
                filter: "[GroupId] IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_PermissionEntries_FolderId_UserId",
                table: "PermissionEntries",
                columns: new[] { "FolderId", "UserId" },
                unique: true,
                filter: "[UserId] IS NOT NULL");
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
