/**
 * AttemptReleased in the read models: a claimed-ahead attempt handed back unstarted closes its
 * `attempts` row as `released` and puts its task back to pending — only while that attempt is
 * the task's current, running one, as `evolve` does — and is not counted as work of its worker.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { requestRun } from '../../../src/commands/index.js';
import { streams } from '../../../src/events/schemas/index.js';
import { createReadModelDb, ReadModelQueries, replayReadModels } from '../../../src/projections/index.js';
import { DagVersions, loadRun } from '../../../src/scheduler/run-loader.js';
import { createTestDatabase } from '../../support/database.js';
import { testStore } from '../../support/engine.js';
import { waitUntilVisible } from './support.js';
import { registerSyntheticDag } from './synthetic.js';

const db = await createTestDatabase();
const store = testStore(db);
const queries = new ReadModelQueries(createReadModelDb(db.pool));
const meta = { correlationId: 'rel', causationId: 'rel', actor: 'test' };
const at = (s: number) => `2033-03-01T00:00:${String(s).padStart(2, '0')}.000Z`;
let waiting = '';
let stray = '';

/** Queues extract's attempt 1, lets `w-r` claim it ahead of a slot (after `between`), and release it. */
async function claimAndRelease(runId: string, between: () => Promise<void> = async () => {}) {
  const ref = { runId, taskId: 'extract', attempt: 1 };
  await store.append(streams.run(runId), [
    { type: 'TaskQueued', data: { taskId: 'extract', attempt: 1, term: 1, queuedAt: at(1) }, metadata: meta },
  ]);
  await between();
  await store.append(streams.attempt(runId, 'extract', 1), [
    {
      type: 'AttemptStarted',
      data: { ...ref, workerId: 'w-r', startedAt: at(2), startWithinMs: 250 },
      metadata: meta,
    },
  ]);
  return store.append(
    streams.attempt(runId, 'extract', 1),
    [
      {
        type: 'AttemptReleased',
        data: { ...ref, releasedAt: at(3), reason: 'no free slot' },
        metadata: meta,
      },
    ],
    0,
  );
}

beforeAll(async () => {
  await registerSyntheticDag(store, 'rdag');
  waiting = (await requestRun({ store, metadata: meta }, { dagId: 'rdag' }, new Date(at(0)))).runId;
  await claimAndRelease(waiting);
  stray = (await requestRun({ store, metadata: meta }, { dagId: 'rdag' }, new Date(at(0)))).runId;
  // Claimed after the run was cancelled: a stray attempt, whose release must not revive the task.
  const last = await claimAndRelease(stray, async () => {
    await store.append(streams.run(stray), [
      { type: 'RunCancelRequested', data: { requestedAt: at(1) }, metadata: meta },
      { type: 'RunCancelled', data: { term: 1, finishedAt: at(1) }, metadata: meta },
    ]);
  });
  await waitUntilVisible(store, last.position);
  await replayReadModels({ store, pool: db.pool, batchSize: 3 });
});

describe('a released attempt in the read models', () => {
  it('closes the attempt unstarted and puts its running task back to pending', async () => {
    expect(await queries.getTaskAttempts(waiting, 'extract')).toEqual([
      {
        runId: waiting,
        taskId: 'extract',
        attempt: 1,
        workerId: 'w-r',
        status: 'released',
        startedAt: at(2),
        finishedAt: at(3),
        durationMs: null,
        exitCode: null,
        httpStatus: null,
        failure: null,
        output: null,
        abandonedByTerm: null,
        logs: { stdout: null, stderr: null },
      },
    ]);
    const run = await queries.getRun(waiting);
    expect(run).toMatchObject({
      status: 'running',
      tasks: { total: 3, pending: 3, active: 0, succeeded: 0, failed: 0, skipped: 0, cancelled: 0 },
    });
    expect(run?.taskInstances[0]).toMatchObject({
      taskId: 'extract',
      status: 'pending',
      attempt: 1,
      startedAt: null,
      finishedAt: null,
      workerId: null,
    });
  });

  it('leaves the task of a stray attempt as it was', async () => {
    const run = await queries.getRun(stray);
    expect(run?.taskInstances.map((t) => t.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect((await queries.getTaskAttempts(stray, 'extract')).map((a) => a.status)).toEqual(['released']);
  });

  it('agrees with the scheduler fold on every task', async () => {
    const dags = new DagVersions(store);
    for (const runId of [waiting, stray]) {
      const loaded = await loadRun(store, dags, runId);
      const folded = [...(loaded?.state.tasks.values() ?? [])].map((t) => [t.plan.id, t.status]);
      const projected = (await queries.getRun(runId))?.taskInstances.map((t) => [t.taskId, t.status]);
      expect(projected).toEqual(folded);
    }
  });

  it('counts no work for the worker, only its last sign of life', async () => {
    const { rows } = await db.pool.query(
      `SELECT attempts_started, attempts_succeeded, attempts_failed, attempts_abandoned, last_seen_at
         FROM workers WHERE id = 'w-r'`,
    );
    expect(rows).toEqual([
      {
        attempts_started: 2,
        attempts_succeeded: 0,
        attempts_failed: 0,
        attempts_abandoned: 0,
        last_seen_at: new Date(at(3)),
      },
    ]);
  });
});
