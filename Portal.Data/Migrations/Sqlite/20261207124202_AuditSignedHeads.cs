using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.Sqlite
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
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    EventId = table.Column<long>(type: "INTEGER", nullable: false),
                    EventHash = table.Column<string>(type: "TEXT", unicode: false, fixedLength: true, maxLength: 64, nullable: false),
                    SignedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    KeyId = table.Column<string>(type: "TEXT", unicode: false, maxLength: 16, nullable: false),
                    Signature = table.Column<string>(type: "TEXT", unicode: false, maxLength: 120, nullable: false)
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
            migrationBuilder.Sql("CREATE TRIGGER \"AuditSignedHeads_NoUpdate\" BEFORE UPDATE ON \"AuditSignedHeads\" BEGIN SELECT RAISE(ABORT, 'AuditSignedHeads is append-only'); END;");
            migrationBuilder.Sql("CREATE TRIGGER \"AuditSignedHeads_NoDelete\" BEFORE DELETE ON \"AuditSignedHeads\" BEGIN SELECT RAISE(ABORT, 'AuditSignedHeads is append-only'); END;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER \"AuditSignedHeads_NoUpdate\";");
            migrationBuilder.Sql("DROP TRIGGER \"AuditSignedHeads_NoDelete\";");
            migrationBuilder.DropTable(
                name: "AuditSignedHeads");
        }
    }
}
