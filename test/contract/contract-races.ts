/**
 * Contract: no event is skipped (invariant 4). Transactions that commit out of the order they
 * wrote in, scripted by hand, and many writers at once; a live subscriber and readAll must agree
 * and miss nothing.
 */
import { describe, expect, it } from 'vitest';
import type { EventStore, GlobalPosition, RecordedEvent } from '../../src/events/types.js';
import type { HarnessAccess, OpenTransaction } from './event-store.contract.js';
import { Collector, ids, newEvent, numberedEvents, readAllUntil, sleep, uniqueName } from './support.js';

/** Where two id lists first differ, for a readable failure on 16,000 events. */
function firstDifference(a: readonly string[], b: readonly string[]): string {
  const i = a.findIndex((id, index) => id !== b[index]);
  return i < 0 && a.length === b.length ? 'none' : `index ${i < 0 ? Math.min(a.length, b.length) : i}`;
}

/**
 * A reader that looked while one transaction was still open, then resumed from its last
 * position once both had committed, saw each event exactly once, in readAll's order.
 */
async function expectResumeMissesNothing(
  store: EventStore,
  ns: string,
  seenBefore: readonly RecordedEvent[],
  total: number,
): Promise<RecordedEvent[]> {
  const after: GlobalPosition | undefined = seenBefore.at(-1)?.position;
  const rest = await readAllUntil(store, { after, streamPrefixes: [ns] }, total - seenBefore.length);
  const final = await readAllUntil(store, { streamPrefixes: [ns] }, total);
  expect(final.length).toBe(total);
  expect(ids([...seenBefore, ...rest])).toEqual(ids(final));
  return final;
}

export function raceContract(h: HarnessAccess): void {
  describe('no event is skipped', () => {
    it('delivers a transaction that wrote first but committed after a later one', async (context) => {
      const { store, race } = h.current();
      if (!race) return context.skip('the adapter has no race helper');
      const ns = uniqueName('race');
      const collector = new Collector(store.subscribe({ streamPrefixes: [ns] }));
      const [slowEvent, fastEvent] = [newEvent('WroteFirst'), newEvent('CommittedFirst')];
      const slow = await race.begin();
      await slow.append(`${ns}-slow`, [slowEvent]);
      await store.append(`${ns}-fast`, [fastEvent]);
      const between = await store.readAll({ streamPrefixes: [ns] });
      await sleep(150); // the live subscriber looks now too, and must not move past the slow one
      await slow.commit();
      const final = await expectResumeMissesNothing(store, ns, between, 2);
      expect(new Set(ids(final))).toEqual(new Set([slowEvent.id, fastEvent.id]));
      expect(ids(await collector.waitFor(2))).toEqual(ids(final));
      await sleep(100);
      expect(collector.events.length).toBe(2);
      await collector.close();
    });

    const orders = [
      ['older', 'older'],
      ['older', 'younger'],
      ['younger', 'older'],
      ['younger', 'younger'],
    ] as const;
    for (const [writesFirst, commitsFirst] of orders) {
      it(`two open transactions: the ${writesFirst} writes first, the ${commitsFirst} commits first`, async (context) => {
        const { store, race } = h.current();
        if (!race) return context.skip('the adapter has no race helper');
        const ns = uniqueName('race2');
        const collector = new Collector(store.subscribe({ streamPrefixes: [ns] }));
        const tx: Record<Who, OpenTransaction> = { older: await race.begin(), younger: await race.begin() };
        type Who = 'older' | 'younger';
        const other = (who: Who): Who => (who === 'older' ? 'younger' : 'older');
        const event = { older: newEvent('Older'), younger: newEvent('Younger') };
        for (const who of [writesFirst, other(writesFirst)])
          await tx[who].append(`${ns}-${who}`, [event[who]]);
        await tx[commitsFirst].commit();
        const between = await store.readAll({ streamPrefixes: [ns] });
        await sleep(100);
        await tx[other(commitsFirst)].commit();
        const final = await expectResumeMissesNothing(store, ns, between, 2);
        expect(new Set(ids(final))).toEqual(new Set([event.older.id, event.younger.id]));
        expect(ids(await collector.waitFor(2))).toEqual(ids(final));
        await sleep(100);
        expect(collector.events.length).toBe(2);
        await collector.close();
      });
    }

    it('a rolled-back transaction leaves no event and blocks nothing', async (context) => {
      const { store, race } = h.current();
      if (!race) return context.skip('the adapter has no race helper');
      const ns = uniqueName('rollback');
      const collector = new Collector(store.subscribe({ streamPrefixes: [ns] }));
      const open = await race.begin();
      await open.append(`${ns}-gone`, [newEvent('Gone')]);
      const kept = newEvent('Kept');
      await store.append(`${ns}-kept`, [kept]);
      await open.rollback();
      expect(ids(await collector.waitFor(1))).toEqual([kept.id]);
      expect(ids(await readAllUntil(store, { streamPrefixes: [ns] }, 1))).toEqual([kept.id]);
      expect(await store.readStream(`${ns}-gone`)).toEqual([]);
      await collector.close();
    });

    it('8 concurrent writers × 2,000 events: a live subscriber gets each once, in readAll order', async () => {
      const { store } = h.current();
      const ns = uniqueName('load');
      const [writers, perWriter, streamsPerWriter] = [8, 2_000, 4];
      const total = writers * perWriter;
      // Started before the writers, and live (nothing under ns yet) when they begin.
      const collector = new Collector(store.subscribe({ streamPrefixes: [ns], batchSize: 1_000 }));
      await sleep(50);
      const sizes = [1, 4, 10, 25, 60]; // one event per append and batches, mixed
      const started = Date.now();
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let written = 0, k = 0; written < perWriter; k++) {
            const size = Math.min(sizes[k % sizes.length]!, perWriter - written);
            await store.append(`${ns}-w${w}-${k % streamsPerWriter}`, numberedEvents(size, written, `W${w}`));
            written += size;
          }
        }),
      );
      const received = await collector.waitFor(total, 25_000);
      const elapsed = Date.now() - started;
      const final = await readAllUntil(store, { streamPrefixes: [ns] }, total);
      expect(final.length).toBe(total);
      expect(new Set(ids(received)).size).toBe(total);
      expect(firstDifference(ids(received), ids(final))).toBe('none');
      // Each writer's events arrive in the order it wrote them; each stream's revisions are dense.
      const byWriter = new Map<string, number[]>();
      const byStream = new Map<string, number[]>();
      const push = (map: Map<string, number[]>, key: string, value: number) => {
        const list = map.get(key) ?? [];
        list.push(value);
        map.set(key, list);
      };
      for (const e of received) {
        push(byWriter, e.type, (e.data as { n: number }).n);
        push(byStream, e.streamName, e.revision);
      }
      expect(byWriter.size).toBe(writers);
      for (const numbers of byWriter.values()) expect(numbers).toEqual([...Array(perWriter).keys()]);
      for (const revisions of byStream.values()) expect(revisions).toEqual([...revisions.keys()]);
      await sleep(100);
      expect(collector.events.length).toBe(total);
      expect(elapsed).toBeLessThan(25_000);
      await collector.close();
    }, 30_000);
  });
}
