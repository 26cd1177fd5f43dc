/**
 * A differential test of batch planning (src/projections/batch-plan.ts): a real engine writes a
 * varied log — many interleaved runs, retries, dead letters, a DLQ retry, a cancellation, skips,
 * workers-stream events — and that log is projected into fresh databases twice: event by event
 * (each event its own batch: the per-event handlers' statements in log order, the reference) and
 * in batches cut at random sizes, where the task happy path is applied set-wise. Every read-model
 * table must come out the same. Synthetic runs with released attempts (claimed ahead of a slot,
 * handed back unstarted) are appended after the engine's, interleaved with each other.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { cancelRun, registerDag, requestRun, retryDeadLetter } from '../../../src/commands/index.js';
import { parseDagOrThrow } from '../../../src/dag/index.js';
import { streams } from '../../../src/events/schemas/index.js';
import type { GlobalPosition, RecordedEvent } from '../../../src/events/types.js';
import {
  applyBatch,
  createReadModelDb,
  loadCheckpoint,
  READ_MODEL_TABLES,
  READ_MODELS_PROJECTION,
} from '../../../src/projections/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { attemptEvents, testEngine, testStore, waitForRunEnd } from '../../support/engine.js';
import { snapshotReadModels, waitUntilVisible } from './support.js';
import { appendRun, registerSyntheticDag } from './synthetic.js';

const meta = { correlationId: 'plan', actor: 'test' };

const wide = [
  'name: wide',
  'tasks:',
  ...Array.from({ length: 12 }, (_, i) => `  - { id: t${i}, type: noop }`),
];
const mixed = [
  'name: mixed',
  'tasks:',
  '  - { id: a, type: noop }',
  '  - { id: b, type: noop, dependencies: [a] }',
  '  - id: c',
  '    type: shell',
  '    command: exit 1',
  '    retry: { maxAttempts: 2, initialDelay: 10ms, jitter: none }',
  '    dependencies: [a]',
  '  - { id: d, type: noop, dependencies: [b, c], triggerRule: all_done }',
  '  - { id: e, type: noop, dependencies: [c] }',
  '  - { id: f, type: noop, dependencies: [c], triggerRule: one_failed }',
  '  - { id: g, type: noop, dependencies: [b], triggerRule: all_failed }',
];
const slow = [
  'name: slow',
  'tasks:',
  '  - { id: nap, type: shell, command: sleep 30 }',
  '  - { id: after, type: noop, dependencies: [nap] }',
];

let log: RecordedEvent[] = [];
const reference = await createTestDatabase();
const target = await createTestDatabase();

beforeAll(async () => {
  const source = await createTestDatabase();
  const store = testStore(source);
  const engine = await testEngine(source, store, { workers: 3, concurrency: 4 });
  try {
    const ctx = { store, metadata: meta };
    for (const lines of [wide, mixed, slow]) await registerDag(ctx, parseDagOrThrow(`${lines.join('\n')}\n`));
    const runs: string[] = [];
    for (let i = 0; i < 24; i++) {
      runs.push((await requestRun(ctx, { dagId: i % 4 === 3 ? 'mixed' : 'wide' })).runId);
    }
    const cancelled = (await requestRun(ctx, { dagId: 'slow' })).runId;
    const firstMixed = runs[3]!;
    await waitForRunEnd(store, firstMixed);
    await retryDeadLetter(ctx, firstMixed, 'c');
    // Cancelled while its task runs: the leader abandons the attempt.
    while ((await attemptEvents(store, cancelled, 'nap')).length === 0)
      await new Promise((r) => setTimeout(r, 20));
    await cancelRun(ctx, cancelled, 'enough');
    await store.append('workers', [
      {
        type: 'WorkerJoined',
        data: {
          workerId: 'remote-1',
          term: 1,
          at: new Date().toISOString(),
          capacity: 2,
          labels: [],
          version: '0',
        },
        metadata: { ...meta, causationId: 'plan' },
      },
    ]);
    for (const runId of [...runs, cancelled]) await waitForRunEnd(store, runId);
    await waitForRunEnd(store, firstMixed); // reopened by the retry; failed again
    const lost = await store.append('workers', [
      {
        type: 'WorkerLost',
        data: { workerId: 'remote-1', term: 1, at: new Date().toISOString(), reason: 'test' },
        metadata: { ...meta, causationId: 'plan' },
      },
    ]);
    await waitUntilVisible(store, lost.position);
  } finally {
    await engine.stop();
  }
  // With the engine stopped, so no leader decides on them.
  await registerSyntheticDag(store, 'synthetic');
  const from = Date.parse('2030-01-01T00:00:00Z');
  const released = await Promise.all(
    [0, 1, 2].map((i) => appendRun(store, 'synthetic', 'released', new Date(from + i), `w-${i}`)),
  );
  const ends = await Promise.all(
    released.map(async (id) => (await store.readStream(streams.run(id))).at(-1)),
  );
  await waitUntilVisible(
    store,
    ends
      .map((e) => e!.position)
      .sort()
      .at(-1)!,
  );
  log = await store.readAll();
  await store.close();
}, 120_000);

/** Projects the whole log from scratch into `db`, in batches of the given sizes (cycled). */
async function project(db: TestDatabase, sizes: readonly number[]): Promise<Record<string, unknown[]>> {
  await db.pool.query(`TRUNCATE ${[...READ_MODEL_TABLES, 'projection_checkpoints'].join(', ')}`);
  const kysely = createReadModelDb(db.pool);
  let { position } = await loadCheckpoint(kysely, READ_MODELS_PROJECTION);
  let at = 0;
  for (let i = 0; at < log.length; i++) {
    const size = sizes[i % sizes.length]!;
    const batch = log.slice(at, at + size);
    position = (await applyBatch(kysely, READ_MODELS_PROJECTION, batch, position as GlobalPosition)).position;
    at += size;
  }
  await kysely.destroy();
  return snapshotReadModels(db.pool);
}

describe('batch planning', () => {
  it('has a varied log to work on', () => {
    const types = new Set(log.map((e) => e.type));
    for (const type of [
      'TaskQueued',
      'AttemptStarted',
      'AttemptSucceeded',
      'AttemptFailed',
      'TaskRetryScheduled',
      'TaskDeadLettered',
      'TaskRequeued',
      'TaskSkipped',
      'TaskUpstreamFailed',
      'RunCancelRequested',
      'AttemptAbandoned',
      'AttemptReleased',
      'RunCancelled',
      'RunSucceeded',
      'RunFailed',
      'WorkerJoined',
      'WorkerLost',
    ]) {
      expect(types, type).toContain(type);
    }
    expect(log.length).toBeGreaterThan(500);
  });

  it('leaves every table as the per-event statements do, however the log is cut into batches', async () => {
    const perEvent = await project(reference, [1]);
    expect(perEvent['runs']).toHaveLength(28);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }),
        async (sizes) => {
          expect(await project(target, sizes)).toEqual(perEvent);
        },
      ),
      { numRuns: 5 },
    );
  }, 120_000);
});
