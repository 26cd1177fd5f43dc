/** The EventStoreDB adapter's pure translations: positions, revisions, errors, metadata, filters. */
import {
  ANY,
  MaxAppendSizeExceededError,
  NO_STREAM,
  STREAM_EXISTS,
  StreamDeletedError,
  TimeoutError,
  UnavailableError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConcurrencyError, ConflictError, ValidationError } from '../../../src/errors.js';
import {
  FENCE_STREAM_PREFIX,
  fromEsdbMetadata,
  isStoreEvent,
  isTransientError,
  isUnanswered,
  termOfRevision,
  toAppendError,
  toEsdbExpectedRevision,
  toEsdbMetadata,
  toEsdbPosition,
  toGlobalPosition,
} from '../../../src/events/eventstoredb/index.js';
import {
  fromEsdbRevision,
  matchesPrefixes,
  toRecordedEvent,
} from '../../../src/events/eventstoredb/mapping.js';
import { comparePositions } from '../../../src/events/position.js';
import type { ExpectedRevision, GlobalPosition } from '../../../src/events/types.js';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const logPosition = fc.record({ commit: u64, prepare: u64 });

/** $all order: by commit position, then by prepare position. */
function logOrder(a: { commit: bigint; prepare: bigint }, b: { commit: bigint; prepare: bigint }): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  return a.prepare < b.prepare ? -1 : a.prepare > b.prepare ? 1 : 0;
}

describe('positions', () => {
  it('encodes (commit, prepare) as two fixed-width lowercase hex numbers', () => {
    expect(toGlobalPosition({ commit: 0n, prepare: 0n })).toBe('0000000000000000-0000000000000000');
    expect(toGlobalPosition({ commit: 4_096n, prepare: 4_200n })).toBe('0000000000001000-0000000000001068');
    expect(toGlobalPosition({ commit: (1n << 64n) - 1n, prepare: 1n })).toBe(
      'ffffffffffffffff-0000000000000001',
    );
  });

  it('orders as strings exactly as $all orders the log', () => {
    fc.assert(
      fc.property(logPosition, logPosition, (a, b) => {
        const byString = Math.sign(comparePositions(toGlobalPosition(a), toGlobalPosition(b)));
        expect(byString).toBe(logOrder(a, b));
      }),
      { numRuns: 2_000 },
    );
  });

  it('decodes back to the same pair', () => {
    fc.assert(
      fc.property(logPosition, (position) => {
        expect(toEsdbPosition(toGlobalPosition(position))).toEqual(position);
      }),
    );
  });

  it('refuses what is not a position, and what does not fit 64 bits', () => {
    for (const bad of ['', '12', '0000000000000001-000000000000000G', '0000000000000001:0000000000000002']) {
      expect(() => toEsdbPosition(bad as GlobalPosition)).toThrow(ValidationError);
    }
    expect(() => toGlobalPosition({ commit: -1n, prepare: 0n })).toThrow(RangeError);
    expect(() => toGlobalPosition({ commit: 1n << 64n, prepare: 0n })).toThrow(RangeError);
  });
});

describe('revisions', () => {
  it('maps the four kinds of expected revision one to one, numbers 0-based on both sides', () => {
    const cases: [ExpectedRevision, unknown][] = [
      ['any', ANY],
      ['no_stream', NO_STREAM],
      ['stream_exists', STREAM_EXISTS],
      [0, 0n],
      [41, 41n],
    ];
    for (const [ours, theirs] of cases) expect(toEsdbExpectedRevision(ours)).toBe(theirs);
  });

  it('reads revisions back as numbers, refusing ones beyond 2^53', () => {
    expect(fromEsdbRevision(0n)).toBe(0);
    expect(fromEsdbRevision(12n)).toBe(12);
    expect(() => fromEsdbRevision(1n << 60n)).toThrow(RangeError);
  });

  it('numbers terms from the fence stream revision: the first TermTaken (revision 0) is term 1', () => {
    expect(termOfRevision(0n)).toBe(1);
    expect(termOfRevision(6n)).toBe(7);
  });
});

