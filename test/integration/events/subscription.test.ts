/**
 * Postgres subscription internals the contract cannot see: pull-based paging, read retries and
 * when they give up, the fast re-poll after a hint that is not visible yet, polling without
 * LISTEN, and a clean shutdown.
 */

import pg from 'pg';
import { firstValueFrom } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { commitOf, decodePosition } from '../../../src/events/position.js';
import {
  appendToStream,
  isTransient,
  PostgresEventStore,
  type PostgresSubscribeOptions,
  PostgresSubscription,
  type Queryable,
} from '../../../src/events/postgres/index.js';
import { toObservable } from '../../../src/events/subscription.js';
import { countConnections, postgresRaceHelper } from '../../contract/postgres-race.js';
import {
  Collector,
  eventually,
  newEvent,
  numberedEvents,
  sleep,
  take,
  uniqueName,
} from '../../contract/support.js';
import { createTestDatabase } from '../../support/database.js';

const database = await createTestDatabase();
const store = new PostgresEventStore({ pool: database.pool });
afterAll(() => store.close());
const LISTEN_APP = 'dagrun-sub-test';

const connectionLost = () => new Error('Connection terminated unexpectedly');
const sqlError = (code: string) => Object.assign(new Error(`sql ${code}`), { code, severity: 'ERROR' });

/** The pool, counting $all reads and failing the first `failures` of them with `error`. */
function instrumentedDb(failures = 0, error: () => Error = connectionLost) {
  let reads = 0;
  const db = {
    query: (text: string, values?: unknown[]) => {
      if (text.includes('horizon')) {
        reads++;
        if (reads <= failures) return Promise.reject(error());
      }
      return database.pool.query(text, values);
    },
  } as unknown as Queryable;
  return { db, reads: () => reads };
}

function subscription(db: Queryable, options: PostgresSubscribeOptions = {}, listenUrl = database.url) {
  return new PostgresSubscription(
    { db, listenConnection: { connectionString: listenUrl, application_name: LISTEN_APP } },
    options,
  );
}

async function appendUnder(ns: string, count: number) {
  await store.append(`${ns}-s`, numberedEvents(count));
}

