/**
 * The API's models as tsoa reads them: plain interfaces (tsoa cannot follow `z.infer<>`). They
 * mirror the read-model views (src/projections/views.ts); the type checks in the controllers
 * keep the two in step.
 */

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export type TaskStatus =
  | 'pending'
  | 'queued'
  | 'running'
  | 'retry_wait'
  | 'succeeded'
  | 'dead_lettered'
  | 'upstream_failed'
  | 'skipped'
  | 'cancelled';

/** `released`: claimed ahead of a free slot and handed back unstarted by its worker (not a try). */
export type AttemptStatus = 'running' | 'succeeded' | 'failed' | 'abandoned' | 'released';

export type DlqStatus = 'open' | 'retried' | 'discarded';

/** Stream categories of the log. */
export type EventCategory = 'dag' | 'run' | 'attempt' | 'workers';

export type FailureKind =
  | 'timeout'
  | 'exit_code'
  | 'signal'
  | 'http_status'
  | 'network'
  | 'worker_lost'
  | 'cancelled'
  | 'internal';

/** How a task attempt failed. */
export interface Failure {
  kind: FailureKind;
  message: string;
  exitCode?: number;
  signal?: string;
  httpStatus?: number;
}

/** One page of a list; pass `nextCursor` as `cursor` for the next page (null on the last). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface DagSummary {
  id: string;
  latestVersion: number | null;
  description: string | null;
  paused: boolean;
  pausedReason: string | null;
  deleted: boolean;
  registeredAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

export interface DagVersion {
  version: number;
  specHash: string;
  publishedAt: string;
  /** Task ids in topological order. */
  taskIds: string[];
}

export interface DagDetail extends DagSummary {
  /** Newest first. */
  versions: DagVersion[];
  /** The normalized spec of the latest version. */
  spec: unknown;
}

export interface TaskCounts {
  total: number;
  pending: number;
  active: number;
  succeeded: number;
  failed: number;
  skipped: number;
  cancelled: number;
}

export interface RunSummary {
  id: string;
  dagId: string;
  dagVersion: number;
  status: RunStatus;
  params: Record<string, string | number | boolean>;
  idempotencyKey: string | null;
  correlationId: string;
  cancelRequested: boolean;
  cancelReason: string | null;
  requestedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  tasks: TaskCounts;
}

export interface TaskInstance {
  taskId: string;
  status: TaskStatus;
  /** The latest attempt queued; 0 before the first. */
  attempt: number;
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  retryAt: string | null;
  workerId: string | null;
  lastError: Failure | null;
  skipReason: string | null;
}

export interface RunDetail extends RunSummary {
  /** In the DAG version's topological order. */
  taskInstances: TaskInstance[];
}

/** A run as it was at a point of the log, folded from its events (`?asOf=`). */
export interface RunSnapshot {
  id: string;
  dagId: string;
  dagVersion: number;
  status: RunStatus;
  cancelRequested: boolean;
  /** The `asOf` asked for, as given. */
  asOf: string;
  /** Position of the last event folded. */
  position: string;
  /** createdAt of the last event folded. */
  at: string;
  tasks: TaskSnapshot[];
}

export interface TaskSnapshot {
  taskId: string;
  status: TaskStatus;
  attempt: number;
  workerId: string | null;
  lastError: Failure | null;
}

export interface AttemptLog {
  head: string;
  tail: string;
  totalBytes: number;
  truncated: boolean;
}

export interface Attempt {
  runId: string;
  taskId: string;
  attempt: number;
  workerId: string | null;
  status: AttemptStatus;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  exitCode: number | null;
  httpStatus: number | null;
  failure: Failure | null;
  output: unknown;
  abandonedByTerm: number | null;
  logs: { stdout: AttemptLog | null; stderr: AttemptLog | null };
}

export interface DlqItem {
  /** `<runId>:<taskId>:<attempt>` */
  id: string;
  runId: string;
  dagId: string;
  taskId: string;
  attempt: number;
  failure: Failure;
  status: DlqStatus;
  deadLetteredAt: string;
  closedAt: string | null;
}

/** An event as stored in the log. */
export interface StoredEvent {
  id: string;
  /** Global position: the SSE event id, and `Last-Event-ID` to resume after it. */
  position: string;
  streamName: string;
  revision: number;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  createdAt: string;
}

/** Events in the global order; `lastPosition` is the `after` of the next page (null when empty). */
export interface EventPage {
  items: StoredEvent[];
  lastPosition: string | null;
}

/** POST /dags/{id}/runs body. */
export interface RunRequest {
  /** Run parameters, checked against the DAG's declared params. */
  params?: Record<string, string | number | boolean>;
  /** Same key and params: the same run (200 instead of 201). Also the `Idempotency-Key` header. */
  idempotencyKey?: string;
}

/** A reason for pause or cancel. */
export interface ReasonRequest {
  reason?: string;
}

/**
 * The write was appended, but the read models did not show it within the wait
 * (DAGRUN_API_READ_YOUR_WRITES_MS): follow `Location` a little later.
 */
export interface Accepted {
  id: string;
  /** Global position of the last event appended. */
  position: string;
}

export interface DlqActionResult {
  id: string;
  runId: string;
  taskId: string;
  action: 'retried' | 'discarded';
}

export type ComponentStatus = 'up' | 'down' | 'degraded' | 'absent';

export interface ComponentHealth {
  status: ComponentStatus;
  detail: Record<string, unknown>;
}

export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  components: {
    postgres: ComponentHealth;
    eventStore: ComponentHealth;
    scheduler: ComponentHealth;
    projector: ComponentHealth;
    workers: ComponentHealth;
  };
}

/** RFC 7807 problem details; `code` is stable. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance: string;
  correlationId: string;
  /** For validation problems: every issue, with its path (and line and column for YAML). */
  issues?: ProblemIssue[];
}

export interface ProblemIssue {
  path: string;
  message: string;
  kind: string;
  line?: number;
  column?: number;
}
