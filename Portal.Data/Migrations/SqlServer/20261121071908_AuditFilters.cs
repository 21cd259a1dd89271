using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.SqlServer
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
                    CreatedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    Cutoff = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    LastRemovedId = table.Column<long>(type: "bigint", nullable: false),
                    LastRemovedHash = table.Column<string>(type: "char(64)", unicode: false, fixedLength: true, maxLength: 64, nullable: false),
                    RemovedCount = table.Column<long>(type: "bigint", nullable: false),
                    Signature = table.Column<string>(type: "char(64)", unicode: false, fixedLength: true, maxLength: 64, nullable: false)
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
            // refused. An INSTEAD OF trigger does not fire again for its own DELETE on the same table.
            migrationBuilder.Sql("DROP TRIGGER [AuditEvents_NoChange];");
            migrationBuilder.Sql("""
                CREATE TRIGGER [AuditEvents_NoUpdate] ON [AuditEvents] INSTEAD OF UPDATE AS
                BEGIN
                    THROW 50001, 'AuditEvents is append-only', 1;
                END
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER [AuditEvents_NoDelete] ON [AuditEvents] INSTEAD OF DELETE AS
                BEGIN
                    IF EXISTS (SELECT 1 FROM deleted WHERE [Id] > (SELECT COALESCE(MAX([LastRemovedId]), 0) FROM [AuditCheckpoints]))
                        THROW 50001, 'AuditEvents is append-only', 1;
                    DELETE FROM [AuditEvents] WHERE [Id] IN (SELECT [Id] FROM deleted);
                END
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER [AuditCheckpoints_NoChange] ON [AuditCheckpoints] INSTEAD OF UPDATE, DELETE AS
                BEGIN
                    THROW 50001, 'AuditCheckpoints is append-only', 1;
                END
                """);

        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER [AuditCheckpoints_NoChange];");
            migrationBuilder.Sql("DROP TRIGGER [AuditEvents_NoDelete];");
            migrationBuilder.Sql("DROP TRIGGER [AuditEvents_NoUpdate];");
            migrationBuilder.Sql("""
                CREATE TRIGGER [AuditEvents_NoChange] ON [AuditEvents] INSTEAD OF UPDATE, DELETE AS
                BEGIN
                    THROW 50001, 'AuditEvents is append-only', 1;
                END
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
