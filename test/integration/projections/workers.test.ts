/**
 * The `workers` table, from attempts and from the `workers` stream (WorkerJoined/Left/Lost, each
 * at the time the leader saw it), and DAG pause/resume.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { pauseDag, requestRun, resumeDag } from '../../../src/commands/index.js';
import { streams } from '../../../src/events/schemas/index.js';
import { createReadModelDb, ReadModelQueries, replayReadModels } from '../../../src/projections/index.js';
import { createTestDatabase } from '../../support/database.js';
import { testStore } from '../../support/engine.js';
import { waitUntilVisible } from './support.js';
import { appendRun, registerSyntheticDag } from './synthetic.js';

const db = await createTestDatabase();
const store = testStore(db);
const meta = { correlationId: 'w', causationId: 'w', actor: 'test' };
const ctx = { store, metadata: meta };
let lostRun = '';
const joined = {
  workerId: 'w-b',
  term: 7,
  at: '2032-01-02T00:00:00.000Z',
  capacity: 4,
  labels: ['gpu'],
  version: '0.1.0',
  host: 'h1',
};

beforeAll(async () => {
  await registerSyntheticDag(store, 'wdag');
  await appendRun(store, 'wdag', 'succeeded', new Date('2032-01-01T00:00:00.000Z'), 'w-a');
  lostRun = (await requestRun(ctx, { dagId: 'wdag' }, new Date('2032-01-01T00:01:00.000Z'))).runId;
  const ref = { runId: lostRun, taskId: 'extract', attempt: 1 };
  await store.append(streams.run(lostRun), [
    {
      type: 'TaskQueued',
      data: { taskId: 'extract', attempt: 1, term: 7, queuedAt: '2032-01-01T00:01:01.000Z' },
      metadata: meta,
    },
  ]);
  await store.append(streams.attempt(lostRun, 'extract', 1), [
    {
      type: 'AttemptStarted',
      data: { ...ref, workerId: 'w-a', startedAt: '2032-01-01T00:01:02.000Z' },
      metadata: meta,
    },
    {
      type: 'AttemptAbandoned',
      data: {
        ...ref,
        failure: { kind: 'worker_lost', message: 'gone' },
        term: 7,
        abandonedAt: '2032-01-01T00:01:05.500Z',
      },
      metadata: meta,
    },
  ]);
  await store.append('workers', [
    { type: 'WorkerJoined', data: joined, metadata: meta },
    {
      type: 'WorkerLeft',
      data: { workerId: 'w-b', term: 7, at: '2032-01-02T01:00:00.000Z' },
      metadata: meta,
    },
    {
      type: 'WorkerLost',
      data: { workerId: 'w-c', term: 7, at: '2032-01-03T00:00:00.000Z', reason: 'lease expired' },
      metadata: meta,
    },
  ]);
  await pauseDag(ctx, 'wdag', 'later');
  await resumeDag(ctx, 'wdag', new Date('2032-02-01T00:00:00.000Z'));
  const [resumed] = (await store.readStream(streams.dag('wdag'))).slice(-1);
  await waitUntilVisible(store, resumed!.position);
  await replayReadModels({ store, pool: db.pool });
});

describe('workers and DAG state', () => {
  it('derives workers from their attempts and from the workers stream', async () => {
    const { rows } = await db.pool.query('SELECT * FROM workers ORDER BY id');
    expect(rows).toEqual([
      {
        id: 'w-a',
        status: 'lost',
        info: null,
        joined_at: null,
        left_at: null,
        lost_at: new Date('2032-01-01T00:01:05.500Z'),
        first_seen_at: new Date('2032-01-01T00:00:00.002Z'),
        last_seen_at: new Date('2032-01-01T00:01:02.000Z'),
        attempts_started: 4,
        attempts_succeeded: 3,
        attempts_failed: 0,
        attempts_abandoned: 1,
      },
      {
        id: 'w-b',
        status: 'left',
        info: joined,
        joined_at: new Date('2032-01-02T00:00:00.000Z'),
        left_at: new Date('2032-01-02T01:00:00.000Z'),
        lost_at: null,
        first_seen_at: new Date('2032-01-02T00:00:00.000Z'),
        last_seen_at: new Date('2032-01-02T01:00:00.000Z'),
        attempts_started: 0,
        attempts_succeeded: 0,
        attempts_failed: 0,
        attempts_abandoned: 0,
      },
      {
        id: 'w-c',
        status: 'lost',
        info: null,
        joined_at: null,
        left_at: null,
        lost_at: new Date('2032-01-03T00:00:00.000Z'),
        first_seen_at: new Date('2032-01-03T00:00:00.000Z'),
        last_seen_at: new Date('2032-01-03T00:00:00.000Z'),
        attempts_started: 0,
        attempts_succeeded: 0,
        attempts_failed: 0,
        attempts_abandoned: 0,
      },
    ]);
    const queries = new ReadModelQueries(createReadModelDb(db.pool));
    expect(await queries.getTaskAttempts(lostRun, 'extract')).toMatchObject([
      { status: 'abandoned', durationMs: 3500, abandonedByTerm: 7, failure: { kind: 'worker_lost' } },
    ]);
    // The attempt was abandoned but the scheduler has not decided yet: the task still runs.
    expect((await queries.getRun(lostRun))?.taskInstances[0]).toMatchObject({
      status: 'running',
      lastError: { kind: 'worker_lost', message: 'gone' },
    });
  });

  it('records a pause and a resume', async () => {
    const dag = await new ReadModelQueries(createReadModelDb(db.pool)).getDag('wdag');
    expect(dag).toMatchObject({ paused: false, pausedReason: null, updatedAt: '2032-02-01T00:00:00.000Z' });
  });
});
