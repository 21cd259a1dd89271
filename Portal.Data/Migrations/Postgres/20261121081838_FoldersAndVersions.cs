using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class FoldersAndVersions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "DeletedAt",
                table: "Folders",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "DeletedByUserId",
                table: "Folders",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "DeletionId",
                table: "Folders",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "CurrentVersion",
                table: "Documents",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "DeletedAt",
                table: "Documents",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "DeletedByUserId",
                table: "Documents",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "DeletionId",
                table: "Documents",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "SortName",
                table: "Documents",
                type: "character varying(255)",
                maxLength: 255,
                nullable: false,
                defaultValue: "");

            // Rows from before: lowercase is close enough to the app's fold (a rename rewrites the key).
            migrationBuilder.Sql("UPDATE \"Documents\" SET \"SortName\" = LOWER(\"DisplayName\")");

            migrationBuilder.CreateTable(
                name: "DocumentVersions",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    DocumentId = table.Column<Guid>(type: "uuid", nullable: false),
                    Number = table.Column<int>(type: "integer", nullable: false),
                    ContentHash = table.Column<string>(type: "character(64)", unicode: false, fixedLength: true, maxLength: 64, nullable: false),
                    Size = table.Column<long>(type: "bigint", nullable: false),
                    ContentType = table.Column<string>(type: "character varying(127)", unicode: false, maxLength: 127, nullable: false),
                    UploadedByUserId = table.Column<Guid>(type: "uuid", nullable: true),
                    UploadedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DocumentVersions", x => x.Id);
                    table.ForeignKey(
                        name: "FK_DocumentVersions_Documents_DocumentId",
                        column: x => x.DocumentId,
                        principalTable: "Documents",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_DocumentVersions_Users_UploadedByUserId",
                        column: x => x.UploadedByUserId,
                        principalTable: "Users",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Folders_DeletionId",
                table: "Folders",
                column: "DeletionId");

            migrationBuilder.CreateIndex(
                name: "IX_Documents_DeletionId",
                table: "Documents",
                column: "DeletionId");

            migrationBuilder.CreateIndex(
                name: "IX_Documents_FolderId_Size_Id",
                table: "Documents",
                columns: new[] { "FolderId", "Size", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_Documents_FolderId_SortName_Id",
                table: "Documents",
                columns: new[] { "FolderId", "SortName", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_Documents_FolderId_UpdatedAt_Id",
                table: "Documents",
                columns: new[] { "FolderId", "UpdatedAt", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_DocumentVersions_ContentHash",
                table: "DocumentVersions",
                column: "ContentHash");

            migrationBuilder.CreateIndex(
                name: "IX_DocumentVersions_DocumentId_Number",
                table: "DocumentVersions",
                columns: new[] { "DocumentId", "Number" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_DocumentVersions_UploadedByUserId",
                table: "DocumentVersions",
                column: "UploadedByUserId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "DocumentVersions");

            migrationBuilder.DropIndex(
                name: "IX_Folders_DeletionId",
                table: "Folders");

            migrationBuilder.DropIndex(
                name: "IX_Documents_DeletionId",
                table: "Documents");

            migrationBuilder.DropIndex(
                name: "IX_Documents_FolderId_Size_Id",
                table: "Documents");

            migrationBuilder.DropIndex(
                name: "IX_Documents_FolderId_SortName_Id",
                table: "Documents");

            migrationBuilder.DropIndex(
                name: "IX_Documents_FolderId_UpdatedAt_Id",
                table: "Documents");

            migrationBuilder.DropColumn(
                name: "DeletedAt",
                table: "Folders");

            migrationBuilder.DropColumn(
                name: "DeletedByUserId",
                table: "Folders");

            migrationBuilder.DropColumn(
                name: "DeletionId",
                table: "Folders");

            migrationBuilder.DropColumn(
                name: "CurrentVersion",
                table: "Documents");

            migrationBuilder.DropColumn(
                name: "DeletedAt",
                table: "Documents");

            migrationBuilder.DropColumn(
                name: "DeletedByUserId",
                table: "Documents");

            migrationBuilder.DropColumn(
                name: "DeletionId",
                table: "Documents");

            migrationBuilder.DropColumn(
                name: "SortName",
                table: "Documents");
        }
    }
}
