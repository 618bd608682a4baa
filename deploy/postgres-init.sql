-- The compose stack's database, laid out as production runs it (README,
-- "Real mode"): wanjia_owner owns the database and its tables and runs the
-- migrations; wanjia_app, the role of api, worker and scheduler, owns
-- nothing, has only row privileges, and is bound by row-level security.
--
-- The postgres image runs this once, as its superuser, when it creates an
-- empty data directory (docker-compose.yml mounts it into
-- /docker-entrypoint-initdb.d). The passwords are throwaway local values that
-- match wanjia.env.example and migrate.env.example; the database is not
-- published on the host.
CREATE ROLE wanjia_owner LOGIN PASSWORD 'wanjia_owner';
CREATE ROLE wanjia_app LOGIN PASSWORD 'wanjia_app' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
CREATE DATABASE wanjia OWNER wanjia_owner;
\connect wanjia
-- PostgreSQL 15+: the public schema belongs to the database owner, so
-- wanjia_owner may create in it; wanjia_app may only use it.
GRANT USAGE ON SCHEMA public TO wanjia_app;
ALTER DEFAULT PRIVILEGES FOR ROLE wanjia_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO wanjia_app;
