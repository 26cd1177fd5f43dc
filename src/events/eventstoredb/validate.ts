/**
 * Input checks of the EventStoreDB adapter: the same rules, and the same ValidationErrors, as the
 * Postgres adapter's (the contract suite checks both), plus the names EventStoreDB reserves.
 */
import { randomUUID } from 'node:crypto';
import { ValidationError } from '../../errors.js';
import { parsePosition } from '../position.js';
import type {
  ExpectedRevision,
  Fence,
  GlobalPosition,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  SubscribeOptions,
} from '../types.js';
import { FENCE_STREAM_PREFIX } from './mapping.js';

/** Most events one append may carry, as in Postgres; EventStoreDB also caps an append's bytes. */
export const MAX_APPEND_BATCH = 10_000;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An event ready for the client: id fixed (lowercase), everything else checked. */
export interface CheckedEvent {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: NewEvent['metadata'];
}

/** A `ValidationError` for one bad argument. */
export function invalid(path: string, message: string, kind = 'invalid_argument'): ValidationError {
  return new ValidationError(`${path} ${message}`, [{ path, message, kind }]);
}

/** A stream name to read: any non-empty string. */
export function requireStreamName(stream: unknown): asserts stream is string {
  if (typeof stream !== 'string' || stream.length === 0)
    throw invalid('stream', 'must be a non-empty string');
}

/**
 * A stream name to append to: non-empty, and not one EventStoreDB or the adapter reserves —
 * `$…` streams are the server's system streams, `dagrun-fence-…` hold fencing terms.
 */
export function requireWritableStream(stream: unknown): asserts stream is string {
  requireStreamName(stream);
  if (stream.startsWith('$'))
    throw invalid('stream', `must not start with "$" (EventStoreDB system streams)`, 'reserved_stream');
  if (stream.startsWith(FENCE_STREAM_PREFIX))
    throw invalid(
      'stream',
      `must not start with "${FENCE_STREAM_PREFIX}" (fencing terms)`,
      'reserved_stream',
    );
}

/** Rejects anything but the four kinds of expected revision. */
export function checkExpected(expected: ExpectedRevision): ExpectedRevision {
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return expected;
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0) return expected;
  throw invalid(
    'expected',
    `must be 'any', 'no_stream', 'stream_exists' or a revision >= 0, got ${JSON.stringify(expected)}`,
  );
}

/** Checks a batch and gives every event its (lowercase) id; a missing id is generated. */
export function checkEvents(events: readonly NewEvent[]): CheckedEvent[] {
  if (!Array.isArray(events)) throw invalid('events', 'must be an array');
  if (events.length > MAX_APPEND_BATCH) {
    throw invalid('events', `has ${events.length} events; at most ${MAX_APPEND_BATCH} per append`);
  }
  const seen = new Set<string>();
  return events.map((event, index) => {
    const path = `events[${index}]`;
    const id = (event.id ?? randomUUID()).toLowerCase();
    if (!UUID_PATTERN.test(id))
      throw invalid(`${path}.id`, `must be a UUID, got ${JSON.stringify(event.id)}`);
    if (seen.has(id)) throw invalid(`${path}.id`, `repeats event id ${id} within the batch`);
    seen.add(id);
    if (typeof event.type !== 'string' || event.type.length === 0) {
      throw invalid(`${path}.type`, 'must be a non-empty string');
    }
    if (event.type.startsWith('$')) {
      throw invalid(`${path}.type`, 'must not start with "$" (EventStoreDB system event types)');
    }
    if (event.data === undefined) throw invalid(`${path}.data`, 'must be JSON (undefined is not)');
    if (typeof event.metadata !== 'object' || event.metadata === null || Array.isArray(event.metadata)) {
      throw invalid(`${path}.metadata`, 'must be an object');
    }
    try {
      JSON.stringify(event.data);
      JSON.stringify(event.metadata);
    } catch (error) {
      throw invalid(path, `cannot be serialized as JSON: ${(error as Error).message}`);
    }
    return { id, type: event.type, data: event.data, metadata: event.metadata };
  });
}

/** A fence key: 1 to 200 characters, as in Postgres. */
export function checkFenceKey(key: unknown, path = 'key'): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 200)
    throw invalid(path, 'must be a fence key of 1 to 200 characters');
  return key;
}

/** A fence: a valid key and a term >= 1. */
export function checkFence(fence: Fence): Fence {
  checkFenceKey(fence.key, 'fence.key');
  if (!Number.isSafeInteger(fence.term) || fence.term < 1)
    throw invalid('fence.term', `must be a term >= 1, got ${JSON.stringify(fence.term)}`);
  return fence;
}

/** Checked `readStream` options with their defaults. */
export function checkReadStream(options: ReadStreamOptions = {}): { from: number; maxCount?: number } {
  const from = options.fromRevision ?? 0;
  requireCount(from, 'fromRevision', 0);
  if (options.maxCount === undefined) return { from };
  requireCount(options.maxCount, 'maxCount', 1);
  return { from, maxCount: options.maxCount };
}

/** Checked `readAll` options: the checkpoint parsed, the prefixes normalized. */
export function checkReadAll(options: ReadAllOptions = {}): {
  after: GlobalPosition | undefined;
  maxCount: number;
  prefixes: readonly string[] | undefined;
} {
  const after = options.after === undefined ? undefined : parsePosition(options.after, 'after');
  let maxCount = Number.POSITIVE_INFINITY;
  if (options.maxCount !== undefined) {
    requireCount(options.maxCount, 'maxCount', 1);
    maxCount = options.maxCount;
  }
  return { after, maxCount, prefixes: checkPrefixes(options.streamPrefixes) };
}

/** Checked `subscribe` options. */
export function checkSubscribe(options: SubscribeOptions = {}): {
  from: GlobalPosition | 'start' | 'end';
  prefixes: readonly string[] | undefined;
  batchSize: number;
} {
  const from = options.from ?? 'start';
  const batchSize = options.batchSize ?? 500;
  requireCount(batchSize, 'batchSize', 1);
  return {
    from: from === 'start' || from === 'end' ? from : parsePosition(from, 'from'),
    prefixes: checkPrefixes(options.streamPrefixes),
    batchSize,
  };
}

/**
 * Stream prefixes: undefined for "every stream" — also for an empty list or an empty prefix, which
 * match every name (as in Postgres).
 */
export function checkPrefixes(prefixes: readonly string[] | undefined): readonly string[] | undefined {
  if (prefixes === undefined) return undefined;
  if (!Array.isArray(prefixes) || prefixes.some((p) => typeof p !== 'string')) {
    throw invalid('streamPrefixes', 'must be an array of strings');
  }
  if (prefixes.length === 0 || prefixes.includes('')) return undefined;
  return [...prefixes];
}

function requireCount(value: number, path: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw invalid(path, `must be an integer >= ${min}`);
}
