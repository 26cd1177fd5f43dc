-- Captured stdout and stderr of each attempt: the first and last 64 KiB of each stream and how
-- many bytes were written in all. Logs are not decisions, so they live beside the event log
-- rather than in it; a worker writes the row before it appends the attempt's outcome, so a
-- finished attempt always has its logs.
CREATE TABLE attempt_logs (
  run_id text NOT NULL,
  task_id text NOT NULL,
  attempt integer NOT NULL CHECK (attempt > 0),
  stream text NOT NULL CHECK (stream IN ('stdout', 'stderr')),
  head text NOT NULL,
  tail text NOT NULL,
  total_bytes bigint NOT NULL,
  truncated boolean NOT NULL,
  written_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, task_id, attempt, stream)
);
