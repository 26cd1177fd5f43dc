/**
 * kysely's view of the read-model tables (migrations/0003_read_models.sql, altered by 0005 and
 * 0009) and of the one worker-written table the queries join (attempt_logs, 0002).
 *
 * Column types say what comes back (`pg` parses timestamptz to Date, jsonb to JSON, bigint to a
 * decimal string) and what goes in: timestamps as ISO strings, jsonb as a JSON text — `pg` would
 * otherwise send a JS array as a Postgres array literal, which jsonb rejects.
 */
import type { ColumnType, Generated } from 'kysely';
import type { Failure } from '../events/schemas/metadata.js';
import type { RunStatus, TaskStatus } from '../scheduler/core/state.js';

/** A timestamptz column: a Date out, an ISO string (or Date) in. */
export type Timestamp = ColumnType<Date, string | Date, string | Date>;
/** A nullable timestamptz column. */
export type NullableTimestamp = ColumnType<Date | null, string | Date | null, string | Date | null>;
/** A jsonb column holding `T`: parsed JSON out, JSON text in. */
export type Json<T> = ColumnType<T, string, string>;

export type AttemptStatus = 'running' | 'succeeded' | 'failed' | 'abandoned' | 'released';
export type DlqStatus = 'open' | 'retried' | 'discarded';
export type WorkerStatus = 'active' | 'left' | 'lost';

export interface ProjectionCheckpointsTable {
  name: string;
  position: string;
  events_applied: ColumnType<string, number | string | undefined, number | string>;
  updated_at: Generated<Date>;
}

export interface DagsTable {
  id: string;
  latest_version: number | null;
  description: string | null;
  paused: Generated<boolean>;
  paused_reason: string | null;
  deleted: Generated<boolean>;
  deleted_at: NullableTimestamp;
  registered_at: Timestamp;
  updated_at: Timestamp;
  /** Revision of the last `dag-<id>` event applied (0005); null before it was first set. */
  stream_revision: number | null;
}

export interface DagVersionsTable {
  dag_id: string;
  version: number;
  spec_hash: string;
  spec: Json<unknown>;
  task_ids: string[];
  published_at: Timestamp;
}

export interface RunsTable {
  id: string;
  dag_id: string;
  dag_version: number;
  status: RunStatus;
  params: Json<Record<string, string | number | boolean>>;
  idempotency_key: string | null;
  correlation_id: string;
  cancel_requested: Generated<boolean>;
  cancel_reason: string | null;
  requested_at: Timestamp;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  updated_at: Timestamp;
  tasks_total: number;
  tasks_pending: Generated<number>;
  tasks_active: Generated<number>;
  tasks_succeeded: Generated<number>;
  tasks_failed: Generated<number>;
  tasks_skipped: Generated<number>;
  tasks_cancelled: Generated<number>;
  /** Revision of the last `run-<id>` event applied (0005); null before it was first set. */
  stream_revision: number | null;
}

export interface TaskInstancesTable {
  run_id: string;
  task_id: string;
  position: number;
  status: TaskStatus;
  attempt: Generated<number>;
  queued_at: NullableTimestamp;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  retry_at: NullableTimestamp;
  worker_id: string | null;
  last_error: Json<Failure | null> | null;
  skip_reason: string | null;
}

export interface AttemptsTable {
  run_id: string;
  task_id: string;
  attempt: number;
  worker_id: string | null;
  status: AttemptStatus;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  duration_ms: number | null;
  exit_code: number | null;
  http_status: number | null;
  failure: Json<Failure | null> | null;
  output: Json<unknown> | null;
  /** bigint: a decimal string out. */
  abandoned_by_term: ColumnType<string | null, number | null, number | null>;
}

export interface DlqItemsTable {
  id: string;
  run_id: string;
  dag_id: string;
  task_id: string;
  attempt: number;
  failure: Json<Failure>;
  status: DlqStatus;
  dead_lettered_at: Timestamp;
  closed_at: NullableTimestamp;
}

export interface WorkersTable {
  id: string;
  status: WorkerStatus;
  info: Json<unknown> | null;
  joined_at: NullableTimestamp;
  left_at: NullableTimestamp;
  lost_at: NullableTimestamp;
  first_seen_at: Timestamp;
  last_seen_at: Timestamp;
  attempts_started: Generated<number>;
  attempts_succeeded: Generated<number>;
  attempts_failed: Generated<number>;
  attempts_abandoned: Generated<number>;
}

/** Written by workers beside the log (0002); read-only here. */
export interface AttemptLogsTable {
  run_id: string;
  task_id: string;
  attempt: number;
  stream: 'stdout' | 'stderr';
  head: string;
  tail: string;
  total_bytes: string;
  truncated: boolean;
  written_at: Date;
}

/** Every table the projections module reads or writes. */
export interface ReadModelDatabase {
  projection_checkpoints: ProjectionCheckpointsTable;
  dags: DagsTable;
  dag_versions: DagVersionsTable;
  runs: RunsTable;
  task_instances: TaskInstancesTable;
  attempts: AttemptsTable;
  dlq_items: DlqItemsTable;
  workers: WorkersTable;
  attempt_logs: AttemptLogsTable;
}

/** The tables a replay empties and rebuilds (attempt_logs is not derived from events). */
export const READ_MODEL_TABLES = [
  'dags',
  'dag_versions',
  'runs',
  'task_instances',
  'attempts',
  'dlq_items',
  'workers',
] as const satisfies readonly (keyof ReadModelDatabase)[];
