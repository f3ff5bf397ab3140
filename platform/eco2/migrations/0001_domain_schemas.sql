-- One schema per domain (docs/architecture.md, "Database schemas"). Each domain's own migrations
-- add its tables; the schemas exist from the start so that a function's
-- queries never depend on which other domain migrated first.
CREATE SCHEMA IF NOT EXISTS auth;
CREATE SCHEMA IF NOT EXISTS my;
CREATE SCHEMA IF NOT EXISTS scan;
CREATE SCHEMA IF NOT EXISTS character;
CREATE SCHEMA IF NOT EXISTS location;
CREATE SCHEMA IF NOT EXISTS info;
CREATE SCHEMA IF NOT EXISTS chat;
