#!/bin/sh
# Runs once, when the postgres container initialises its data folder (docker-entrypoint-initdb.d).
# portal_owner owns the database and the public schema: it runs the migrations (Database:MigrationConnectionString).
# portal_app may only read and write rows (Database:ConnectionString): not being the owner, it cannot ALTER a table,
# DROP or disable a trigger, or TRUNCATE; the app grants it row access on each table after migrating.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE portal_owner LOGIN PASSWORD '${PORTAL_DB_OWNER_PASSWORD}';
CREATE ROLE portal_app LOGIN PASSWORD '${PORTAL_DB_APP_PASSWORD}';
CREATE DATABASE portal OWNER portal_owner;
SQL
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname portal <<SQL
ALTER SCHEMA public OWNER TO portal_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
