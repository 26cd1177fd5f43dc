-- Read models: tables derived from the event log by the projector (src/projections). They are
-- disposable: `dagrun replay` truncates them and projects the whole log again, and must arrive at
-- the same rows. Nothing but the projector writes them.
--
-- No foreign keys on purpose: every row is derived from events, the projector writes in log
-- order, and a constraint could only turn a surprising event into a stuck projection. Row
-- integrity is the projector's job and the replay test's to check.

-- Where each projection has got to, written in the same transaction as the rows it describes
-- (DESIGN.md invariant 5). `events_applied` is a plain running count: it would show a batch that
-- was ever applied twice.
CREATE TABLE projection_checkpoints (
  name text PRIMARY KEY,
  position text NOT NULL,
  events_applied bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dags (
  id text PRIMARY KEY,
  -- NULL only between DagRegistered and its DagVersionPublished (the same append).
  latest_version integer,
  description text,
  paused boolean NOT NULL DEFAULT false,
  paused_reason text,
  deleted boolean NOT NULL DEFAULT false,
  deleted_at timestamptz,
  registered_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE dag_versions (
  dag_id text NOT NULL,
  version integer NOT NULL,
  spec_hash text NOT NULL,
  spec jsonb NOT NULL,
  -- The spec's topological order: a run's task instances are created from it.
  task_ids text[] NOT NULL,
  published_at timestamptz NOT NULL,
  PRIMARY KEY (dag_id, version)
);

CREATE TABLE runs (
  id text PRIMARY KEY,
  dag_id text NOT NULL,
  dag_version integer NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  params jsonb NOT NULL,
  idempotency_key text,
  correlation_id text NOT NULL,
  cancel_requested boolean NOT NULL DEFAULT false,
  cancel_reason text,
  requested_at timestamptz NOT NULL,
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL,
  -- Task counts by outcome, recounted from task_instances at the end of each batch that touched
  -- the run. failed = dead_lettered + upstream_failed; active = queued + running + retry_wait.
  tasks_total integer NOT NULL,
  tasks_pending integer NOT NULL DEFAULT 0,
  tasks_active integer NOT NULL DEFAULT 0,
  tasks_succeeded integer NOT NULL DEFAULT 0,
  tasks_failed integer NOT NULL DEFAULT 0,
  tasks_skipped integer NOT NULL DEFAULT 0,
  tasks_cancelled integer NOT NULL DEFAULT 0
);

-- The API lists runs newest first, optionally by DAG or by status, with keyset pagination on
-- (requested_at, id); each index serves one of those orders without a sort.
CREATE INDEX runs_by_requested ON runs (requested_at DESC, id DESC);
CREATE INDEX runs_by_dag ON runs (dag_id, requested_at DESC, id DESC);
CREATE INDEX runs_by_status ON runs (status, requested_at DESC, id DESC);

CREATE TABLE task_instances (
  run_id text NOT NULL,
  task_id text NOT NULL,
  -- Index in the DAG version's topological order: the order the API lists a run's tasks in.
  position integer NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'queued', 'running', 'retry_wait', 'succeeded',
    'dead_lettered', 'upstream_failed', 'skipped', 'cancelled')),
  -- The latest attempt queued; 0 before the first.
  attempt integer NOT NULL DEFAULT 0,
  queued_at timestamptz,
  started_at timestamptz,
  finished_at timestamptz,
  retry_at timestamptz,
  worker_id text,
  last_error jsonb,
  skip_reason text,
  PRIMARY KEY (run_id, task_id)
);

CREATE TABLE attempts (
  run_id text NOT NULL,
  task_id text NOT NULL,
  attempt integer NOT NULL,
  worker_id text,
  status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'abandoned')),
  started_at timestamptz,
  finished_at timestamptz,
  duration_ms double precision,
  exit_code integer,
  http_status integer,
  failure jsonb,
  -- The task's output, or a stub saying how big it was when it is over the projector's bound.
  output jsonb,
  -- Set when the scheduler leader abandoned the attempt: its election term (an etcd revision,
  -- or a clock-derived number in process; either can pass 2^31).
  abandoned_by_term bigint,
  PRIMARY KEY (run_id, task_id, attempt)
);

CREATE TABLE dlq_items (
  -- <runId>:<taskId>:<attempt>
  id text PRIMARY KEY,
  run_id text NOT NULL,
  dag_id text NOT NULL,
  task_id text NOT NULL,
  attempt integer NOT NULL,
  failure jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('open', 'retried', 'discarded')),
  dead_lettered_at timestamptz NOT NULL,
  closed_at timestamptz
);

CREATE INDEX dlq_items_by_time ON dlq_items (dead_lettered_at DESC, id DESC);
CREATE INDEX dlq_items_by_status ON dlq_items (status, dead_lettered_at DESC, id DESC);
-- A DLQ retry (TaskRequeued) names the run and task, not the attempt.
CREATE INDEX dlq_items_open_by_task ON dlq_items (run_id, task_id) WHERE status = 'open';

-- Workers as the log knows them: from their attempts, and from WorkerJoined/Left/Lost events
-- of the `workers` stream once the scheduler appends them.
CREATE TABLE workers (
  id text PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('active', 'left', 'lost')),
  -- The WorkerJoined payload (host, capacity, …), as the event carries it.
  info jsonb,
  joined_at timestamptz,
  left_at timestamptz,
  lost_at timestamptz,
  first_seen_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  attempts_started integer NOT NULL DEFAULT 0,
  attempts_succeeded integer NOT NULL DEFAULT 0,
  attempts_failed integer NOT NULL DEFAULT 0,
  attempts_abandoned integer NOT NULL DEFAULT 0
);
