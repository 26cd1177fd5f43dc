/**
 * Pure translations between the EventStore port and @eventstore/db-client: positions, expected
 * revisions, errors, metadata and which events of $all belong to dagrun. No I/O here, so each
 * rule is unit-tested without a server (test/unit/events/eventstoredb-*.test.ts).
 */
import {
  type AllStreamRecordedEvent,
  ANY,
  type AppendExpectedRevision,
  MaxAppendSizeExceededError,
  NO_STREAM,
  type Position,
  STREAM_EXISTS,
  StreamDeletedError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { ConcurrencyError, ConflictError, ValidationError } from '../../errors.js';
import { decodePosition, encodePosition } from '../position.js';
import type { EventMetadata, ExpectedRevision, GlobalPosition, RecordedEvent } from '../types.js';

/**
 * Streams whose names start with this hold fencing terms (see fences.ts). They are the adapter's
 * bookkeeping, like Postgres's `dagrun_fences` table: never returned by readAll or subscriptions,
 * and no caller may append to them.
 */
export const FENCE_STREAM_PREFIX = 'dagrun-fence-';

/**
 * An EventStoreDB log position as a `GlobalPosition`: (commit, prepare) as two 16-digit hex
 * numbers, so plain string order is $all order — $all is ordered by commit position, then by
 * prepare position within one commit.
 */
export function toGlobalPosition(position: Position): GlobalPosition {
  return encodePosition(position.commit, position.prepare);
}

/** The (commit, prepare) pair inside a position; throws `ValidationError` on a malformed one. */
export function toEsdbPosition(position: GlobalPosition): Position {
  const { major, minor } = decodePosition(position);
  return { commit: major, prepare: minor };
}

/**
 * The client's expected revision for the port's: both count revisions from 0, so a number passes
 * through as a bigint, and the three kinds map one to one.
 */
export function toEsdbExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      return BigInt(expected);
  }
}

/** A revision from the client (bigint) as the port's number; revisions beyond 2^53 do not occur. */
export function fromEsdbRevision(revision: bigint): number {
  const value = Number(revision);
  if (!Number.isSafeInteger(value)) throw new RangeError(`stream revision out of range: ${revision}`);
  return value;
}

/**
 * The port's error for a failed append, or the error itself when the port names none.
 *
 * EventStoreDB answers a wrong expected revision and a batch that only partly repeats earlier
 * events ("corrupted idempotency") with the same WrongExpectedVersion. With `any` the first
 * cannot happen, and with `stream_exists` it can only mean the stream is missing; so there a
 * conflict on an existing stream is the second, reported as Postgres does (`idempotency_mismatch`).
 * With `no_stream` or a revision the two are indistinguishable and become a ConcurrencyError.
 */
export function toAppendError(error: unknown, stream: string, expected: ExpectedRevision): unknown {
  if (error instanceof WrongExpectedVersionError) {
    const actual = error.actualVersion === NO_STREAM ? 'no_stream' : fromEsdbRevision(error.actualVersion);
    if (expected === 'any' || (expected === 'stream_exists' && actual !== 'no_stream')) {
      return new ConflictError(
        'idempotency_mismatch',
        `stream ${stream}: some event ids of this batch were appended before, but not as this batch`,
        { stream },
      );
    }
    return new ConcurrencyError(stream, expected, actual);
  }
  if (error instanceof MaxAppendSizeExceededError) {
    return new ValidationError(`events exceed the server's maximum append size`, [
      {
        path: 'events',
        kind: 'invalid_argument',
        message: `exceed EventStoreDB's maximum append size (${error.maxAppendSize} bytes); split the batch`,
      },
    ]);
  }
  if (error instanceof StreamDeletedError) {
    return new ConflictError('stream_deleted', `stream ${stream} was deleted in EventStoreDB`, { stream });
  }
  return error;
}

/**
 * Metadata as written: the port's fields, plus EventStoreDB's own `$correlationId` and
 * `$causationId` so its by-correlation projection and UI link dagrun's events.
 */
export function toEsdbMetadata(metadata: EventMetadata): Record<string, unknown> {
  return { ...metadata, $correlationId: metadata.correlationId, $causationId: metadata.causationId };
}

/**
 * Metadata as read: the `$` copies are dropped again (and fill in the port's fields for events
 * another tool wrote with only those). Metadata that is not a JSON object comes back empty.
 */
export function fromEsdbMetadata(raw: unknown): EventMetadata {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof Uint8Array) {
    return {} as EventMetadata;
  }
  const { $correlationId, $causationId, ...rest } = raw as Record<string, unknown>;
  const metadata: Record<string, unknown> = { ...rest };
  if (metadata['correlationId'] === undefined && typeof $correlationId === 'string')
    metadata['correlationId'] = $correlationId;
  if (metadata['causationId'] === undefined && typeof $causationId === 'string')
    metadata['causationId'] = $causationId;
  return metadata as EventMetadata;
}

/**
 * Whether an event of $all is one of the store's own: not a system event (a `$` stream or a `$`
 * type — stats, settings, metadata, links) and not a fencing term.
 */
export function isStoreEvent(streamName: string, type: string): boolean {
  return !streamName.startsWith('$') && !type.startsWith('$') && !streamName.startsWith(FENCE_STREAM_PREFIX);
}

/** Whether `streamName` starts with one of `prefixes`, literally; no prefixes match everything. */
export function matchesPrefixes(streamName: string, prefixes: readonly string[] | undefined): boolean {
  return prefixes === undefined || prefixes.some((prefix) => streamName.startsWith(prefix));
}

/** A client event as the port's `RecordedEvent`. */
export function toRecordedEvent(event: AllStreamRecordedEvent | RecordedWithOptionalPosition): RecordedEvent {
  const position = event.position;
  if (position === undefined || (position.commit === 0n && position.prepare === 0n)) {
    // Servers before 22.6 leave stream reads without positions (the client then reports none, or
    // zeros: the log's first record is always the server's own); the port needs them everywhere.
    throw new Error(
      `EventStoreDB returned event ${event.id} of ${event.streamId} without its log position: ` +
        'the adapter needs EventStoreDB 22.10 or newer',
    );
  }
  return {
    id: event.id,
    streamName: event.streamId,
    revision: fromEsdbRevision(event.revision),
    position: toGlobalPosition(position),
    type: event.type,
    data: event.data,
    metadata: fromEsdbMetadata(event.metadata),
    createdAt: event.created,
  };
}

/** The fields of a client `RecordedEvent` the adapter reads (stream reads may lack a position). */
export interface RecordedWithOptionalPosition {
  readonly streamId: string;
  readonly id: string;
  readonly revision: bigint;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly created: Date;
  readonly position?: Position | undefined;
}
