using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Portal.Data.Migrations.Postgres
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
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    EventId = table.Column<long>(type: "bigint", nullable: false),
                    EventHash = table.Column<string>(type: "character(64)", unicode: false, fixedLength: true, maxLength: 64, nullable: false),
                    SignedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    KeyId = table.Column<string>(type: "character varying(16)", unicode: false, maxLength: 16, nullable: false),
                    Signature = table.Column<string>(type: "character varying(120)", unicode: false, maxLength: 120, nullable: false)
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
                CREATE FUNCTION portal_audit_heads_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'AuditSignedHeads is append-only'; END $$;
                """);
            migrationBuilder.Sql("CREATE TRIGGER \"AuditSignedHeads_NoChange\" BEFORE UPDATE OR DELETE ON \"AuditSignedHeads\" FOR EACH ROW EXECUTE FUNCTION portal_audit_heads_append_only();");
            migrationBuilder.Sql("CREATE TRIGGER \"AuditSignedHeads_NoTruncate\" BEFORE TRUNCATE ON \"AuditSignedHeads\" FOR EACH STATEMENT EXECUTE FUNCTION portal_audit_heads_append_only();");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER \"AuditSignedHeads_NoTruncate\" ON \"AuditSignedHeads\";");
            migrationBuilder.Sql("DROP TRIGGER \"AuditSignedHeads_NoChange\" ON \"AuditSignedHeads\";");
            migrationBuilder.Sql("DROP FUNCTION portal_audit_heads_append_only();");
            migrationBuilder.DropTable(
                name: "AuditSignedHeads");
        }
    }
}
