/**
 * A new leader starts from the read models' checkpoint (DESIGN.md: "on election it rebuilds only
 * what is live"): it loads the runs active there and follows the log from the checkpoint, so what
 * it reads does not grow with finished history — and a run left active by the previous leader
 * still finishes.
 */
import { Registry } from 'prom-client';
import { afterAll, expect, test } from 'vitest';
import type { Engine } from '../../../src/cli/engine.js';
import type { EventStore, EventSubscription, RecordedEvent } from '../../../src/events/types.js';
import { Projector } from '../../../src/projections/index.js';
import { readLiveRuns } from '../../../src/projections/live-runs.js';
import { createTestDatabase } from '../../support/database.js';
import { silentLog, startRun, testEngine, testStore, waitForRunEnd } from '../../support/engine.js';

const db = await createTestDatabase();
const store = testStore(db);
const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

/** Counts every event read through the store: reads of $all, of streams, and subscriptions. */
function counting(inner: EventStore): { store: EventStore; read: () => number } {
  let read = 0;
  const store: EventStore = {
    append: (s, e, x, o) => inner.append(s, e, x, o),
    readStream: async (s, o) => {
      const events = await inner.readStream(s, o);
      read += events.length;
      return events;
    },
    readAll: async (o) => {
      const events = await inner.readAll(o);
      read += events.length;
      return events;
    },
    subscribe: (o) => {
      const sub = inner.subscribe(o);
      const counted: EventSubscription = {
        close: () => sub.close(),
        async *[Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
          for await (const event of sub) {
            read++;
            yield event;
          }
        },
      };
      return counted;
    },
    nextTerm: (k) => inner.nextTerm(k),
    close: () => inner.close(),
  };
  return { store, read: () => read };
}

const DAG = `
name: history
tasks:
  - { id: a, type: noop }
  - { id: b, type: noop, dependencies: [a] }
  - { id: c, type: noop, dependencies: [b] }
`;

test('a new leader reads the live runs from the checkpoint, not the finished history, and finishes them', async () => {
  const projector = new Projector({ store, pool: db.pool, log: silentLog, registry: new Registry() }).start();
  stops.push(() => projector.stop());
  const first: Engine = await testEngine(db, store, { coalesceAppends: false });
  const finished: string[] = [];
  for (let i = 0; i < 30; i++) finished.push(await startRun(store, DAG));
  for (const runId of finished) await waitForRunEnd(store, runId);
  await first.stop();
  // A run requested while no leader runs: active (queued) in the read models.
  const live = await startRun(store, DAG);
  const history = (await store.readAll()).length;
  for (;;) {
    const snapshot = await readLiveRuns(db.pool);
    if (snapshot?.runIds.includes(live)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const probe = counting(store);
  const second = await testEngine(db, probe.store, { coalesceAppends: false });
  stops.push(() => second.stop());
  const events = await waitForRunEnd(store, live);
  expect(events.at(-1)?.type).toBe('RunSucceeded');
  // The whole log holds 30 finished runs; the leader read a small part of it.
  expect(history).toBeGreaterThan(300);
  expect(probe.read()).toBeLessThan(history / 4);
});

test('without a checkpoint (no projector ever ran) the leader folds the whole log', async () => {
  const other = await createTestDatabase();
  const otherStore = testStore(other);
  expect(await readLiveRuns(other.pool)).toBeUndefined();
  const runId = await startRun(otherStore, DAG);
  const engine = await testEngine(other, otherStore);
  stops.push(() => engine.stop());
  const events = await waitForRunEnd(otherStore, runId);
  expect(events.at(-1)?.type).toBe('RunSucceeded');
});
