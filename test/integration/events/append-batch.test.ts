/**
 * `appendToStreams` (migrations/0008_append_batch.sql): many appends to many streams in one
 * statement, each answered as if it had been made alone. The differential property plays random
 * batches — new streams, expected revisions right and wrong, replays, ids owned elsewhere, fences
 * current and stale, a stream named twice, empty appends — once through the batch and once
 * append by append through `appendToStream`, on twin streams, and wants the same outcomes and
 * the same streams.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConcurrencyError, ConflictError, FencedError, ValidationError } from '../../../src/errors.js';
import { decodePosition } from '../../../src/events/position.js';
import {
  type AppendSettlement,
  appendToStream,
  appendToStreams,
} from '../../../src/events/postgres/append.js';
import type { ExpectedRevision, Fence, NewEvent } from '../../../src/events/types.js';
import { newEvent, uniqueName } from '../../contract/support.js';
import { createTestDatabase } from '../../support/database.js';

const database = await createTestDatabase();
const db = database.pool;

async function streamOf(name: string): Promise<{ revision: number; type: string; id: string }[]> {
  const { rows } = await db.query<{ stream_revision: string; type: string; event_id: string }>(
    'SELECT stream_revision, type, event_id FROM events WHERE stream_name = $1 ORDER BY stream_revision',
    [name],
  );
  return rows.map((r) => ({ revision: Number(r.stream_revision), type: r.type, id: r.event_id }));
}

/** An outcome as comparable data: the revision, or the error's kind and what it says. */
function describeOutcome(outcome: PromiseSettledResult<{ nextExpectedRevision: number }>): string {
  if (outcome.status === 'fulfilled') return `ok ${outcome.value.nextExpectedRevision}`;
  const e = outcome.reason as unknown;
  if (e instanceof ConcurrencyError) return `conflict ${e.actual}`;
  if (e instanceof FencedError) return `fenced ${e.current}`;
  if (e instanceof ConflictError) return `${e.code}`;
  if (e instanceof ValidationError) return 'invalid';
  return `error ${String(e)}`;
}

const asSettled = (s: AppendSettlement): PromiseSettledResult<{ nextExpectedRevision: number }> =>
  s.status === 'fulfilled' ? { status: 'fulfilled', value: s.value } : s;

describe('appendToStreams', () => {
  it('commits appends to many streams in one transaction, each at its own revision', async () => {
    const names = Array.from({ length: 40 }, (_, i) => uniqueName(`many${i}`));
    const claims = await appendToStreams(
      db,
      names.map((stream) => ({ stream, events: [newEvent('Claimed')], expected: 'no_stream' as const })),
    );
    const outcomes = await appendToStreams(
      db,
      names.map((stream, i) => ({
        stream,
        events: Array.from({ length: 1 + (i % 3) }, () => newEvent('Done')),
        expected: 0,
      })),
    );
    const majors = new Set<bigint>();
    for (const [i, s] of outcomes.entries()) {
      expect(s.status).toBe('fulfilled');
      if (s.status !== 'fulfilled') continue;
      expect(s.appended).toBe(true);
      expect(s.value.nextExpectedRevision).toBe(1 + (i % 3));
      majors.add(decodePosition(s.value.position).major);
    }
    expect(majors.size).toBe(1);
    expect(claims.every((c) => c.status === 'fulfilled' && c.appended)).toBe(true);
    // Within each stream, the global sequence follows the revisions.
    const { rows } = await db.query<{ stream_name: string; stream_revision: string; global_seq: string }>(
      'SELECT stream_name, stream_revision, global_seq FROM events WHERE stream_name = ANY ($1) ORDER BY global_seq',
      [names],
    );
    const last = new Map<string, number>();
    for (const row of rows) {
      const revision = Number(row.stream_revision);
      expect(revision).toBe((last.get(row.stream_name) ?? -1) + 1);
      last.set(row.stream_name, revision);
    }
  });

  it('fails an invalid append alone and writes the others', async () => {
    const [good, bad] = [uniqueName('good'), uniqueName('bad')];
    const [first, second, third] = await appendToStreams(db, [
      { stream: good, events: [newEvent()] },
      { stream: bad, events: [newEvent('E', 1, 'not-a-uuid')] },
      { stream: '', events: [newEvent()] },
    ]);
    expect(first?.status).toBe('fulfilled');
    expect(second?.status === 'rejected' && second.reason instanceof ValidationError).toBe(true);
    expect(third?.status === 'rejected' && third.reason instanceof ValidationError).toBe(true);
    expect((await streamOf(good)).length).toBe(1);
    expect(await streamOf(bad)).toEqual([]);
  });

  it('answers a replayed batch as a duplicate and writes nothing', async () => {
    const stream = uniqueName('replay');
    const events = [newEvent('A'), newEvent('B')];
    const [first] = await appendToStreams(db, [{ stream, events, expected: 'no_stream' }]);
    const [again] = await appendToStreams(db, [
      { stream, events, expected: 'no_stream' },
      { stream: uniqueName('other'), events: [newEvent()] },
    ]);
    expect(first?.status === 'fulfilled' && first.appended).toBe(true);
    expect(again?.status === 'fulfilled' && !again.appended).toBe(true);
    if (first?.status === 'fulfilled' && again?.status === 'fulfilled')
      expect(again.value).toEqual(first.value);
    expect((await streamOf(stream)).length).toBe(2);
  });

  it('never deadlocks: concurrent batches over the same streams, in opposite orders', async () => {
    const names = Array.from({ length: 24 }, (_, i) => uniqueName(`lock${String(i).padStart(2, '0')}`));
    await appendToStreams(
      db,
      names.map((stream) => ({ stream, events: [newEvent()], expected: 'no_stream' as const })),
    );
    for (let round = 0; round < 10; round++) {
      const batch = (order: string[]) =>
        appendToStreams(
          db,
          order.map((stream) => ({ stream, events: [newEvent()], expected: round })),
        );
      const [a, b] = await Promise.all([batch(names), batch([...names].reverse())]);
      // For every stream exactly one of the two batches held the expected revision.
      for (const [i, stream] of names.entries()) {
        const fromA = a[i]!;
        const fromB = b[names.length - 1 - i]!;
        expect([fromA.status, fromB.status].sort(), stream).toEqual(['fulfilled', 'rejected']);
      }
    }
  });
});

