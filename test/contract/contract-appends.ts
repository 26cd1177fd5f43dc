/** Contract: appending — expected revisions, idempotency, empty batches, input checks. */
import { describe, expect, it } from 'vitest';
import { ConcurrencyError, ValidationError } from '../../src/errors.js';
import type { EventStore, ExpectedRevision } from '../../src/events/types.js';
import type { HarnessAccess } from './event-store.contract.js';
import { ids, newEvent, numberedEvents, uniqueName } from './support.js';

async function expectConcurrencyError(
  attempt: Promise<unknown>,
  want: { stream: string; expected: ExpectedRevision; actual: number | 'no_stream' },
): Promise<void> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConcurrencyError);
  const { stream, expected, actual, code } = error as ConcurrencyError;
  expect({ stream, expected, actual, code }).toEqual({ ...want, code: 'wrong_expected_revision' });
}

/** A stream holding `count` events (revisions 0..count-1). */
async function streamWith(store: EventStore, count: number): Promise<string> {
  const stream = uniqueName('acct');
  if (count > 0) await store.append(stream, numberedEvents(count), 'no_stream');
  return stream;
}

export function appendContract(h: HarnessAccess): void {
  describe('append with an expected revision', () => {
    const success: [string, number, ExpectedRevision, number][] = [
      // [case, events already in the stream, expected, nextExpectedRevision after appending 2]
      ['any on a new stream', 0, 'any', 1],
      ['any on an existing stream', 3, 'any', 4],
      ['no_stream on a new stream', 0, 'no_stream', 1],
      ['stream_exists on an existing stream', 1, 'stream_exists', 2],
      ['the exact revision', 3, 2, 4],
    ];
    for (const [name, existing, expected, next] of success) {
      it(`succeeds: ${name}`, async () => {
        const { store } = h.current();
        const stream = await streamWith(store, existing);
        const result = await store.append(stream, numberedEvents(2, existing), expected);
        expect(result.nextExpectedRevision).toBe(next);
        const events = await store.readStream(stream);
        expect(events.map((e) => e.revision)).toEqual([...Array(existing + 2).keys()]);
        expect(events.map((e) => (e.data as { n: number }).n)).toEqual([...Array(existing + 2).keys()]);
        expect(result.position).toBe(events.at(-1)!.position);
      });
    }

    const conflicts: [string, number, ExpectedRevision, number | 'no_stream'][] = [
      // [case, events already in the stream, expected, actual revision reported]
      ['no_stream on an existing stream', 1, 'no_stream', 0],
      ['stream_exists on a new stream', 0, 'stream_exists', 'no_stream'],
      ['a revision too low', 3, 1, 2],
      ['a revision too high', 3, 5, 2],
      ['a revision on a new stream', 0, 0, 'no_stream'],
    ];
    for (const [name, existing, expected, actual] of conflicts) {
      it(`throws ConcurrencyError and writes nothing: ${name}`, async () => {
        const { store } = h.current();
        const stream = await streamWith(store, existing);
        await expectConcurrencyError(store.append(stream, numberedEvents(2, 100), expected), {
          stream,
          expected,
          actual,
        });
        expect((await store.readStream(stream)).length).toBe(existing);
      });
    }

    it('lets exactly one of many writers expecting the same revision win', async () => {
      const { store } = h.current();
      const stream = await streamWith(store, 1);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => store.append(stream, [newEvent('Decided', { writer: i })], 0)),
      );
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      expect(won.length).toBe(1);
      for (const lost of outcomes.filter((o) => o.status === 'rejected')) {
        expect(lost.reason).toBeInstanceOf(ConcurrencyError);
        expect((lost.reason as ConcurrencyError).actual).toBe(1);
      }
      expect((await store.readStream(stream)).map((e) => e.revision)).toEqual([0, 1]);
    });
  });

  describe('append is idempotent per event id', () => {
    it('answers a re-appended batch with the original result and writes nothing', async () => {
      const { store } = h.current();
      const stream = uniqueName('idem');
      const batch = numberedEvents(3);
      const first = await store.append(stream, batch, 'no_stream');
      await store.append(stream, numberedEvents(2, 3), 2);
      // The retry of the first append still expects no stream: it is answered, not refused.
      expect(await store.append(stream, batch, 'no_stream')).toEqual(first);
      expect(await store.append(stream, batch, 'any')).toEqual(first);
      expect(await store.append(stream, batch.slice(0, 2), 'any')).toEqual({
        nextExpectedRevision: 1,
        position: (await store.readStream(stream))[1]!.position,
      });
      const events = await store.readStream(stream);
      expect(events.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4]);
      expect(ids(events.slice(0, 3))).toEqual(ids(batch as { id: string }[]));
    });

    for (const expected of ['any', 'no_stream'] as const) {
      it(`gives two concurrent identical appends the same result (expected ${expected})`, async () => {
        const { store } = h.current();
        for (let round = 0; round < 10; round++) {
          const stream = uniqueName('twin');
          const batch = numberedEvents(3);
          const [a, b] = await Promise.all([
            store.append(stream, batch, expected),
            store.append(stream, batch, expected),
          ]);
          expect(a).toEqual(b);
          expect(a.nextExpectedRevision).toBe(2);
          expect(ids(await store.readStream(stream))).toEqual(ids(batch as { id: string }[]));
        }
      });
    }
  });

  describe('append edge cases', () => {
    it('appends zero events as a check of the expected revision only', async () => {
      const { store } = h.current();
      const stream = await streamWith(store, 2);
      const last = (await store.readStream(stream))[1]!;
      expect(await store.append(stream, [], 1)).toEqual({ nextExpectedRevision: 1, position: last.position });
      expect(await store.append(stream, [], 'stream_exists')).toEqual({
        nextExpectedRevision: 1,
        position: last.position,
      });
      await expectConcurrencyError(store.append(stream, [], 0), { stream, expected: 0, actual: 1 });
      await expectConcurrencyError(store.append(stream, [], 'no_stream'), {
        stream,
        expected: 'no_stream',
        actual: 1,
      });
      const missing = uniqueName('none');
      expect((await store.append(missing, [], 'no_stream')).nextExpectedRevision).toBe(-1);
      await expectConcurrencyError(store.append(missing, [], 'stream_exists'), {
        stream: missing,
        expected: 'stream_exists',
        actual: 'no_stream',
      });
      expect(await store.readStream(missing)).toEqual([]);
      expect((await store.readStream(stream)).length).toBe(2);
    });

    it('round-trips ids, types, data, metadata and timestamps', async () => {
      const { store } = h.current();
      const stream = uniqueName('trip');
      const data = { text: 'grüße ✓ "quoted" \\ back', nested: { list: [1, 2.5, null, true] }, empty: {} };
      const metadata = {
        correlationId: 'corr',
        causationId: 'cause',
        actor: 'user:ada',
        traceparent: 'tp',
        term: 7,
      };
      const before = Date.now();
      await store.append(stream, [
        { type: 'Shaped', data, metadata },
        { type: 'Nothing', data: null, metadata },
      ]);
      const [shaped, nothing] = await store.readStream(stream);
      expect(shaped).toMatchObject({ streamName: stream, revision: 0, type: 'Shaped', data, metadata });
      expect(nothing).toMatchObject({ revision: 1, type: 'Nothing', data: null });
      expect(shaped!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(shaped!.id).not.toBe(nothing!.id);
      expect(shaped!.createdAt).toBeInstanceOf(Date);
      expect(Math.abs(shaped!.createdAt.getTime() - before)).toBeLessThan(5_000);
    });

    it('rejects bad input with ValidationError', async () => {
      const { store } = h.current();
      const stream = uniqueName('bad');
      const bad: [string, () => Promise<unknown>][] = [
        ['empty stream name', () => store.append('', [newEvent()])],
        ['negative revision', () => store.append(stream, [newEvent()], -1)],
        ['fractional revision', () => store.append(stream, [newEvent()], 1.5)],
        ['unknown expectation', () => store.append(stream, [newEvent()], 'latest' as ExpectedRevision)],
        ['empty type', () => store.append(stream, [newEvent('')])],
        [
          'an id twice in one batch',
          () => store.append(stream, [newEvent('A', 1, sameId), newEvent('B', 2, sameId)]),
        ],
      ];
      for (const [, attempt] of bad) {
        await expect(attempt()).rejects.toBeInstanceOf(ValidationError);
      }
      expect(await store.readStream(stream)).toEqual([]);
    });
  });
}

const sameId = '6f1c1a52-3f5e-4a57-9c55-0b7d6f3c2a10';
