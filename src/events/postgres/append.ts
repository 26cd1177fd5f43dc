/**
 * Appending to a stream: input checks in JS, then one call of the `dagrun_append` SQL function
 * (migrations/0001_event_store.sql), which checks the expected revision, detects a replayed
 * batch, inserts and notifies in a single round trip. `appendToStreams` makes many appends, to
 * many streams, in one statement (`dagrun_append_batch`, migrations/0008_append_batch.sql), each
 * with its own expectation, fence and outcome.
 */
import { randomUUID } from 'node:crypto';
import { ConcurrencyError, ConflictError, FencedError } from '../../errors.js';
import { encodePosition, START_POSITION } from '../position.js';
import type { AppendResult, ExpectedRevision, Fence, NewEvent } from '../types.js';
import { invalid, type Queryable, requireStreamName } from './read.js';

/** Most events one append may carry; larger batches are split by the caller. */
export const MAX_APPEND_BATCH = 10_000;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EVENT_ID_CONSTRAINT = 'events_event_id_key';

export interface AppendOptions {
  /** Send the NOTIFY wake-up hint for live subscriptions (default true). */
  readonly notify?: boolean;
  /**
   * Re-run the append once it lost a race against an identical one (unique violation on the
   * event id), so the caller gets the original result. Only possible outside a transaction: in
   * the caller's own transaction the violation has already aborted it. Default true.
   */
  readonly retryOnDuplicate?: boolean;
  /** Append only while this term is the newest of its key (migrations/0004_fences.sql). */
  readonly fence?: Fence | undefined;
}

interface AppendRow {
  readonly outcome: 'appended' | 'duplicate' | 'conflict' | 'id_elsewhere' | 'id_mismatch' | 'fenced';
  readonly revision: string | null;
  readonly transaction_id: string | null;
  readonly global_seq: string | null;
  readonly detail: string | null;
}

/**
 * Appends `events` to `stream` if `expected` holds; see `EventStore.append` for the contract.
 * Works on a pool (autocommit) or on a client inside the caller's transaction (pass
 * `retryOnDuplicate: false`): then the events commit, and become visible, with that transaction.
 */
export async function appendToStream(
  db: Queryable,
  stream: string,
  events: readonly NewEvent[],
  expected: ExpectedRevision = 'any',
  options: AppendOptions = {},
): Promise<AppendResult> {
  requireStreamName(stream);
  const [kind, revision] = expectation(expected);
  const payload = serialize(events);
  const attempts = options.retryOnDuplicate === false ? 1 : 3;
  const fence = options.fence === undefined ? undefined : checkFence(options.fence);
  for (let attempt = 1; ; attempt++) {
    try {
      const { rows } = await db.query<AppendRow>(
        fence
          ? `SELECT outcome, revision, transaction_id::text AS transaction_id, global_seq, detail
             FROM dagrun_append_fenced($6, $7, $1, $2, $3, $4::jsonb, $5)`
          : `SELECT outcome, revision, transaction_id::text AS transaction_id, global_seq, detail
             FROM dagrun_append($1, $2, $3, $4::jsonb, $5)`,
        fence
          ? [stream, kind, revision, payload, options.notify ?? true, fence.key, fence.term]
          : [stream, kind, revision, payload, options.notify ?? true],
      );
      return toResult(stream, expected, rows[0]!, fence);
    } catch (error) {
      if (!isEventIdViolation(error)) throw error;
      // An identical append committed between our duplicate check and our insert. Asking again
      // finds it and answers 'duplicate' — or names the other stream that owns the id.
      if (attempt >= attempts) {
        throw new ConflictError(
          'duplicate_event_id',
          `stream ${stream}: an event id of this batch already exists`,
          {
            stream,
          },
        );
      }
    }
  }
}

/** Takes the next term of `key` (see `EventStore.nextTerm`). */
export async function nextTerm(db: Queryable, key: string): Promise<number> {
  if (typeof key !== 'string' || key.length === 0 || key.length > 200)
    throw invalid('key', 'must be a fence key of 1 to 200 characters');
  const { rows } = await db.query<{ term: string }>('SELECT dagrun_next_term($1)::text AS term', [key]);
  return Number(rows[0]!.term);
}

export function checkFence(fence: Fence): Fence {
  if (typeof fence.key !== 'string' || fence.key.length === 0 || fence.key.length > 200)
    throw invalid('fence.key', 'must be a fence key of 1 to 200 characters');
  if (!Number.isSafeInteger(fence.term) || fence.term < 1)
    throw invalid('fence.term', `must be a term >= 1, got ${JSON.stringify(fence.term)}`);
  return fence;
}

/** The error for a 'fenced' outcome (revision holds the current term, NULL when none). */
export function fencedError(fence: Fence, current: string | null): FencedError {
  return new FencedError(fence.key, fence.term, current === null ? undefined : Number(current));
}

function toResult(
  stream: string,
  expected: ExpectedRevision,
  row: AppendRow,
  fence: Fence | undefined,
): AppendResult {
  switch (row.outcome) {
    case 'fenced':
      throw fencedError(fence ?? { key: '?', term: 0 }, row.revision);
    case 'appended':
    case 'duplicate':
      return {
        nextExpectedRevision: Number(row.revision),
        position:
          row.transaction_id === null || row.global_seq === null
            ? START_POSITION
            : encodePosition(row.transaction_id, row.global_seq),
      };
    case 'conflict':
      throw new ConcurrencyError(
        stream,
        expected,
        row.revision === null ? 'no_stream' : Number(row.revision),
      );
    case 'id_elsewhere':
      throw new ConflictError(
        'duplicate_event_id',
        `stream ${stream}: an event id of this batch already belongs to stream ${row.detail}`,
        { stream, otherStream: row.detail },
      );
    case 'id_mismatch':
      throw new ConflictError(
        'idempotency_mismatch',
        `stream ${stream}: some event ids of this batch were appended before, but not as this batch`,
        { stream },
      );
    default: {
      const never: never = row.outcome;
      throw new Error(`dagrun_append returned an unknown outcome ${String(never)}`);
    }
  }
}

