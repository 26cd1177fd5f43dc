/**
 * Reads from the events table, and the mapping from its rows to `RecordedEvent`.
 *
 * $all only shows events of transactions that have ended: `transaction_id < xmin` of the
 * reader's snapshot. Every transaction below xmin is finished, and any transaction that commits
 * later has an id at or above it, so it sorts after every position already handed out — a reader
 * that resumes from a checkpoint can never pass over an event that lands later (invariant 4).
 *
 * The price: xmin is cluster-wide. While any write transaction is open anywhere on the server
 * (another database included), events committed after it started stay hidden until it ends. A
 * long-running writer delays delivery; it never loses an event. Keep write transactions short,
 * and watch `pg_stat_activity` for old `backend_xid`s if subscriptions lag.
 *
 * A stream read needs no such filter: appends to one stream serialize on its `streams` row, so
 * revisions commit in order and a committed revision never has a hole before it.
 */
import type pg from 'pg';
import { ValidationError } from '../../errors.js';
import { decodePosition, encodePosition, parsePosition, START_POSITION } from '../position.js';
import type {
  EventMetadata,
  GlobalPosition,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
} from '../types.js';

/** Anything that runs a query: the pool, or a client inside a caller's transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.ClientBase, 'query'>;

interface EventRow {
  readonly global_seq: string;
  readonly transaction_id: string;
  readonly stream_name: string;
  readonly stream_revision: string;
  readonly event_id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
  readonly created_at: Date;
}

const COLUMNS = `e.global_seq, e.transaction_id::text AS transaction_id, e.stream_name, e.stream_revision,
  e.event_id, e.type, e.data, e.metadata, e.created_at`;

/** Snapshot-xmin: transactions below it have all ended. Evaluated once per statement. */
const HORIZON = 'pg_snapshot_xmin(pg_current_snapshot())';

/** A row as the port's `RecordedEvent`: int8 arrives as a decimal string, revisions fit a number. */
export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    streamName: row.stream_name,
    revision: Number(row.stream_revision),
    position: encodePosition(row.transaction_id, row.global_seq),
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    createdAt: row.created_at,
  };
}

/** Events of one stream in revision order; `[]` when the stream does not exist. */
export async function readStreamEvents(
  db: Queryable,
  stream: string,
  options: ReadStreamOptions = {},
): Promise<RecordedEvent[]> {
  requireStreamName(stream);
  const from = options.fromRevision ?? 0;
  requireCount(from, 'fromRevision', 0);
  const limit = limitOf(options.maxCount);
  const { rows } = await db.query<EventRow>(
    `SELECT ${COLUMNS} FROM events e
     WHERE e.stream_name = $1 AND e.stream_revision >= $2
     ORDER BY e.stream_revision
     LIMIT $3`,
    [stream, from, limit],
  );
  return rows.map(toRecordedEvent);
}

/** One page of $all and the horizon (snapshot xmin, decimal) the page was read under. */
export interface AllPage {
  readonly events: RecordedEvent[];
  readonly horizon: bigint;
}

/**
 * Events of all streams after `after`, in the global order, only from ended transactions.
 * Also returns the read's horizon: a notified transaction below it is already included.
 */
export async function readAllPage(
  db: Queryable,
  options: ReadAllOptions = {},
  /** Transaction ids (commits, see `commitOf`) whose events to leave out. */
  skipCommits: readonly string[] = [],
): Promise<AllPage> {
  const after = decodePosition(
    options.after === undefined ? START_POSITION : parsePosition(options.after, 'after'),
  );
  const limit = limitOf(options.maxCount);
  const patterns = prefixPatterns(options.streamPrefixes);
  const params: unknown[] = [after.major.toString(), after.minor.toString(), limit];
  if (patterns) params.push(patterns);
  const skipped = skipCommits.length > 0 ? `$${params.push(skipCommits.map(hexToDecimal))}` : undefined;
  // LEFT JOIN LATERAL: one row (with NULL columns) even when nothing is visible, so the horizon
  // always comes back; the range condition and the horizon bound are both index conditions on
  // events_global_order.
  const { rows } = await db.query<Partial<EventRow> & { horizon: string }>(
    `SELECT h.horizon::text AS horizon, ${COLUMNS}
     FROM (SELECT ${HORIZON} AS horizon) h
     LEFT JOIN LATERAL (
       SELECT * FROM events x
       WHERE x.transaction_id < h.horizon
         AND (x.transaction_id, x.global_seq) > ($1::xid8, $2::bigint)
         ${patterns ? 'AND x.stream_name LIKE ANY ($4::text[])' : ''}
         ${skipped ? `AND x.transaction_id <> ALL (${skipped}::xid8[])` : ''}
       ORDER BY x.transaction_id, x.global_seq
       LIMIT $3
     ) e ON true
     ORDER BY e.transaction_id, e.global_seq`,
    params,
  );
  const horizon = BigInt(rows[0]?.horizon ?? '0');
  const events = rows.filter((row): row is EventRow & { horizon: string } => row.event_id != null);
  return { events: events.map(toRecordedEvent), horizon };
}

function hexToDecimal(commit: string): string {
  return BigInt(`0x${commit}`).toString();
}

/** Events of all streams in the global order (see `readAllPage`). */
export async function readAllEvents(db: Queryable, options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
  return (await readAllPage(db, options)).events;
}

/** The position of the last visible event, or `START_POSITION` when there is none. */
export async function readHeadPosition(db: Queryable): Promise<GlobalPosition> {
  const { rows } = await db.query<{ transaction_id: string; global_seq: string }>(
    `SELECT e.transaction_id::text AS transaction_id, e.global_seq FROM events e
     WHERE e.transaction_id < ${HORIZON}
     ORDER BY e.transaction_id DESC, e.global_seq DESC
     LIMIT 1`,
  );
  const row = rows[0];
  return row ? encodePosition(row.transaction_id, row.global_seq) : START_POSITION;
}

/** `LIKE` patterns matching names that start with one of the prefixes; undefined: no filter. */
function prefixPatterns(prefixes: readonly string[] | undefined): string[] | undefined {
  if (prefixes === undefined) return undefined;
  if (!Array.isArray(prefixes) || prefixes.some((p) => typeof p !== 'string')) {
    throw invalid('streamPrefixes', 'must be an array of strings');
  }
  // An empty list or an empty prefix matches every stream; say so instead of matching nothing.
  if (prefixes.length === 0 || prefixes.includes('')) return undefined;
  return prefixes.map((p: string) => `${p.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
}

/** `maxCount` as a SQL LIMIT: null (no limit) when absent. */
function limitOf(maxCount: number | undefined): number | null {
  if (maxCount === undefined) return null;
  requireCount(maxCount, 'maxCount', 1);
  return maxCount;
}

function requireCount(value: number, path: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw invalid(path, `must be an integer >= ${min}`);
}

/** Throws `ValidationError` unless `stream` is a non-empty string. */
export function requireStreamName(stream: unknown): asserts stream is string {
  if (typeof stream !== 'string' || stream.length === 0)
    throw invalid('stream', 'must be a non-empty string');
}

/** A `ValidationError` for one bad argument. */
export function invalid(path: string, message: string, kind = 'invalid_argument'): ValidationError {
  return new ValidationError(`${path} ${message}`, [{ path, message, kind }]);
}