describe('append errors', () => {
  const wrong = (expected: unknown, current: bigint | 'no_stream') =>
    new WrongExpectedVersionError(undefined, {
      streamName: 's',
      expected: expected as never,
      current,
    });

  it('turns a wrong expected version into ConcurrencyError with the actual revision', () => {
    const cases: [ExpectedRevision, bigint | 'no_stream', number | 'no_stream'][] = [
      ['no_stream', 0n, 0],
      [1, 2n, 2],
      [5, 2n, 2],
      [0, 'no_stream', 'no_stream'],
      ['stream_exists', 'no_stream', 'no_stream'],
    ];
    for (const [expected, current, actual] of cases) {
      const error = toAppendError(wrong(toEsdbExpectedRevision(expected), current), 's', expected);
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect(error).toMatchObject({ stream: 's', expected, actual, code: 'wrong_expected_revision' });
    }
  });

  it('reads a conflict under any or on an existing stream as a partly repeated batch', () => {
    // The server answers "some ids of this batch are there, others not" with WrongExpectedVersion.
    for (const [expected, current] of [
      ['any', 3n],
      ['stream_exists', 3n],
    ] as const) {
      const error = toAppendError(wrong(toEsdbExpectedRevision(expected), current), 's', expected);
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).code).toBe('idempotency_mismatch');
    }
  });

  it('turns an oversized batch into ValidationError and a deleted stream into ConflictError', () => {
    const tooBig = toAppendError(new MaxAppendSizeExceededError(undefined, 1_048_576), 's', 'any');
    expect(tooBig).toBeInstanceOf(ValidationError);
    expect((tooBig as ValidationError).issues[0]!.message).toMatch(/1048576 bytes/);
    const deleted = toAppendError(StreamDeletedError.fromStreamName('s'), 's', 'any');
    expect(deleted).toBeInstanceOf(ConflictError);
    expect((deleted as ConflictError).code).toBe('stream_deleted');
  });

  it('passes every other error through untouched', () => {
    const other = new UnavailableError(undefined, 'gone');
    expect(toAppendError(other, 's', 'any')).toBe(other);
    const plain = new Error('boom');
    expect(toAppendError(plain, 's', 1)).toBe(plain);
  });

  it('retries only requests the server may not have answered, reconnects only on transient errors', () => {
    expect(isUnanswered(new TimeoutError(undefined, 't'))).toBe(true);
    expect(isUnanswered(new UnavailableError(undefined, 'u'))).toBe(true);
    expect(isUnanswered(wrong(ANY, 1n))).toBe(false);
    expect(isUnanswered(new Error('x'))).toBe(false);
    expect(isTransientError(new UnavailableError(undefined, 'u'))).toBe(true);
    expect(isTransientError(wrong(ANY, 1n))).toBe(false);
    expect(isTransientError(undefined)).toBe(false);
  });
});

describe('metadata', () => {
  const metadata = { correlationId: 'corr', causationId: 'cause', actor: 'user:ada', term: 7 };

  it("adds EventStoreDB's $correlationId and $causationId, and drops them again on the way back", () => {
    const written = toEsdbMetadata(metadata);
    expect(written).toEqual({ ...metadata, $correlationId: 'corr', $causationId: 'cause' });
    expect(fromEsdbMetadata(JSON.parse(JSON.stringify(written)))).toEqual(metadata);
  });

  it("fills the port's ids from the $ ones for events written by other tools", () => {
    expect(fromEsdbMetadata({ $correlationId: 'c', $causationId: 'd', actor: 'x' })).toEqual({
      correlationId: 'c',
      causationId: 'd',
      actor: 'x',
    });
  });

  it('reads metadata that is not a JSON object as empty', () => {
    for (const raw of [undefined, null, 'text', [1], new Uint8Array([1, 2])])
      expect(fromEsdbMetadata(raw)).toEqual({});
  });
});

describe('which events are the store’s', () => {
  it('skips system streams, system types and fencing terms', () => {
    expect(isStoreEvent('run-1', 'RunRequested')).toBe(true);
    expect(isStoreEvent('$stats-127.0.0.1:2113', '$statsCollected')).toBe(false);
    expect(isStoreEvent('$$run-1', '$metadata')).toBe(false);
    expect(isStoreEvent('run-1', '$>')).toBe(false);
    expect(isStoreEvent(`${FENCE_STREAM_PREFIX}scheduler`, 'TermTaken')).toBe(false);
  });

  it('matches stream prefixes literally', () => {
    expect(matchesPrefixes('run-1', undefined)).toBe(true);
    expect(matchesPrefixes('run-1', ['dag-', 'run-'])).toBe(true);
    expect(matchesPrefixes('run_x', ['run-'])).toBe(false);
    expect(matchesPrefixes('a%b', ['a%'])).toBe(true);
    expect(matchesPrefixes('axb', ['a%'])).toBe(false);
  });

  it('maps a client event, and refuses one without a log position (servers before 22.10)', () => {
    const created = new Date('2024-05-01T10:00:00Z');
    const event = {
      streamId: 'run-1',
      id: '6f1c1a52-3f5e-4a57-9c55-0b7d6f3c2a10',
      revision: 3n,
      type: 'RunRequested',
      data: { a: 1 },
      metadata: toEsdbMetadata({ correlationId: 'c', causationId: 'd', actor: 'cli' }),
      created,
      position: { commit: 200n, prepare: 300n },
    };
    expect(toRecordedEvent(event)).toEqual({
      id: event.id,
      streamName: 'run-1',
      revision: 3,
      position: '00000000000000c8-000000000000012c',
      type: 'RunRequested',
      data: { a: 1 },
      metadata: { correlationId: 'c', causationId: 'd', actor: 'cli' },
      createdAt: created,
    });
    expect(() => toRecordedEvent({ ...event, position: undefined })).toThrow(/22\.10/);
    expect(() => toRecordedEvent({ ...event, position: { commit: 0n, prepare: 0n } })).toThrow(/22\.10/);
  });
});
