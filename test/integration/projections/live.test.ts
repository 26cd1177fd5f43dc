/**
 * The projector live beside the real engine (real shell tasks, real Postgres): a succeeding DAG,
 * retries into the DLQ (one item discarded, one left open), a cancelled run and a DLQ retry. The
 * read models must hold exactly what the log says, agree with the scheduler's own fold
 * (`evolve`), and come out the same from `replay`.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/cli/engine.js';
import { cancelRun, discardDeadLetter, loadDag, retryDeadLetter } from '../../../src/commands/index.js';
import { streams } from '../../../src/events/schemas/index.js';
import type { RecordedEvent } from '../../../src/events/types.js';
import {
  createReadModelDb,
  Projector,
  ReadModelQueries,
  replayReadModels,
} from '../../../src/projections/index.js';
import { evolve, type SchedulerEvent } from '../../../src/scheduler/core/evolve.js';
import { planFromDag } from '../../../src/scheduler/core/plan.js';
import { initialRunState } from '../../../src/scheduler/core/state.js';
import { createTestDatabase } from '../../support/database.js';
import { startRun, testEngine, testStore, waitForRunEnd } from '../../support/engine.js';
import { catchUp, projectedEventCount, snapshotReadModels } from './support.js';

const db = await createTestDatabase();
const store = testStore(db);
const ctx = { store, metadata: { correlationId: 'live-test', actor: 'test' } };
const queries = new ReadModelQueries(createReadModelDb(db.pool));
let engine: Engine;
let projector: Projector;
const runs: Record<'pipeline' | 'flakyA' | 'flakyB' | 'slow' | 'gate', string> = {
  pipeline: '',
  flakyA: '',
  flakyB: '',
  slow: '',
  gate: '',
};

const FLAKY = `
name: flaky
tasks:
  - id: boom
    type: shell
    command: "echo trying >&2; exit 3"
    retry: { maxAttempts: 2, backoff: fixed, initialDelay: 10ms }
  - { id: after, type: shell, command: "true", dependencies: [boom] }
`;

async function waitFor(runId: string, type: string, after = 0): Promise<RecordedEvent[]> {
  for (let i = 0; i < 400; i++) {
    const events = await store.readStream(streams.run(runId));
    if (events.slice(after).some((e) => e.type === type)) return events;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`run ${runId}: no ${type}`);
}

beforeAll(async () => {
  projector = new Projector({ store, pool: db.pool, batchWindowMs: 2 }).start();
  engine = await testEngine(db, store);
  const marker = join(await mkdtemp(join(tmpdir(), 'dagrun-projections-')), 'marker');
  [runs.pipeline, runs.flakyA, runs.slow, runs.gate] = await Promise.all([
    startRun(
      store,
      `
name: pipeline
tasks:
  - { id: extract, type: shell, command: 'printf ''{"rows": 3}'' > "$DAGRUN_OUTPUT"' }
  - { id: transform, type: shell, command: "true", dependencies: [extract] }
  - { id: on_failure, type: shell, command: "true", dependencies: [transform], triggerRule: one_failed }
`,
    ),
    startRun(store, FLAKY),
    startRun(store, 'name: slow\ntasks:\n  - { id: sleep, type: shell, command: "sleep 30" }\n'),
    startRun(
      store,
      `
name: gate
tasks:
  - { id: gate, type: shell, command: 'test -f "${marker}" || { touch "${marker}"; exit 1; }' }
  - { id: finish, type: shell, command: "true", dependencies: [gate] }
`,
    ),
  ]);
  runs.flakyB = await startRun(store, FLAKY);
  await waitFor(runs.slow, 'TaskQueued');
  for (
    let i = 0;
    i < 400 && (await store.readStream(streams.attempt(runs.slow, 'sleep', 1))).length === 0;
    i++
  ) {
    await new Promise((r) => setTimeout(r, 25));
  }
  await cancelRun(ctx, runs.slow, 'no time');
  await Promise.all(Object.values(runs).map((id) => waitForRunEnd(store, id)));
  await discardDeadLetter(ctx, runs.flakyA, 'boom');
  const failed = await store.readStream(streams.run(runs.gate));
  await retryDeadLetter(ctx, runs.gate, 'gate');
  await waitFor(runs.gate, 'RunSucceeded', failed.length);
  await catchUp(projector, store);
}, 60_000);
afterAll(async () => {
  await projector.stop();
  await engine.stop();
});

/** The scheduler's view of a run: its own fold over the run's events, in the global order. */
async function evolvedRun(runId: string, all: RecordedEvent[]) {
  const events = all.filter(
    (e) => e.streamName === streams.run(runId) || (e.data as { runId?: string }).runId === runId,
  );
  const dagId = (events[0]?.data as { dagId?: string } | undefined)?.dagId ?? '';
  const spec = (await loadDag({ store }, dagId)).latest?.spec;
  if (!spec) throw new Error(`no spec for ${dagId}`);
  const state = initialRunState(runId, planFromDag(spec));
  for (const e of events) {
    // evolve tells run events (with a revision) from attempt events (without) by that field.
    const event = e.streamName.startsWith('run-')
      ? { type: e.type, data: e.data, revision: e.revision }
      : { type: e.type, data: e.data };
    evolve(state, event as SchedulerEvent);
  }
  return state;
}

