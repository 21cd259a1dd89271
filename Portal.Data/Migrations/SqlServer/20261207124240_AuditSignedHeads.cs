using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.SqlServer
{
    /// <inheritdoc />
    public partial class AuditSignedHeads : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AuditSignedHeads",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    EventId = table.Column<long>(type: "bigint", nullable: false),
                    EventHash = table.Column<string>(type: "char(64)", unicode: false, fixedLength: true, maxLength: 64, nullable: false),
                    SignedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    KeyId = table.Column<string>(type: "varchar(16)", unicode: false, maxLength: 16, nullable: false),
                    Signature = table.Column<string>(type: "varchar(120)", unicode: false, maxLength: 120, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditSignedHeads", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AuditSignedHeads_EventId",
                table: "AuditSignedHeads",
                column: "EventId");
            // Append-only like the events and checkpoints (the signatures are what matters; this keeps honest code honest).
            migrationBuilder.Sql("""
                CREATE TRIGGER [AuditSignedHeads_NoChange] ON [AuditSignedHeads] INSTEAD OF UPDATE, DELETE AS
                BEGIN
                    THROW 50001, 'AuditSignedHeads is append-only', 1;
                END
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER [AuditSignedHeads_NoChange];");
            migrationBuilder.DropTable(
                name: "AuditSignedHeads");
        }
    }
}
