#!/bin/sh
# Run once by the postgres image on an empty data directory (docker-entrypoint-initdb.d): the
# role Grafana's dagrun-postgres datasource logs in with. It may only read: SELECT on every table
# that POSTGRES_USER creates later (the migrations run as that user, after this script), nothing
# else. That includes the event log itself; revoke SELECT on events, streams and attempt_logs if
# the dashboards' readers must not see task parameters and output.
set -eu
psql --set=ON_ERROR_STOP=1 --username="$POSTGRES_USER" --dbname="$POSTGRES_DB" \
  --set=reader="$DAGRUN_GRAFANA_PG_USER" \
  --set=reader_password="$DAGRUN_GRAFANA_PG_PASSWORD" \
  --set=owner="$POSTGRES_USER" \
  --set=db="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"reader" LOGIN PASSWORD :'reader_password';
GRANT CONNECT ON DATABASE :"db" TO :"reader";
GRANT USAGE ON SCHEMA public TO :"reader";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT ON TABLES TO :"reader";
SQL
