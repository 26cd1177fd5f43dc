/** Contract: subscriptions — start, checkpoint, end, closing, connection loss, Observable. */
import { firstValueFrom, take as takeFirst, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { toObservable } from '../../src/events/subscription.js';
import type { HarnessAccess } from './event-store.contract.js';
import {
  Collector,
  eventually,
  ids,
  newEvent,
  numberedEvents,
  readAllUntil,
  sleep,
  take,
  uniqueName,
} from './support.js';

export function subscriptionContract(h: HarnessAccess): void {
  describe('subscribe', () => {
    it("from 'start' catches up in batches, then goes live", async () => {
      const { store } = h.current();
      const ns = uniqueName('sub');
      for (let i = 0; i < 4; i++) await store.append(`${ns}-${i % 2}`, numberedEvents(2, i * 2));
      const expected = await readAllUntil(store, { streamPrefixes: [ns] }, 8);
      const subscription = store.subscribe({ from: 'start', streamPrefixes: [ns], batchSize: 3 });
      const iterator = subscription[Symbol.asyncIterator]();
      expect(await take(iterator, 8)).toEqual(expected);
      const live = numberedEvents(2, 8);
      await store.append(`${ns}-0`, live);
      expect(ids(await take(iterator, 2))).toEqual(ids(live as { id: string }[]));
      await subscription.close();
      expect(await iterator.next()).toEqual({ done: true, value: undefined });
    });

    it('resumes from a checkpoint without gaps or duplicates', async () => {
      const { store } = h.current();
      const ns = uniqueName('resume');
      await store.append(`${ns}-a`, numberedEvents(5));
      await store.append(`${ns}-b`, numberedEvents(5, 5));
      const all = await readAllUntil(store, { streamPrefixes: [ns] }, 10);
      const first = store.subscribe({ streamPrefixes: [ns], batchSize: 2 });
      const seen = await take(first[Symbol.asyncIterator](), 4);
      await first.close();
      const checkpoint = seen.at(-1)!.position;
      const second = store.subscribe({ from: checkpoint, streamPrefixes: [ns], batchSize: 2 });
      const iterator = second[Symbol.asyncIterator]();
      expect(ids(await take(iterator, 6))).toEqual(ids(all.slice(4)));
      const live = numberedEvents(3, 10);
      await store.append(`${ns}-a`, live);
      expect(ids(await take(iterator, 3))).toEqual(ids(live as { id: string }[]));
      await second.close();
    });

    it("from 'end' delivers only events appended after subscribing", async () => {
      const { store } = h.current();
      const ns = uniqueName('end');
      await store.append(`${ns}-old`, numberedEvents(3));
      await readAllUntil(store, { streamPrefixes: [ns] }, 3);
      const collector = new Collector(store.subscribe({ from: 'end', streamPrefixes: [ns] }));
      // The subscription finds "the end" asynchronously, so an append right after subscribe()
      // may land before it. Keep appending markers until one arrives; every later one must follow.
      let markers = 0;
      while (collector.events.length === 0) {
        if (markers === 100) throw new Error('no marker arrived');
        await store.append(`${ns}-new`, [newEvent('Marker', { n: markers++ })]);
        await sleep(25);
      }
      await store.append(`${ns}-new`, numberedEvents(2, 0, 'After'));
      const firstMarker = (collector.events[0]!.data as { n: number }).n;
      const count = markers - firstMarker + 2;
      const received = await collector.waitFor(count);
      await collector.close();
      expect(collector.events.length).toBe(count);
      expect(received.map((e) => `${e.type}:${(e.data as { n: number }).n}`)).toEqual([
        ...Array.from({ length: markers - firstMarker }, (_, i) => `Marker:${firstMarker + i}`),
        'After:0',
        'After:1',
      ]);
    });

    it('close() ends a pending next() and every later one', async () => {
      const { store } = h.current();
      const subscription = store.subscribe({ from: 'end', streamPrefixes: [uniqueName('quiet')] });
      const iterator = subscription[Symbol.asyncIterator]();
      const pending = iterator.next();
      await sleep(100);
      const started = Date.now();
      await subscription.close();
      expect(await pending).toEqual({ done: true, value: undefined });
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(await iterator.next()).toEqual({ done: true, value: undefined });
    });

    it('store.close() ends the subscriptions it created', async () => {
      const { store } = h.current();
      const iterator = store.subscribe({ from: 'end' })[Symbol.asyncIterator]();
      const pending = iterator.next();
      await sleep(50);
      await store.close();
      expect(await pending).toEqual({ done: true, value: undefined });
    });

    for (const ending of ['close()', 'break'] as const) {
      it(`${ending} releases every connection the subscription opened`, async (context) => {
        const { store, connectionCount } = h.current();
        if (!connectionCount) return context.skip('the adapter cannot count its connections');
        const ns = uniqueName('leak');
        await store.append(`${ns}-a`, numberedEvents(3));
        await readAllUntil(store, { streamPrefixes: [ns] }, 3);
        const baseline = await connectionCount();
        const subscription = store.subscribe({ streamPrefixes: [ns] });
        let received = 0;
        for await (const _ of subscription) {
          received++;
          if (received === 3) {
            // Live now: the subscription holds its own connection for wake-ups.
            await eventually(async () => expect(await connectionCount()).toBeGreaterThan(baseline));
            if (ending === 'break') break;
            await subscription.close();
          }
        }
        expect(received).toBe(3);
        await eventually(async () => expect(await connectionCount()).toBe(baseline));
      });
    }

    it('keeps delivering when its notification connection is killed', async (context) => {
      const { store, killSubscriptionConnections } = h.current();
      if (!killSubscriptionConnections) return context.skip('the adapter cannot kill its connections');
      const ns = uniqueName('kill');
      const collector = new Collector(store.subscribe({ from: 'end', streamPrefixes: [ns] }));
      const before = newEvent('Before');
      // Wait until the subscription is live and listening, then cut its connection.
      let lastWarmup = '';
      await eventually(async () => {
        if (collector.events.length === 0) {
          const warmup = newEvent('Warmup');
          await store.append(`${ns}-x`, [warmup]);
          lastWarmup = warmup.id!;
        }
        expect(collector.events.length).toBeGreaterThan(0);
        expect(await killSubscriptionConnections()).toBe(1);
      });
      // A slow delivery can have made the loop append several warmups: let the last one arrive
      // (the ones before it have then arrived too, or were older than the subscription's end).
      await eventually(() => expect(ids(collector.events)).toContain(lastWarmup));
      const warmups = collector.events.length;
      await store.append(`${ns}-x`, [before]);
      await collector.waitFor(warmups + 1);
      expect(collector.events.at(-1)!.id).toBe(before.id);
      // It reconnected: killing again finds a fresh connection (and delivery survives that too).
      await eventually(async () => expect(await killSubscriptionConnections()).toBe(1));
      const after = numberedEvents(5, 0, 'After');
      for (const event of after) await store.append(`${ns}-x`, [event]);
      const received = await collector.waitFor(warmups + 6);
      expect(ids(received.slice(warmups + 1))).toEqual(ids(after as { id: string }[]));
      await collector.close();
    });

    it('is available as an rxjs Observable that closes the subscription on unsubscribe', async () => {
      const { store, connectionCount } = h.current();
      const ns = uniqueName('rx');
      const events = numberedEvents(5);
      await store.append(`${ns}-a`, events);
      await readAllUntil(store, { streamPrefixes: [ns] }, 5);
      const baseline = await connectionCount?.();
      const observable = toObservable(store.subscribe({ streamPrefixes: [ns], batchSize: 2 }));
      const observed = await firstValueFrom(observable.pipe(takeFirst(3), toArray()));
      expect(ids(observed)).toEqual(ids(events.slice(0, 3) as { id: string }[]));
      // take(3) unsubscribed, which closed the subscription; the Observable is single-use.
      await expect(firstValueFrom(observable)).rejects.toThrow(/single-use/);
      if (connectionCount) await eventually(async () => expect(await connectionCount()).toBe(baseline));
    });
  });
}
