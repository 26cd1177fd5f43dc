/** Contract: reading one stream and $all — order, paging, prefix filters, bad checkpoints. */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { comparePositions } from '../../src/events/position.js';
import type { GlobalPosition, RecordedEvent } from '../../src/events/types.js';
import type { HarnessAccess } from './event-store.contract.js';
import { ids, newEvent, numberedEvents, readAllUntil, uniqueName } from './support.js';

const numbers = (events: readonly RecordedEvent[]) => events.map((e) => (e.data as { n: number }).n);

export function readContract(h: HarnessAccess): void {
  describe('readStream', () => {
    it('returns the stream in revision order, from a revision, at most maxCount', async () => {
      const { store } = h.current();
      const stream = uniqueName('rs');
      await store.append(stream, numberedEvents(4));
      await store.append(uniqueName('other'), numberedEvents(2, 100));
      await store.append(stream, numberedEvents(3, 4));
      expect(numbers(await store.readStream(stream))).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect((await store.readStream(stream)).map((e) => e.revision)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(numbers(await store.readStream(stream, { fromRevision: 5 }))).toEqual([5, 6]);
      expect(numbers(await store.readStream(stream, { fromRevision: 2, maxCount: 3 }))).toEqual([2, 3, 4]);
      expect(await store.readStream(stream, { fromRevision: 7 })).toEqual([]);
      expect(await store.readStream(uniqueName('missing'))).toEqual([]);
    });

    it('rejects a negative fromRevision and a zero maxCount', async () => {
      const { store } = h.current();
      await expect(store.readStream('s', { fromRevision: -1 })).rejects.toBeInstanceOf(ValidationError);
      await expect(store.readStream('s', { maxCount: 0 })).rejects.toBeInstanceOf(ValidationError);
    });
  });

  describe('readAll', () => {
    it('returns sequential appends in append order, positions strictly increasing', async () => {
      const { store } = h.current();
      const ns = uniqueName('ra');
      const start = (await store.append(`${ns}-mark`, [newEvent('Mark')])).position;
      const appended: string[] = [];
      for (let i = 0; i < 6; i++) {
        const event = newEvent('Step', { n: i });
        await store.append(`${ns}-${i % 2 === 0 ? 'a' : 'b'}`, [event]);
        appended.push(event.id!);
      }
      const events = await readAllUntil(store, { after: start, streamPrefixes: [ns] }, 6);
      expect(ids(events)).toEqual(appended);
      expect(numbers(events)).toEqual([0, 1, 2, 3, 4, 5]);
      for (let i = 1; i < events.length; i++) {
        expect(comparePositions(events[i - 1]!.position, events[i]!.position)).toBe(-1);
      }
      // A batch keeps its order, and the append's position is its last event's.
      const batch = numberedEvents(3, 10);
      const result = await store.append(`${ns}-c`, batch);
      const after = await readAllUntil(store, { after: events.at(-1)!.position, streamPrefixes: [ns] }, 3);
      expect(ids(after)).toEqual(batch.map((e) => e.id));
      expect(after.at(-1)!.position).toBe(result.position);
    });

    it('pages with maxCount and after, without gaps or repeats', async () => {
      const { store } = h.current();
      const ns = uniqueName('page');
      for (let i = 0; i < 5; i++) await store.append(`${ns}-${i % 3}`, numberedEvents(3, i * 3));
      const all = await readAllUntil(store, { streamPrefixes: [ns] }, 15);
      expect(numbers(all)).toEqual([...Array(15).keys()]);
      const pages: RecordedEvent[][] = [];
      let after: GlobalPosition | undefined;
      for (;;) {
        const page = await store.readAll({ after, maxCount: 4, streamPrefixes: [ns] });
        if (page.length === 0) break;
        pages.push(page);
        after = page.at(-1)!.position;
      }
      expect(pages.map((p) => p.length)).toEqual([4, 4, 4, 3]);
      expect(ids(pages.flat())).toEqual(ids(all));
    });

    it('filters by stream name prefixes, taking the prefix literally', async () => {
      const { store } = h.current();
      const ns = uniqueName('pf');
      const names = [`${ns}-run-1`, `${ns}-dag-1`, `${ns}-run_x`, `${ns}-runny`, `${ns}-a%b`, `${ns}-axb`];
      for (const [i, name] of names.entries()) await store.append(name, [newEvent('E', { n: i })]);
      await readAllUntil(store, { streamPrefixes: [ns] }, names.length);
      const streamsOf = async (prefixes: string[]) =>
        (await store.readAll({ streamPrefixes: prefixes })).map((e) => e.streamName);
      expect(await streamsOf([`${ns}-run-`])).toEqual([`${ns}-run-1`]);
      expect(await streamsOf([`${ns}-run`])).toEqual([`${ns}-run-1`, `${ns}-run_x`, `${ns}-runny`]);
      expect(await streamsOf([`${ns}-run_`])).toEqual([`${ns}-run_x`]);
      expect(await streamsOf([`${ns}-a%`])).toEqual([`${ns}-a%b`]);
      expect(await streamsOf([`${ns}-dag-`, `${ns}-run-`])).toEqual([`${ns}-run-1`, `${ns}-dag-1`]);
      expect(await streamsOf([`${ns}-nothing`])).toEqual([]);
    });

    it('rejects a malformed checkpoint with a ValidationError', async () => {
      const { store } = h.current();
      for (const after of ['', '12', 'zz', '0000000000000001-000000000000000G']) {
        await expect(store.readAll({ after: after as GlobalPosition })).rejects.toBeInstanceOf(
          ValidationError,
        );
      }
    });
  });
}
