using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AuditFilters : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AuditCheckpoints",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    Cutoff = table.Column<long>(type: "INTEGER", nullable: false),
                    LastRemovedId = table.Column<long>(type: "INTEGER", nullable: false),
                    LastRemovedHash = table.Column<string>(type: "TEXT", unicode: false, fixedLength: true, maxLength: 64, nullable: false),
                    RemovedCount = table.Column<long>(type: "INTEGER", nullable: false),
                    Signature = table.Column<string>(type: "TEXT", unicode: false, fixedLength: true, maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditCheckpoints", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_Action_Id",
                table: "AuditEvents",
                columns: new[] { "Action", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_ClientIp_Id",
                table: "AuditEvents",
                columns: new[] { "ClientIp", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_FolderId_Id",
                table: "AuditEvents",
                columns: new[] { "FolderId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_Outcome_Id",
                table: "AuditEvents",
                columns: new[] { "Outcome", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditCheckpoints_LastRemovedId",
                table: "AuditCheckpoints",
                column: "LastRemovedId",
                unique: true);
            // Retention is the only removal: a DELETE is allowed only for events up to the highest signed checkpoint,
            // which the retention command appends first in the same transaction (see AuditRetention). UPDATE stays
            // refused. Checkpoints themselves are append-only.
            migrationBuilder.Sql("DROP TRIGGER \"AuditEvents_NoDelete\";");
            migrationBuilder.Sql("""
                CREATE TRIGGER "AuditEvents_NoDelete" BEFORE DELETE ON "AuditEvents"
                WHEN OLD."Id" > (SELECT COALESCE(MAX("LastRemovedId"), 0) FROM "AuditCheckpoints")
                BEGIN SELECT RAISE(ABORT, 'AuditEvents is append-only'); END;
                """);
            migrationBuilder.Sql("CREATE TRIGGER \"AuditCheckpoints_NoUpdate\" BEFORE UPDATE ON \"AuditCheckpoints\" BEGIN SELECT RAISE(ABORT, 'AuditCheckpoints is append-only'); END;");
            migrationBuilder.Sql("CREATE TRIGGER \"AuditCheckpoints_NoDelete\" BEFORE DELETE ON \"AuditCheckpoints\" BEGIN SELECT RAISE(ABORT, 'AuditCheckpoints is append-only'); END;");

        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER \"AuditCheckpoints_NoUpdate\";");
            migrationBuilder.Sql("DROP TRIGGER \"AuditCheckpoints_NoDelete\";");
            migrationBuilder.Sql("DROP TRIGGER \"AuditEvents_NoDelete\";");
            migrationBuilder.Sql("CREATE TRIGGER \"AuditEvents_NoDelete\" BEFORE DELETE ON \"AuditEvents\" BEGIN SELECT RAISE(ABORT, 'AuditEvents is append-only'); END;");

            migrationBuilder.DropTable(
                name: "AuditCheckpoints");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_Action_Id",
                table: "AuditEvents");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_ClientIp_Id",
                table: "AuditEvents");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_FolderId_Id",
                table: "AuditEvents");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_Outcome_Id",
                table: "AuditEvents");
        }
    }
}