describe('appendToStreams behind a fence', () => {
  it('lets no batch in flight commit after a newer term was taken', async () => {
    const key = uniqueName('fence');
    const prefix = uniqueName('fenced');
    const term = Number(
      (await db.query<{ t: string }>('SELECT dagrun_next_term($1)::text AS t', [key])).rows[0]!.t,
    );
    let raised = false;
    const reported: string[] = [];
    let lateRefusals = 0;
    const writer = async (w: number) => {
      for (let i = 0; i < 2_000; i++) {
        const afterRaise = raised;
        const settled = await appendToStreams(
          db,
          [0, 1, 2, 3].map((j) => ({
            stream: `${prefix}-${w}-${i}-${j}`,
            events: [newEvent('Decided')],
            expected: 'no_stream' as const,
            fence: { key, term },
          })),
        );
        for (const [j, s] of settled.entries()) {
          if (s.status === 'fulfilled') reported.push(`${prefix}-${w}-${i}-${j}`);
          else expect(s.reason).toBeInstanceOf(FencedError);
        }
        if (afterRaise) {
          expect(settled.every((s) => s.status === 'rejected')).toBe(true);
          lateRefusals++;
          return;
        }
      }
    };
    const writers = Promise.all([0, 1, 2, 3].map(writer));
    while (reported.length < 40) await new Promise((resolve) => setTimeout(resolve, 1));
    await db.query('SELECT dagrun_next_term($1)', [key]);
    raised = true;
    const { rows } = await db.query<{ stream_name: string }>(
      "SELECT stream_name FROM events WHERE stream_name LIKE $1 || '-%'",
      [prefix],
    );
    const visibleAtRaise = new Set(rows.map((r) => r.stream_name));
    await writers;
    expect(lateRefusals).toBe(4);
    // Whatever reported success had committed when the term was raised; nothing came later.
    expect(new Set(reported)).toEqual(visibleAtRaise);
    const after = await db.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM events WHERE stream_name LIKE $1 || '-%'",
      [prefix],
    );
    expect(Number(after.rows[0]!.n)).toBe(visibleAtRaise.size);
  });
});

/** One append of a scenario, in terms of twin-independent names and ids. */
interface Step {
  readonly stream: number;
  readonly events: readonly { readonly id: number; readonly type: string }[];
  readonly expected: 'any' | 'no_stream' | 'stream_exists' | number;
  /** undefined: unfenced; 'current' or 'stale' term of the scenario's fence key. */
  readonly fence: 'current' | 'stale' | undefined;
}

