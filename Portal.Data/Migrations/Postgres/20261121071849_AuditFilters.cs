using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.Postgres
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
                    Id = table.Column<long>(type: "bigint", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Cutoff = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastRemovedId = table.Column<long>(type: "bigint", nullable: false),
                    LastRemovedHash = table.Column<string>(type: "character(64)", unicode: false, fixedLength: true, maxLength: 64, nullable: false),
                    RemovedCount = table.Column<long>(type: "bigint", nullable: false),
                    Signature = table.Column<string>(type: "character(64)", unicode: false, fixedLength: true, maxLength: 64, nullable: false)
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
            // which the retention command appends first in the same transaction (see AuditRetention). UPDATE and
            // TRUNCATE stay refused. Checkpoints themselves are append-only.
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION portal_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'DELETE' AND OLD."Id" <= (SELECT COALESCE(MAX("LastRemovedId"), 0) FROM "AuditCheckpoints") THEN
                        RETURN OLD;
                    END IF;
                    RAISE EXCEPTION 'AuditEvents is append-only';
                END $$;
                """);
            migrationBuilder.Sql("""
                CREATE FUNCTION portal_audit_checkpoints_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'AuditCheckpoints is append-only'; END $$;
                """);
            migrationBuilder.Sql("CREATE TRIGGER \"AuditCheckpoints_NoChange\" BEFORE UPDATE OR DELETE ON \"AuditCheckpoints\" FOR EACH ROW EXECUTE FUNCTION portal_audit_checkpoints_append_only();");
            migrationBuilder.Sql("CREATE TRIGGER \"AuditCheckpoints_NoTruncate\" BEFORE TRUNCATE ON \"AuditCheckpoints\" FOR EACH STATEMENT EXECUTE FUNCTION portal_audit_checkpoints_append_only();");

        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER \"AuditCheckpoints_NoTruncate\" ON \"AuditCheckpoints\";");
            migrationBuilder.Sql("DROP TRIGGER \"AuditCheckpoints_NoChange\" ON \"AuditCheckpoints\";");
            migrationBuilder.Sql("DROP FUNCTION portal_audit_checkpoints_append_only();");
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION portal_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'AuditEvents is append-only'; END $$;
                """);

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
