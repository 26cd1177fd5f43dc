/**
 * The EventStoreDB adapter's own logic — paging and filtering $all, read-back positions, empty
 * appends, fences, retries, the subscription wrapper — over an in-memory imitation of the client
 * (eventstoredb-fake-client.ts). This is not a test of EventStoreDB: the contract against a real
 * server is test/contract/eventstoredb.contract.test.ts (needs ESDB_URL or Docker). The shared
 * contract runs here too, against the imitation, to drive the adapter through every path the port
 * defines; where the imitation and a server differ, the real-server run is the one that counts.
 */
import { TimeoutError, UnavailableError } from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import { ConflictError, FencedError, ValidationError } from '../../../src/errors.js';
import {
  EventStoreDbEventStore,
  FENCE_STREAM_PREFIX,
  FENCE_WINDOW_LIMITATION,
  fenceStream,
} from '../../../src/events/eventstoredb/index.js';
import { describeEventStoreContract } from '../../contract/event-store.contract.js';
import { Collector, eventually, ids, newEvent, numberedEvents, take } from '../../contract/support.js';
import { FakeEsdbClient } from './eventstoredb-fake-client.js';

function storeOver(fake = new FakeEsdbClient(), options: { readPageSize?: number } = {}) {
  return { fake, store: new EventStoreDbEventStore({ client: fake.asClient(), ...options }) };
}

describeEventStoreContract('EventStoreDbEventStore over an in-memory imitation of the client', async () => {
  const { store } = storeOver(new FakeEsdbClient(), { readPageSize: 64 });
  return { store, knownLimitations: { fencedAppendRace: FENCE_WINDOW_LIMITATION } };
});

