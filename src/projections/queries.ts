/**
 * Reads over the read models, for the REST API and the CLI. Lists page with keyset cursors
 * (cursor.ts) along the indexes of 0003_read_models.sql: runs and DLQ items newest first,
 * DAGs by id. Results are plain JSON (views.ts).
 */
import { type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import { ValidationError } from '../errors.js';
import type { RunStatus } from '../scheduler/core/state.js';
import { cursorMicros, decodeCursor, encodeCursor } from './cursor.js';
import type { DlqStatus, ReadModelDatabase } from './schema.js';
import {
  type AttemptLogView,
  type AttemptView,
  type DagDetail,
  type DagSummary,
  type DlqItemView,
  type Page,
  type RunDetail,
  type RunSummary,
  toAttempt,
  toDagSummary,
  toDagVersion,
  toDlqItem,
  toRunSummary,
  toTaskInstance,
  type Versioned,
} from './views.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

const RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const DLQ_STATUSES: readonly DlqStatus[] = ['open', 'retried', 'discarded'];

export interface PageRequest {
  /** From the previous page's `nextCursor`; absent for the first page. */
  readonly cursor?: string | undefined;
  /** 1 to 500; default 50. */
  readonly limit?: number | undefined;
}

export interface ListDagsRequest extends PageRequest {
  readonly paused?: boolean | undefined;
  /** Include deleted DAGs (default false). */
  readonly includeDeleted?: boolean | undefined;
}

export interface ListRunsRequest extends PageRequest {
  readonly dagId?: string | undefined;
  readonly status?: RunStatus | undefined;
}

export interface ListDlqRequest extends PageRequest {
  readonly status?: DlqStatus | undefined;
  readonly runId?: string | undefined;
}

/** Microseconds since the epoch, exactly as stored, for cursors. */
const micros = (column: string) =>
  sql<string>`(extract(epoch FROM ${sql.ref(column)}) * 1000000)::bigint::text`;
const fromMicros = (value: string) =>
  sql`('epoch'::timestamptz + ${value}::bigint * interval '1 microsecond')`;

/** The read-model queries, over a kysely instance (see `createReadModelDb`). */
export class ReadModelQueries {
  constructor(private readonly db: Kysely<ReadModelDatabase>) {}

  /** A DAG with its versions (newest first) and latest spec; undefined when unknown. */
  async getDag(id: string): Promise<DagDetail | undefined> {
    return (await this.getVersionedDag(id))?.view;
  }

  /** `getDag`, and the revision of `dag-<id>` the view reflects (the API's ETag). */
  async getVersionedDag(id: string): Promise<Versioned<DagDetail> | undefined> {
    const dag = await this.db.selectFrom('dags').selectAll().where('id', '=', id).executeTakeFirst();
    if (!dag) return undefined;
    const versions = await this.db
      .selectFrom('dag_versions')
      .select(['version', 'spec_hash', 'published_at', 'task_ids'])
      .where('dag_id', '=', id)
      .orderBy('version', 'desc')
      .execute();
    const latest = await this.db
      .selectFrom('dag_versions')
      .select('spec')
      .where('dag_id', '=', id)
      .where('version', '=', dag.latest_version)
      .executeTakeFirst();
    return {
      view: { ...toDagSummary(dag), versions: versions.map(toDagVersion), spec: latest?.spec ?? null },
      revision: dag.stream_revision,
    };
  }

  /** DAGs by id. */
  async listDags(request: ListDagsRequest = {}): Promise<Page<DagSummary>> {
    const limit = pageSize(request.limit);
    let query = this.db
      .selectFrom('dags')
      .selectAll()
      .orderBy('id')
      .limit(limit + 1);
    if (!request.includeDeleted) query = query.where('deleted', '=', false);
    if (request.paused !== undefined) query = query.where('paused', '=', request.paused);
    if (request.cursor !== undefined) {
      const [id] = decodeCursor('dags', request.cursor, 1) as [string];
      query = query.where('id', '>', id);
    }
    const rows = await query.execute();
    return page(rows, limit, (r) => encodeCursor('dags', [r.id]), toDagSummary);
  }

  /** A run with its task instances (topological order); undefined when unknown. */
  async getRun(id: string): Promise<RunDetail | undefined> {
    return (await this.getVersionedRun(id))?.view;
  }

  /** `getRun`, and the revision of `run-<id>` the view reflects (the API's ETag). */
  async getVersionedRun(id: string): Promise<Versioned<RunDetail> | undefined> {
    const run = await this.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!run) return undefined;
    const tasks = await this.db
      .selectFrom('task_instances')
      .selectAll()
      .where('run_id', '=', id)
      .orderBy('position')
      .execute();
    return {
      view: { ...toRunSummary(run), taskInstances: tasks.map(toTaskInstance) },
      revision: run.stream_revision,
    };
  }

  /** Runs, newest request first, optionally of one DAG and/or in one status. */
  async listRuns(request: ListRunsRequest = {}): Promise<Page<RunSummary>> {
    const limit = pageSize(request.limit);
    let query = this.db
      .selectFrom('runs')
      .selectAll()
      .select(micros('requested_at').as('sort_key'))
      .orderBy('requested_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1);
    if (request.dagId !== undefined) query = query.where('dag_id', '=', request.dagId);
    if (request.status !== undefined)
      query = query.where('status', '=', oneOf('status', request.status, RUN_STATUSES));
    if (request.cursor !== undefined) query = after(query, 'runs', 'requested_at', request.cursor);
    const rows = await query.execute();
    return page(rows, limit, (r) => encodeCursor('runs', [r.sort_key, r.id]), toRunSummary);
  }

  /** Every attempt of a task, first to last, with its captured logs. */
  async getTaskAttempts(runId: string, taskId: string): Promise<AttemptView[]> {
    const [attempts, logs] = await Promise.all([
      this.db
        .selectFrom('attempts')
        .selectAll()
        .where('run_id', '=', runId)
        .where('task_id', '=', taskId)
        .orderBy('attempt')
        .execute(),
      this.db
        .selectFrom('attempt_logs')
        .select(['attempt', 'stream', 'head', 'tail', 'total_bytes', 'truncated'])
        .where('run_id', '=', runId)
        .where('task_id', '=', taskId)
        .execute(),
    ]);
    const logOf = (attempt: number, stream: 'stdout' | 'stderr'): AttemptLogView | null => {
      const row = logs.find((l) => l.attempt === attempt && l.stream === stream);
      return row
        ? { head: row.head, tail: row.tail, totalBytes: Number(row.total_bytes), truncated: row.truncated }
        : null;
    };
    return attempts.map((row) =>
      toAttempt(row, { stdout: logOf(row.attempt, 'stdout'), stderr: logOf(row.attempt, 'stderr') }),
    );
  }

  /** DLQ items, newest first, optionally in one status and/or of one run. */
  async listDlq(request: ListDlqRequest = {}): Promise<Page<DlqItemView>> {
    const limit = pageSize(request.limit);
    let query = this.db
      .selectFrom('dlq_items')
      .selectAll()
      .select(micros('dead_lettered_at').as('sort_key'))
      .orderBy('dead_lettered_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1);
    if (request.status !== undefined)
      query = query.where('status', '=', oneOf('status', request.status, DLQ_STATUSES));
    if (request.runId !== undefined) query = query.where('run_id', '=', request.runId);
    if (request.cursor !== undefined) query = after(query, 'dlq', 'dead_lettered_at', request.cursor);
    const rows = await query.execute();
    return page(rows, limit, (r) => encodeCursor('dlq', [r.sort_key, r.id]), toDlqItem);
  }

  /**
   * Tasks queued and not yet started (claimed) in runs that are not finished: the scheduler's
   * backlog as the read models show it. Walks the unfinished runs (by their status index) and
   * their tasks, not the whole history.
   */
  async countQueuedTasks(): Promise<number> {
    const row = await this.db
      .selectFrom('runs as r')
      .innerJoin('task_instances as t', 't.run_id', 'r.id')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('r.status', 'in', ['queued', 'running'])
      .where('t.status', '=', 'queued')
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Workers by status, as the `workers` stream (and their attempts) show them. */
  async countWorkers(): Promise<Record<'active' | 'left' | 'lost', number>> {
    const rows = await this.db
      .selectFrom('workers')
      .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
      .groupBy('status')
      .execute();
    const counts = { active: 0, left: 0, lost: 0 };
    for (const row of rows) counts[row.status] = Number(row.n);
    return counts;
  }

  /** One DLQ item by id (`<runId>:<taskId>:<attempt>`); undefined when unknown. */
  async getDlqItem(id: string): Promise<DlqItemView | undefined> {
    return (await this.getVersionedDlqItem(id))?.view;
  }

  /**
   * `getDlqItem`, and the revision of its run's stream as the read model shows it (the API's
   * ETag of the item: retrying or discarding it is a command on the run stream).
   */
  async getVersionedDlqItem(id: string): Promise<Versioned<DlqItemView> | undefined> {
    const row = await this.db
      .selectFrom('dlq_items')
      .selectAll('dlq_items')
      .select((eb) =>
        eb
          .selectFrom('runs')
          .select('runs.stream_revision')
          .whereRef('runs.id', '=', 'dlq_items.run_id')
          .as('run_revision'),
      )
      .where('dlq_items.id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    const { run_revision, ...item } = row;
    return { view: toDlqItem(item), revision: run_revision ?? null };
  }
}

/** Rows strictly after the cursor's (timestamp, id) in a newest-first order. */
function after<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  kind: 'runs' | 'dlq',
  column: string,
  cursor: string,
): SelectQueryBuilder<DB, TB, O> {
  const [at, id] = decodeCursor(kind, cursor, 2) as [string, string];
  return query.where(sql<boolean>`(${sql.ref(column)}, id) < (${fromMicros(cursorMicros(at))}, ${id})`);
}

function page<Row, Item>(
  rows: Row[],
  limit: number,
  cursorOf: (row: Row) => string,
  view: (row: Row) => Item,
): Page<Item> {
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  const last = shown.at(-1);
  return { items: shown.map(view), nextCursor: more && last !== undefined ? cursorOf(last) : null };
}

function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new ValidationError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}`, [
      { path: 'limit', kind: 'invalid_limit', message: `must be an integer from 1 to ${MAX_PAGE_SIZE}` },
    ]);
  }
  return limit;
}

function oneOf<T extends string>(path: string, value: T, allowed: readonly T[]): T {
  if (allowed.includes(value)) return value;
  throw new ValidationError(`${path} must be one of ${allowed.join(', ')}`, [
    {
      path,
      kind: 'invalid_enum',
      message: `must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`,
    },
  ]);
}
