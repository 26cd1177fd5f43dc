-- The revision of its stream each DAG and run row reflects (the revision of the last event of
-- `dag-<id>` / `run-<id>` the projector applied). The REST API sends it as the ETag of
-- GET /api/v1/dags/{id} and GET /api/v1/runs/{id}, and an If-Match on a write is compared with
-- the stream's revision in the log: a client that decided on a stale view gets 412.
--
-- NULL for rows projected before this migration, until their stream's next event or a
-- `dagrun replay`; the API then sends no ETag (If-Match is still checked against the log).
ALTER TABLE dags ADD COLUMN stream_revision integer;
ALTER TABLE runs ADD COLUMN stream_revision integer;