describe('EventStoreDbEventStore (adapter logic)', () => {
  it("answers an append with the last event's own position, not the server's commit position", async () => {
    const { fake, store } = storeOver();
    const result = await store.append('run-1', numberedEvents(3), 'no_stream');
    const events = await store.readStream('run-1');
    expect(result).toEqual({ nextExpectedRevision: 2, position: events[2]!.position });
    // The imitation reports (commit, commit) like the server; the three events share the commit.
    const reported = fake.log.at(-3)!.position;
    expect(result.position).not.toBe(`${reported.commit.toString(16).padStart(16, '0')}-${'0'.repeat(16)}`);
  });

  it('checks an empty append against the last event without writing', async () => {
    const { fake, store } = storeOver();
    await store.append('run-2', numberedEvents(2));
    const appends = fake.calls.filter((c) => c.method === 'appendToStream').length;
    expect((await store.append('run-2', [], 1)).nextExpectedRevision).toBe(1);
    await expect(store.append('run-2', [], 0)).rejects.toMatchObject({ actual: 1, expected: 0 });
    expect(fake.calls.filter((c) => c.method === 'appendToStream').length).toBe(appends);
  });

  it('leaves system events and fencing terms out of readAll and subscriptions', async () => {
    const { fake, store } = storeOver();
    await store.nextTerm('scheduler');
    await store.append('run-3', [newEvent('A')]);
    fake.system('$stats-127.0.0.1:2113', '$statsCollected');
    fake.system('$$run-3', '$metadata');
    await store.append('run-3', [newEvent('B')]);
    const all = await store.readAll();
    expect(all.map((e) => e.type)).toEqual(['A', 'B']);
    const subscription = store.subscribe();
    expect((await take(subscription[Symbol.asyncIterator](), 2)).map((e) => e.type)).toEqual(['A', 'B']);
    await subscription.close();
    expect(fake.log.some((e) => e.streamId === fenceStream('scheduler'))).toBe(true);
  });

  it('pages through $all, filtering by prefix, without gaps or repeats at page edges', async () => {
    const { fake, store } = storeOver(new FakeEsdbClient(), { readPageSize: 5 });
    for (let i = 0; i < 12; i++) {
      await store.append(`run-${i % 3}`, numberedEvents(2, i * 2));
      await store.append(`dag-${i}`, [newEvent('Other')]);
      if (i % 4 === 0) fake.system('$stats-x', '$statsCollected');
    }
    const runs = await store.readAll({ streamPrefixes: ['run-'] });
    expect(runs.map((e) => (e.data as { n: number }).n)).toEqual([...Array(24).keys()]);
    const firstSeven = await store.readAll({ streamPrefixes: ['run-'], maxCount: 7 });
    const rest = await store.readAll({ streamPrefixes: ['run-'], after: firstSeven.at(-1)!.position });
    expect(ids([...firstSeven, ...rest])).toEqual(ids(runs));
  });

  it('refuses reserved stream names and system event types', async () => {
    const { store } = storeOver();
    for (const stream of ['$stats', `${FENCE_STREAM_PREFIX}scheduler`]) {
      await expect(store.append(stream, [newEvent()])).rejects.toBeInstanceOf(ValidationError);
    }
    await expect(store.append('run-4', [newEvent('$metadata')])).rejects.toBeInstanceOf(ValidationError);
  });

  it('reports a batch that only partly repeats earlier events under any as idempotency_mismatch', async () => {
    const { store } = storeOver();
    const batch = numberedEvents(2);
    await store.append('run-5', batch);
    const error = await store.append('run-5', [batch[0]!, newEvent()]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).code).toBe('idempotency_mismatch');
  });

  it('retries an append the server did not answer, with the same ids, and gets one copy', async () => {
    const { fake, store } = storeOver();
    const original = fake.appendToStream.bind(fake);
    let calls = 0;
    fake.appendToStream = async (...args: Parameters<typeof original>) => {
      calls++;
      const result = await original(...args);
      // The first attempt commits, but its answer is lost.
      if (calls === 1) throw new TimeoutError(undefined, 'timed out');
      return result;
    };
    const result = await store.append('run-6', numberedEvents(2), 'no_stream');
    expect(calls).toBe(2);
    expect(result.nextExpectedRevision).toBe(1);
    expect((await store.readStream('run-6')).length).toBe(2);
  });

  it('checks the fence before appending, again before a retry, and never writes when refused', async () => {
    const { fake, store } = storeOver();
    const term = await store.nextTerm('k');
    const original = fake.appendToStream.bind(fake);
    let failFirst = true;
    fake.appendToStream = async (...args: Parameters<typeof original>) => {
      if (args[0] === 'run-7' && failFirst) {
        failFirst = false;
        // The attempt is lost before it reaches the server; meanwhile a new leader takes over.
        await store.nextTerm('k');
        throw new UnavailableError(undefined, 'gone');
      }
      return original(...args);
    };
    await expect(
      store.append('run-7', [newEvent()], 'any', { fence: { key: 'k', term } }),
    ).rejects.toBeInstanceOf(FencedError);
    expect(await store.readStream('run-7')).toEqual([]);
  });

  it('hands out terms as fence-stream revision + 1, strictly increasing under concurrency', async () => {
    const { store } = storeOver();
    const terms = await Promise.all(Array.from({ length: 20 }, () => store.nextTerm('busy')));
    expect([...terms].sort((a, b) => a - b)).toEqual([...Array(20).keys()].map((i) => i + 1));
  });

  it('reopens a dropped subscription from its last event: no gap, no repeat', async () => {
    const { fake, store } = storeOver();
    const collector = new Collector(store.subscribe({ streamPrefixes: ['run-'], batchSize: 2 }));
    await store.append('run-8', numberedEvents(5));
    await collector.waitFor(5);
    fake.dropSubscriptions();
    await store.append('run-8', numberedEvents(5, 5));
    const received = await collector.waitFor(10);
    expect(received.map((e) => (e.data as { n: number }).n)).toEqual([...Array(10).keys()]);
    expect(fake.calls.filter((c) => c.method === 'subscribeToAll').length).toBe(2);
    await collector.close();
    expect(collector.events.length).toBe(10);
    await eventually(() => expect(fake.liveSubscriptions).toBe(0));
  });

  it('throws from the iterator on an error reconnecting cannot fix', async () => {
    const { fake, store } = storeOver();
    fake.subscribeToAll = () => {
      throw new ValidationError('bad filter', []);
    };
    const iterator = store.subscribe()[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toBeInstanceOf(ValidationError);
  });

  it("buffers at most batchSize events ahead of a consumer that doesn't pull", async () => {
    const { fake, store } = storeOver();
    await store.append('run-9', numberedEvents(200));
    const subscription = store.subscribe({ streamPrefixes: ['run-'], batchSize: 10 });
    const iterator = subscription[Symbol.asyncIterator]();
    await iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const live = fake.calls.filter((c) => c.method === 'subscribeToAll');
    expect(live.length).toBe(1);
    expect((live[0]!.args[1] as { highWaterMark: number }).highWaterMark).toBe(10);
    await subscription.close();
  });
});