describe('read models beside the live engine', () => {
  it('agree with the scheduler fold on every run and task', async () => {
    const all = await store.readAll();
    for (const runId of Object.values(runs)) {
      const state = await evolvedRun(runId, all);
      const run = await queries.getRun(runId);
      expect(run?.status).toBe(state.status);
      expect(run?.taskInstances.map((t) => [t.taskId, t.status, t.attempt])).toEqual(
        state.plan.tasks.map((p) => [p.id, state.tasks.get(p.id)?.status, state.tasks.get(p.id)?.attempt]),
      );
    }
  });

  it('records a succeeding run: statuses, counters, outputs and timings', async () => {
    const run = await queries.getRun(runs.pipeline);
    expect(run).toMatchObject({
      dagId: 'pipeline',
      dagVersion: 1,
      status: 'succeeded',
      correlationId: 'test',
      cancelRequested: false,
      tasks: { total: 3, pending: 0, active: 0, succeeded: 2, failed: 0, skipped: 1, cancelled: 0 },
    });
    expect(run?.taskInstances.find((t) => t.taskId === 'on_failure')).toMatchObject({
      status: 'skipped',
      attempt: 0,
      skipReason: 'trigger rule one_failed',
    });
    const events = await store.readStream(streams.attempt(runs.pipeline, 'extract', 1));
    const [started, succeeded] = events.map((e) => e.data as Record<string, unknown>);
    expect(await queries.getTaskAttempts(runs.pipeline, 'extract')).toEqual([
      {
        runId: runs.pipeline,
        taskId: 'extract',
        attempt: 1,
        workerId: started?.['workerId'],
        status: 'succeeded',
        startedAt: started?.['startedAt'],
        finishedAt: succeeded?.['finishedAt'],
        durationMs: succeeded?.['durationMs'],
        exitCode: 0,
        httpStatus: null,
        failure: null,
        output: { rows: 3 },
        abandonedByTerm: null,
        // The task printed nothing, so the worker stored no logs.
        logs: { stdout: null, stderr: null },
      },
    ]);
    const task = run?.taskInstances.find((t) => t.taskId === 'extract');
    expect(task).toMatchObject({ status: 'succeeded', attempt: 1, workerId: started?.['workerId'] });
    expect(task?.finishedAt).toBe(succeeded?.['finishedAt']);
  });

  it('records retries, the dead letter and the DLQ items: discarded and open', async () => {
    for (const [runId, status] of [
      [runs.flakyA, 'discarded'],
      [runs.flakyB, 'open'],
    ] as const) {
      const run = await queries.getRun(runId);
      expect(run?.status).toBe('failed');
      expect(run?.tasks).toEqual({
        total: 2,
        pending: 0,
        active: 0,
        succeeded: 0,
        failed: 2,
        skipped: 0,
        cancelled: 0,
      });
      expect(run?.taskInstances.map((t) => [t.taskId, t.status, t.attempt, t.lastError?.kind])).toEqual([
        ['boom', 'dead_lettered', 2, 'exit_code'],
        ['after', 'upstream_failed', 0, undefined],
      ]);
      const attempts = await queries.getTaskAttempts(runId, 'boom');
      expect(
        attempts.map((a) => [a.attempt, a.status, a.exitCode, a.failure?.exitCode, a.logs.stderr?.head]),
      ).toEqual([
        [1, 'failed', 3, 3, 'trying\n'],
        [2, 'failed', 3, 3, 'trying\n'],
      ]);
      const item = await queries.getDlqItem(`${runId}:boom:2`);
      expect(item).toMatchObject({ runId, dagId: 'flaky', taskId: 'boom', attempt: 2, status });
      expect(item?.failure).toMatchObject({ kind: 'exit_code', exitCode: 3 });
      const discarded = (await store.readStream(streams.run(runId))).find(
        (e) => e.type === 'DeadLetterDiscarded',
      );
      expect(item?.closedAt).toBe(
        (discarded?.data as { discardedAt?: string } | undefined)?.discardedAt ?? null,
      );
    }
  });

  it('records a cancelled run and its abandoned attempt', async () => {
    const run = await queries.getRun(runs.slow);
    expect(run).toMatchObject({ status: 'cancelled', cancelRequested: true, cancelReason: 'no time' });
    expect(run?.tasks).toEqual({
      total: 1,
      pending: 0,
      active: 0,
      succeeded: 0,
      failed: 0,
      skipped: 0,
      cancelled: 1,
    });
    const [started, abandoned] = (await store.readStream(streams.attempt(runs.slow, 'sleep', 1))).map(
      (e) => e.data as { startedAt: string; abandonedAt: string; term: number },
    );
    const [attempt] = await queries.getTaskAttempts(runs.slow, 'sleep');
    expect(attempt).toMatchObject({
      status: 'abandoned',
      failure: { kind: 'cancelled' },
      abandonedByTerm: abandoned?.term,
      finishedAt: abandoned?.abandonedAt,
      durationMs: Date.parse(abandoned?.abandonedAt ?? '') - Date.parse(started?.startedAt ?? ''),
    });
  });

  it('records a DLQ retry: the item retried, the run succeeded on attempt 2', async () => {
    const run = await queries.getRun(runs.gate);
    expect(run?.status).toBe('succeeded');
    expect(run?.finishedAt).not.toBeNull();
    expect(run?.tasks).toEqual({
      total: 2,
      pending: 0,
      active: 0,
      succeeded: 2,
      failed: 0,
      skipped: 0,
      cancelled: 0,
    });
    expect((await queries.getTaskAttempts(runs.gate, 'gate')).map((a) => [a.attempt, a.status])).toEqual([
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
    const requeued = (await store.readStream(streams.run(runs.gate))).find((e) => e.type === 'TaskRequeued');
    expect(await queries.getDlqItem(`${runs.gate}:gate:1`)).toMatchObject({
      status: 'retried',
      closedAt: (requeued?.data as { requeuedAt?: string } | undefined)?.requeuedAt,
    });
    const open = await queries.listDlq({ status: 'open' });
    expect(open.items.map((i) => i.id)).toEqual([`${runs.flakyB}:boom:2`]);
  });

  it('counts every worker attempt once, and each event once', async () => {
    const all = await store.readAll();
    const expected = new Map<string, number>();
    for (const e of all.filter((x) => x.type === 'AttemptStarted')) {
      const id = (e.data as { workerId: string }).workerId;
      expected.set(id, (expected.get(id) ?? 0) + 1);
    }
    const { rows } = await db.pool.query('SELECT id, status, attempts_started FROM workers ORDER BY id');
    expect(rows).toEqual(
      [...expected].sort().map(([id, n]) => ({ id, status: 'active', attempts_started: n })),
    );
    expect(projector.status.eventsApplied).toBe(await projectedEventCount(store));
    expect(projector.lagMs).toBe(0);
  });

  it('replay rebuilds tables equal to the live ones', async () => {
    const live = await snapshotReadModels(db.pool);
    await projector.stop();
    const report = await replayReadModels({ store, pool: db.pool });
    expect(report.events).toBe(await projectedEventCount(store));
    expect(await snapshotReadModels(db.pool)).toEqual(live);
  });
});
