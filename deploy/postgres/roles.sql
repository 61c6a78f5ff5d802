-- Run once by the postgres image at the cluster's first start (docker-compose.yml).
-- The services log in as ledger_service, a member of ledger_app only: they may append to the
-- history but neither change it nor lift the triggers that guard it (ARCHITECTURE guarantee 3).
-- Migrations run as the owner, `ledger`, through MIGRATION_DATABASE_URL. Migration 0001 creates
-- ledger_app when it is missing; it is created here first so that the login role can join it.
-- Local password for a local stack: set your own everywhere else.
CREATE ROLE ledger_app NOLOGIN;
CREATE ROLE ledger_service LOGIN PASSWORD 'ledger_service' IN ROLE ledger_app;
