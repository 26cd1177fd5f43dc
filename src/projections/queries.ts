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
    return { ...toDagSummary(dag), versions: versions.map(toDagVersion), spec: latest?.spec ?? null };
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
    const run = await this.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!run) return undefined;
    const tasks = await this.db
      .selectFrom('task_instances')
      .selectAll()
      .where('run_id', '=', id)
      .orderBy('position')
      .execute();
    return { ...toRunSummary(run), taskInstances: tasks.map(toTaskInstance) };
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

  /** One DLQ item by id (`<runId>:<taskId>:<attempt>`); undefined when unknown. */
  async getDlqItem(id: string): Promise<DlqItemView | undefined> {
    const row = await this.db.selectFrom('dlq_items').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toDlqItem(row) : undefined;
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