const STREAMS = 5;
const META = { correlationId: 'c-1', causationId: 'c-0', actor: 'test' };
const RUNS = Number(process.env['APPEND_BATCH_RUNS'] ?? 150);

const step: fc.Arbitrary<Step> = fc.record({
  stream: fc.integer({ min: 0, max: STREAMS - 1 }),
  // ids 0..11: small, so replays, partial replays and ids owned by another stream all happen.
  events: fc.array(fc.record({ id: fc.integer({ min: 0, max: 11 }), type: fc.constantFrom('A', 'B') }), {
    maxLength: 3,
  }),
  expected: fc.oneof(
    fc.constantFrom<'any' | 'no_stream' | 'stream_exists'>('any', 'no_stream', 'stream_exists'),
    fc.integer({ min: 0, max: 4 }),
  ),
  fence: fc.constantFrom<'current' | 'stale' | undefined>(undefined, undefined, 'current', 'stale'),
});

/** Concrete names and ids for one twin: the batch's and the reference's never collide. */
function twin(label: string) {
  const prefix = uniqueName(label);
  const idMap = new Map<number, string>();
  const fenceKey = `${prefix}-fence`;
  return {
    fenceKey,
    name: (stream: number) => `${prefix}-s${stream}`,
    events(step: Step): NewEvent[] {
      return step.events.map((e) => {
        if (!idMap.has(e.id)) idMap.set(e.id, randomUUID());
        return { id: idMap.get(e.id) as string, type: e.type, data: { id: e.id }, metadata: META };
      });
    },
    fence(step: Step, terms: { current: number; stale: number }): Fence | undefined {
      return step.fence === undefined ? undefined : { key: fenceKey, term: terms[step.fence] };
    },
  };
}

async function twoTerms(key: string): Promise<{ current: number; stale: number }> {
  await db.query('SELECT dagrun_next_term($1)', [key]);
  const { rows } = await db.query<{ term: string }>('SELECT dagrun_next_term($1)::text AS term', [key]);
  const current = Number(rows[0]!.term);
  return { current, stale: current - 1 };
}

describe('appendToStreams, differentially against appendToStream', () => {
  it('gives every append the outcome it would have alone, and the same streams', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { maxLength: 6 }),
        fc.array(step, { minLength: 1, maxLength: 8 }),
        async (setup, batch) => {
          const [ref, bat] = [twin('ref'), twin('bat')];
          const [refTerms, batTerms] = [await twoTerms(ref.fenceKey), await twoTerms(bat.fenceKey)];
          const expected = (s: Step): ExpectedRevision => s.expected;
          // The same history first, append by append, on both twins.
          for (const s of setup) {
            for (const [t, terms] of [
              [ref, refTerms],
              [bat, batTerms],
            ] as const) {
              await appendToStream(db, t.name(s.stream), t.events(s), expected(s), {
                fence: t.fence(s, terms),
                notify: false,
              }).catch(() => undefined);
            }
          }
          // The batch in one statement; the reference in the batch's order: by stream name, then
          // in the order given (the order the batch takes its locks in).
          const settled = await appendToStreams(
            db,
            batch.map((s) => ({
              stream: bat.name(s.stream),
              events: bat.events(s),
              expected: expected(s),
              fence: bat.fence(s, batTerms),
            })),
          );
          const order = batch.map((s, i) => ({ s, i })).sort((x, y) => x.s.stream - y.s.stream || x.i - y.i);
          const reference: PromiseSettledResult<{ nextExpectedRevision: number }>[] = new Array(batch.length);
          for (const { s, i } of order) {
            reference[i] = await appendToStream(db, ref.name(s.stream), ref.events(s), expected(s), {
              fence: ref.fence(s, refTerms),
              notify: false,
            }).then(
              (value) => ({ status: 'fulfilled', value }) as const,
              (reason: unknown) => ({ status: 'rejected', reason }) as const,
            );
          }
          expect(settled.map(asSettled).map(describeOutcome)).toEqual(reference.map(describeOutcome));
          for (let stream = 0; stream < STREAMS; stream++) {
            const [r, b] = [await streamOf(ref.name(stream)), await streamOf(bat.name(stream))];
            expect(b.map((e) => [e.revision, e.type])).toEqual(r.map((e) => [e.revision, e.type]));
          }
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);
});