/** The SQL function's (kind, revision) pair for an expected revision; rejects nonsense. */
function expectation(expected: ExpectedRevision): [kind: string, revision: number | null] {
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return [expected, null];
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0)
    return ['revision', expected];
  throw invalid(
    'expected',
    `must be 'any', 'no_stream', 'stream_exists' or a revision >= 0, got ${JSON.stringify(expected)}`,
  );
}

/** One append of a multi-stream batch. */
export interface StreamAppend {
  readonly stream: string;
  readonly events: readonly NewEvent[];
  readonly expected?: ExpectedRevision;
  readonly fence?: Fence | undefined;
}

/**
 * What became of one append of a batch: its result (`appended` false when it was a replay,
 * answered from the log and written nowhere), or the error it would have thrown on its own.
 */
export type AppendSettlement =
  | { readonly status: 'fulfilled'; readonly value: AppendResult; readonly appended: boolean }
  | { readonly status: 'rejected'; readonly reason: unknown };

interface BatchRow extends AppendRow {
  readonly ord: number;
}

/**
 * Makes many appends in one statement: every append keeps its own expected revision, fence and
 * outcome, as if it had been made alone with `appendToStream` — a conflict, a fenced or an
 * invalid append fails alone while the others commit. On a pool they commit together in one
 * transaction (one fsync'd commit for all); in a caller's transaction, with it. Zero-event
 * appends are answered too (they check their expectation and write nothing).
 *
 * Throws only when the statement itself fails (the connection dropped, a constraint other than
 * the event-id index): then nothing was written.
 */
export async function appendToStreams(
  db: Queryable,
  appends: readonly StreamAppend[],
): Promise<AppendSettlement[]> {
  const settled: (AppendSettlement | undefined)[] = new Array(appends.length);
  const parts: string[] = [];
  appends.forEach((append, ord) => {
    try {
      requireStreamName(append.stream);
      const [kind, revision] = expectation(append.expected ?? 'any');
      const fence = append.fence === undefined ? undefined : checkFence(append.fence);
      const payload = serialize(append.events);
      // Rendered by hand around the already serialized events: one bad append cannot spoil the
      // JSON of the others, and the events are not serialized twice.
      parts.push(
        `{"ord":${ord},"s":${JSON.stringify(append.stream)},"k":"${kind}","r":${revision ?? 'null'},` +
          `"fk":${fence ? JSON.stringify(fence.key) : 'null'},"ft":${fence ? fence.term : 'null'},"e":${payload}}`,
      );
    } catch (error) {
      settled[ord] = { status: 'rejected', reason: error };
    }
  });
  if (parts.length > 0) {
    // Named: the statement is parsed and planned once per connection, not on every call.
    const { rows } = await db.query<BatchRow>({
      name: 'dagrun-append-batch',
      text: `SELECT ord, outcome, revision, transaction_id::text AS transaction_id, global_seq, detail
             FROM dagrun_append_batch($1::jsonb)`,
      values: [`[${parts.join(',')}]`],
    });
    for (const row of rows) {
      const append = appends[row.ord];
      if (!append || settled[row.ord]) continue;
      try {
        const value = toResult(append.stream, append.expected ?? 'any', row, append.fence);
        settled[row.ord] = { status: 'fulfilled', value, appended: row.outcome === 'appended' };
      } catch (error) {
        settled[row.ord] = { status: 'rejected', reason: error };
      }
    }
  }
  return appends.map(
    (append, ord) =>
      settled[ord] ?? {
        status: 'rejected',
        reason: new Error(`the batched append to ${append.stream} returned no row`),
      },
  );
}

/** Checks the batch and renders it as the JSON array the SQL function unpacks. */
function serialize(events: readonly NewEvent[]): string {
  if (!Array.isArray(events)) throw invalid('events', 'must be an array');
  if (events.length > MAX_APPEND_BATCH) {
    throw invalid('events', `has ${events.length} events; at most ${MAX_APPEND_BATCH} per append`);
  }
  const seen = new Set<string>();
  const rows = events.map((event, index) => {
    const path = `events[${index}]`;
    const id = (event.id ?? randomUUID()).toLowerCase();
    if (!UUID_PATTERN.test(id))
      throw invalid(`${path}.id`, `must be a UUID, got ${JSON.stringify(event.id)}`);
    if (seen.has(id)) throw invalid(`${path}.id`, `repeats event id ${id} within the batch`);
    seen.add(id);
    if (typeof event.type !== 'string' || event.type.length === 0) {
      throw invalid(`${path}.type`, 'must be a non-empty string');
    }
    if (event.data === undefined) throw invalid(`${path}.data`, 'must be JSON (undefined is not)');
    if (typeof event.metadata !== 'object' || event.metadata === null || Array.isArray(event.metadata)) {
      throw invalid(`${path}.metadata`, 'must be an object');
    }
    return { id, type: event.type, data: event.data, metadata: event.metadata };
  });
  try {
    return JSON.stringify(rows);
  } catch (error) {
    throw invalid('events', `cannot be serialized as JSON: ${(error as Error).message}`);
  }
}

function isEventIdViolation(error: unknown): boolean {
  const e = error as { code?: unknown; constraint?: unknown };
  return e?.code === '23505' && e.constraint === EVENT_ID_CONSTRAINT;
}