describe('PostgresSubscription', () => {
  it('reads a page only when the consumer has taken the previous one', async () => {
    const ns = uniqueName('pull');
    await appendUnder(ns, 30);
    // Until every transaction that was open at the append has ended (any test on the server),
    // a read may see fewer events and poll again; wait for that so the count below is exact.
    await eventually(async () => expect(await store.readAll({ streamPrefixes: [ns] })).toHaveLength(30));
    const { db, reads } = instrumentedDb();
    const sub = subscription(db, { streamPrefixes: [ns], batchSize: 10 });
    const iterator = sub[Symbol.asyncIterator]();
    await take(iterator, 5);
    await sleep(100);
    expect(reads()).toBe(1);
    await take(iterator, 10);
    expect(reads()).toBe(2);
    await sub.close();
  });

  it('retries transient read errors and carries on', async () => {
    const ns = uniqueName('retry');
    await appendUnder(ns, 3);
    const { db, reads } = instrumentedDb(2);
    const sub = subscription(db, { streamPrefixes: [ns] });
    const events = await take(sub[Symbol.asyncIterator](), 3);
    expect(events.map((e) => (e.data as { n: number }).n)).toEqual([0, 1, 2]);
    expect(reads()).toBe(3);
    await sub.close();
  });

  it('throws a persistent error after maxReadAttempts, and releases its connection', async () => {
    const { db, reads } = instrumentedDb(Number.POSITIVE_INFINITY);
    const sub = subscription(db, { maxReadAttempts: 3 });
    const started = Date.now();
    await expect(sub[Symbol.asyncIterator]().next()).rejects.toThrow('Connection terminated unexpectedly');
    expect(reads()).toBe(3);
    // Backed off 100 + 200 ms; a wake-up (LISTEN coming up) may cut the first pause short.
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(sub.closed).toBe(true);
    await eventually(async () => expect(await countConnections(database.pool, LISTEN_APP)).toBe(0));
  });

  it('throws an error that retrying cannot fix at once', async () => {
    const { db, reads } = instrumentedDb(Number.POSITIVE_INFINITY, () => sqlError('42P01'));
    const sub = subscription(db);
    await expect(firstValueFrom(toObservable(sub))).rejects.toThrow('sql 42P01');
    expect(reads()).toBe(1);
  });

  it('classifies errors as transient or not', () => {
    expect(isTransient(connectionLost())).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    for (const code of ['08006', '57P01', '57P03', '53300', '40001'])
      expect(isTransient(sqlError(code))).toBe(true);
    for (const code of ['42P01', '22P02', '57014', '23505']) expect(isTransient(sqlError(code))).toBe(false);
    expect(isTransient(new TypeError('bug'))).toBe(false);
    expect(isTransient('string')).toBe(false);
  });

  it('close() ends a subscription that is backing off between failed reads', async () => {
    const { db } = instrumentedDb(Number.POSITIVE_INFINITY);
    const sub = subscription(db, { maxReadAttempts: 100 });
    const pending = sub[Symbol.asyncIterator]().next();
    await sleep(150);
    const started = Date.now();
    await sub.close();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('re-polls quickly after a hint whose events an older open transaction still hides', async () => {
    const ns = uniqueName('chase');
    const { db } = instrumentedDb();
    // A poll interval far above the expected latency: only the fast re-poll can explain a quick delivery.
    const sub = subscription(db, { from: 'end', streamPrefixes: [ns], pollIntervalMs: 3_000 });
    const collector = new Collector(sub);
    await eventually(() => expect(sub.listenerPid).toBeGreaterThan(0));
    const older = await postgresRaceHelper(database.pool).begin();
    const event = newEvent('Hidden');
    await store.append(`${ns}-s`, [event]);
    await sleep(200);
    expect(collector.events).toEqual([]);
    const committed = Date.now();
    await older.commit(); // it wrote nothing, so it notifies nobody
    await collector.waitFor(1, 5_000);
    expect(Date.now() - committed).toBeLessThan(1_500);
    expect(collector.events[0]!.id).toBe(event.id);
    await collector.close();
  });

  it('delivers by polling when LISTEN is impossible, and leaves no timer behind', async () => {
    const ns = uniqueName('poll');
    // Plain clients, not the pool: pool clients arm idle timers of their own and would blur the count.
    const [reader, writer] = [new pg.Client(database.url), new pg.Client(database.url)];
    await Promise.all([reader.connect(), writer.connect()]);
    try {
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = timers();
      const nowhere = 'postgres://postgres@127.0.0.1:1/none';
      const sub = subscription(reader, { streamPrefixes: [ns], pollIntervalMs: 50 }, nowhere);
      const collector = new Collector(sub);
      await sleep(100);
      await appendToStream(writer, `${ns}-s`, numberedEvents(2));
      await collector.waitFor(2, 3_000);
      expect(sub.listenerPid).toBeUndefined();
      expect(timers()).toBeGreaterThan(before); // the poll timer, the LISTEN retry timer
      await collector.close();
      await eventually(() => expect(timers()).toBeLessThanOrEqual(before));
    } finally {
      await Promise.all([reader.end(), writer.end()]);
    }
  });

  it('refuses a second iteration and invalid options', () => {
    const { db } = instrumentedDb();
    const sub = subscription(db);
    sub[Symbol.asyncIterator]();
    expect(() => sub[Symbol.asyncIterator]()).toThrow('only once');
    expect(() => subscription(db, { batchSize: 0 })).toThrow('batchSize');
    expect(() => subscription(db, { from: 'yesterday' as 'end' })).toThrow('invalid global position');
    return sub.close();
  });
});

describe('filtered subscriptions', () => {
  it('skip past events they do not want instead of re-reading them on every poll', async () => {
    const ns = uniqueName('sparse');
    const seen: string[] = [];
    const db = {
      query: (text: string, values?: unknown[]) => {
        if (text.includes('horizon')) seen.push(String(values?.[0]));
        return database.pool.query(text, values);
      },
    } as unknown as Queryable;
    await store.append(`${ns}-wanted`, numberedEvents(1));
    await store.append(uniqueName('unwanted'), numberedEvents(50));
    const sub = subscription(db, { streamPrefixes: [`${ns}-wanted`], pollIntervalMs: 20 });
    const iterator = sub[Symbol.asyncIterator]();
    const [wanted] = await take(iterator, 1);
    const pending = iterator.next();
    // The first read starts from the beginning; later ones start beyond the wanted event's
    // transaction, past the unwanted events that followed it — once those are visible, which a
    // transaction open elsewhere on the server (another test file) can delay for a while.
    const wantedTransaction = decodePosition(wanted!.position).major;
    expect(BigInt(seen[0]!)).toBe(0n);
    await eventually(() => expect(BigInt(seen.at(-1)!)).toBeGreaterThan(wantedTransaction));
    await sub.close();
    expect(await pending).toEqual({ done: true, value: undefined });
  });
});

describe('subscriptions that skip commits', () => {
  it('leave the named commits out of their reads, and say how far they have read', async () => {
    const ns = uniqueName('skip');
    await store.append(`${ns}-a`, numberedEvents(2));
    const skipped = await store.append(`${ns}-b`, numberedEvents(3, 10));
    const last = await store.append(`${ns}-c`, numberedEvents(1, 20));
    const asked: (string | undefined)[] = [];
    const sub = subscription(database.pool, {
      streamPrefixes: [ns],
      skipCommits: (after) => {
        asked.push(after);
        return [commitOf(skipped.position)];
      },
    });
    const iterator = sub[Symbol.asyncIterator]();
    const events = await take(iterator, 3);
    expect(events.map((e) => (e.data as { n: number }).n)).toEqual([0, 1, 20]);
    expect(events.at(-1)?.position).toBe(last.position);
    expect(sub.position).toBe(last.position);
    // Asked before every read, with the position the read starts from.
    expect(asked[0]).toBeUndefined();
    await sub.close();
  });

  it('move their position past skipped commits even when nothing else is delivered', async () => {
    const ns = uniqueName('skip-all');
    const only = await store.append(`${ns}-a`, numberedEvents(2));
    const sub = subscription(database.pool, {
      streamPrefixes: [ns],
      pollIntervalMs: 20,
      skipCommits: () => [commitOf(only.position)],
    });
    const iterator = sub[Symbol.asyncIterator]();
    const pending = iterator.next();
    // Once the append is below the read horizon, the cursor jumps past its commit.
    await eventually(() => expect(sub.position !== undefined && sub.position > only.position).toBe(true));
    await sub.close();
    expect(await pending).toEqual({ done: true, value: undefined });
  });
});
