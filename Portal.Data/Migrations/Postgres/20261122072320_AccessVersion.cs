using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AccessVersion : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AccessVersion",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false),
                    Version = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AccessVersion", x => x.Id);
                });

            migrationBuilder.InsertData(
                table: "AccessVersion",
                columns: new[] { "Id", "Version" },
                values: new object[] { 1, 0L });

            // What decides a download (documents, folders, permission entries, group memberships) raises the access
            // version once per transaction that changes it. Deferred to commit, so the one row's lock is the last any
            // transaction takes: two changes never wait on each other in a cycle through it.
            migrationBuilder.Sql("""
                CREATE FUNCTION portal_access_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF current_setting('portal.access_changed', true) IS DISTINCT FROM 'on' THEN
                        PERFORM set_config('portal.access_changed', 'on', true);
                        UPDATE "AccessVersion" SET "Version" = "Version" + 1 WHERE "Id" = 1;
                    END IF;
                    RETURN NULL;
                END $$;
                """);
            foreach (var table in new[] { "Documents", "Folders", "PermissionEntries", "GroupMemberships" })
            {
                migrationBuilder.Sql($"CREATE CONSTRAINT TRIGGER \"{table}_AccessChanged\" AFTER INSERT OR UPDATE OR DELETE ON \"{table}\" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION portal_access_changed();");
                // TRUNCATE fires no row triggers; it locks the whole table anyway, so raising the version at once is fine.
                migrationBuilder.Sql($"CREATE TRIGGER \"{table}_AccessTruncated\" AFTER TRUNCATE ON \"{table}\" FOR EACH STATEMENT EXECUTE FUNCTION portal_access_changed();");
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var table in new[] { "Documents", "Folders", "PermissionEntries", "GroupMemberships" })
            {
                migrationBuilder.Sql($"DROP TRIGGER \"{table}_AccessTruncated\" ON \"{table}\";");
                migrationBuilder.Sql($"DROP TRIGGER \"{table}_AccessChanged\" ON \"{table}\";");
            }
            migrationBuilder.Sql("DROP FUNCTION portal_access_changed();");

            migrationBuilder.DropTable(
                name: "AccessVersion");
        }
    }
}
