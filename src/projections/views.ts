/**
 * What the queries return: plain JSON-able objects (ISO timestamps, camelCase, no Dates or
 * bigints), ready for the REST API to send as they are.
 */
import type { Selectable } from 'kysely';
import type { Failure } from '../events/schemas/metadata.js';
import type { RunStatus, TaskStatus } from '../scheduler/core/state.js';
import type {
  AttemptStatus,
  AttemptsTable,
  DagsTable,
  DagVersionsTable,
  DlqItemsTable,
  DlqStatus,
  RunsTable,
  TaskInstancesTable,
} from './schema.js';

/** A view and the revision of the stream it reflects (null: not recorded yet; see 0005). */
export interface Versioned<T> {
  readonly view: T;
  readonly revision: number | null;
}

/** One page of a list, and the cursor of the next one (null on the last page). */
export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export interface DagSummary {
  readonly id: string;
  readonly latestVersion: number | null;
  readonly description: string | null;
  readonly paused: boolean;
  readonly pausedReason: string | null;
  readonly deleted: boolean;
  readonly registeredAt: string;
  readonly updatedAt: string;
  readonly deletedAt: string | null;
}

export interface DagVersionView {
  readonly version: number;
  readonly specHash: string;
  readonly publishedAt: string;
  /** Task ids in topological order. */
  readonly taskIds: string[];
}

export interface DagDetail extends DagSummary {
  /** Newest first. */
  readonly versions: DagVersionView[];
  /** The normalized spec of the latest version. */
  readonly spec: unknown;
}

export interface TaskCounts {
  readonly total: number;
  readonly pending: number;
  /** queued, running or waiting for a retry */
  readonly active: number;
  readonly succeeded: number;
  /** dead-lettered or upstream-failed */
  readonly failed: number;
  readonly skipped: number;
  readonly cancelled: number;
}

export interface RunSummary {
  readonly id: string;
  readonly dagId: string;
  readonly dagVersion: number;
  readonly status: RunStatus;
  readonly params: Record<string, string | number | boolean>;
  readonly idempotencyKey: string | null;
  readonly correlationId: string;
  readonly cancelRequested: boolean;
  readonly cancelReason: string | null;
  readonly requestedAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly updatedAt: string;
  readonly tasks: TaskCounts;
}

export interface TaskInstanceView {
  readonly taskId: string;
  readonly status: TaskStatus;
  /** The latest attempt queued; 0 before the first. */
  readonly attempt: number;
  readonly queuedAt: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly retryAt: string | null;
  readonly workerId: string | null;
  readonly lastError: Failure | null;
  readonly skipReason: string | null;
}

export interface RunDetail extends RunSummary {
  /** In the DAG version's topological order. */
  readonly taskInstances: TaskInstanceView[];
}

/** A captured stream of an attempt: its first and last 64 KiB and its full size. */
export interface AttemptLogView {
  readonly head: string;
  readonly tail: string;
  readonly totalBytes: number;
  readonly truncated: boolean;
}

export interface AttemptView {
  readonly runId: string;
  readonly taskId: string;
  readonly attempt: number;
  readonly workerId: string | null;
  readonly status: AttemptStatus;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly exitCode: number | null;
  readonly httpStatus: number | null;
  readonly failure: Failure | null;
  readonly output: unknown;
  readonly abandonedByTerm: number | null;
  /** null when the worker stored no logs (e.g. an HTTP task, or a worker that died first). */
  readonly logs: { readonly stdout: AttemptLogView | null; readonly stderr: AttemptLogView | null };
}

export interface DlqItemView {
  readonly id: string;
  readonly runId: string;
  readonly dagId: string;
  readonly taskId: string;
  readonly attempt: number;
  readonly failure: Failure;
  readonly status: DlqStatus;
  readonly deadLetteredAt: string;
  readonly closedAt: string | null;
}

/** A timestamp as ISO-8601 UTC (null stays null). */
export function iso(date: Date): string;
export function iso(date: Date | null): string | null;
export function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

/** A `dags` row as the API shows it. */
export function toDagSummary(row: Selectable<DagsTable>): DagSummary {
  return {
    id: row.id,
    latestVersion: row.latest_version,
    description: row.description,
    paused: row.paused,
    pausedReason: row.paused_reason,
    deleted: row.deleted,
    registeredAt: iso(row.registered_at),
    updatedAt: iso(row.updated_at),
    deletedAt: iso(row.deleted_at),
  };
}

/** A `dag_versions` row, without its spec. */
export function toDagVersion(row: Omit<Selectable<DagVersionsTable>, 'spec' | 'dag_id'>): DagVersionView {
  return {
    version: row.version,
    specHash: row.spec_hash,
    publishedAt: iso(row.published_at),
    taskIds: row.task_ids,
  };
}

/** A `runs` row as the API shows it. */
export function toRunSummary(row: Selectable<RunsTable>): RunSummary {
  return {
    id: row.id,
    dagId: row.dag_id,
    dagVersion: row.dag_version,
    status: row.status,
    params: row.params,
    idempotencyKey: row.idempotency_key,
    correlationId: row.correlation_id,
    cancelRequested: row.cancel_requested,
    cancelReason: row.cancel_reason,
    requestedAt: iso(row.requested_at),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    updatedAt: iso(row.updated_at),
    tasks: {
      total: row.tasks_total,
      pending: row.tasks_pending,
      active: row.tasks_active,
      succeeded: row.tasks_succeeded,
      failed: row.tasks_failed,
      skipped: row.tasks_skipped,
      cancelled: row.tasks_cancelled,
    },
  };
}

/** A `task_instances` row as the API shows it. */
export function toTaskInstance(row: Selectable<TaskInstancesTable>): TaskInstanceView {
  return {
    taskId: row.task_id,
    status: row.status,
    attempt: row.attempt,
    queuedAt: iso(row.queued_at),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    retryAt: iso(row.retry_at),
    workerId: row.worker_id,
    lastError: row.last_error ?? null,
    skipReason: row.skip_reason,
  };
}

/** An `attempts` row with its captured logs. */
export function toAttempt(row: Selectable<AttemptsTable>, logs: AttemptView['logs']): AttemptView {
  return {
    runId: row.run_id,
    taskId: row.task_id,
    attempt: row.attempt,
    workerId: row.worker_id,
    status: row.status,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    durationMs: row.duration_ms,
    exitCode: row.exit_code,
    httpStatus: row.http_status,
    failure: row.failure ?? null,
    output: row.output ?? null,
    abandonedByTerm: row.abandoned_by_term === null ? null : Number(row.abandoned_by_term),
    logs,
  };
}

/** A `dlq_items` row as the API shows it. */
export function toDlqItem(row: Selectable<DlqItemsTable>): DlqItemView {
  return {
    id: row.id,
    runId: row.run_id,
    dagId: row.dag_id,
    taskId: row.task_id,
    attempt: row.attempt,
    failure: row.failure,
    status: row.status,
    deadLetteredAt: iso(row.dead_lettered_at),
    closedAt: iso(row.closed_at),
  };
}
