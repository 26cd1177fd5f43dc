/**
 * A synthetic event log: runs whose scheduler and worker events are appended directly, in the
 * order the real engine appends them, with fixed timestamps. Much faster than running tasks, so
 * tests can have hundreds of runs and many projector batches.
 */
import { registerDag, requestRun } from '../../../src/commands/index.js';
import { parseDagOrThrow } from '../../../src/dag/index.js';
import { streams } from '../../../src/events/schemas/index.js';
import type { EventStore, NewEvent } from '../../../src/events/types.js';

/** extract → transform → load; extract gives up after one attempt, transform after two. */
export const SYNTHETIC_DAG = (name: string, description = 'synthetic') => `
name: ${name}
description: ${description}
tasks:
  - { id: extract, type: shell, command: "true" }
  - id: transform
    type: shell
    command: "true"
    dependencies: [extract]
    retry: { maxAttempts: 2, backoff: fixed, initialDelay: 1s }
  - { id: load, type: shell, command: "true", dependencies: [transform] }
`;

/**
 * - succeeded: every task succeeds on its first attempt;
 * - failed: transform fails twice (a retry, then the DLQ), load is upstream-failed;
 * - discarded: as failed, then the DLQ item is discarded;
 * - requeued: extract is dead-lettered, the run fails, a DLQ retry runs everything to success;
 * - cancelled: cancelled while extract runs; its attempt is abandoned;
 * - released: claimed ahead of a slot, extract's attempt 1 is released, attempt 2 succeeds;
 *   transform fails attempt 1, its attempt 2 is released, and attempt 3 — its second try —
 *   succeeds; load succeeds.
 */
export type Scenario = 'succeeded' | 'failed' | 'discarded' | 'requeued' | 'cancelled' | 'released';
export const SCENARIOS: readonly Scenario[] = [
  'succeeded',
  'failed',
  'discarded',
  'requeued',
  'cancelled',
  'released',
];

const meta = { correlationId: 'synthetic', causationId: 'synthetic', actor: 'test' };
const exit1 = { kind: 'exit_code', message: 'exit 1', exitCode: 1 } as const;

export async function registerSyntheticDag(store: EventStore, name: string, description?: string) {
  return registerDag({ store, metadata: meta }, parseDagOrThrow(SYNTHETIC_DAG(name, description)));
}

/** Appends a whole run of `scenario`, requested at `at`; returns its id. */
export async function appendRun(
  store: EventStore,
  dagId: string,
  scenario: Scenario,
  at: Date,
  worker = 'w-1',
): Promise<string> {
  const { runId } = await requestRun({ store, metadata: meta }, { dagId }, at);
  let clock = at.getTime();
  const time = () => new Date(++clock).toISOString();
  const plan: [stream: string, event: Omit<NewEvent, 'metadata'>][] = [];
  const run = (type: string, data: object) => plan.push([streams.run(runId), { type, data }]);
  const attempt = (taskId: string, n: number, type: string, data: object) =>
    plan.push([streams.attempt(runId, taskId, n), { type, data: { runId, taskId, attempt: n, ...data } }]);
  const succeed = (taskId: string, n = 1) => {
    run('TaskQueued', { taskId, attempt: n, term: 1, queuedAt: time() });
    attempt(taskId, n, 'AttemptStarted', { workerId: worker, startedAt: time() });
    attempt(taskId, n, 'AttemptSucceeded', { finishedAt: time(), durationMs: 1, exitCode: 0, output: { n } });
  };
  /** Claimed ahead of a free slot, and handed back unstarted. */
  const release = (taskId: string, n: number) => {
    run('TaskQueued', { taskId, attempt: n, term: 1, queuedAt: time() });
    attempt(taskId, n, 'AttemptStarted', { workerId: worker, startedAt: time(), startWithinMs: 500 });
    attempt(taskId, n, 'AttemptReleased', { releasedAt: time(), reason: 'no free slot within 500 ms' });
  };
  const fail = (taskId: string, n: number) => {
    run('TaskQueued', { taskId, attempt: n, term: 1, queuedAt: time() });
    attempt(taskId, n, 'AttemptStarted', { workerId: worker, startedAt: time() });
    attempt(taskId, n, 'AttemptFailed', { finishedAt: time(), durationMs: 1, exitCode: 1, failure: exit1 });
  };
  switch (scenario) {
    case 'succeeded':
      for (const taskId of ['extract', 'transform', 'load']) succeed(taskId);
      run('RunSucceeded', { term: 1, finishedAt: time() });
      break;
    case 'failed':
    case 'discarded':
      succeed('extract');
      fail('transform', 1);
      run('TaskRetryScheduled', {
        taskId: 'transform',
        attempt: 1,
        term: 1,
        failure: exit1,
        retryAt: time(),
      });
      fail('transform', 2);
      run('TaskDeadLettered', {
        taskId: 'transform',
        attempt: 2,
        term: 1,
        failure: exit1,
        deadLetteredAt: time(),
      });
      run('TaskUpstreamFailed', { taskId: 'load', term: 1 });
      run('RunFailed', { term: 1, finishedAt: time(), deadLettered: ['transform'] });
      if (scenario === 'discarded') {
        run('DeadLetterDiscarded', { taskId: 'transform', attempt: 2, discardedAt: time() });
      }
      break;
    case 'requeued':
      fail('extract', 1);
      run('TaskDeadLettered', {
        taskId: 'extract',
        attempt: 1,
        term: 1,
        failure: exit1,
        deadLetteredAt: time(),
      });
      run('TaskUpstreamFailed', { taskId: 'transform', term: 1 });
      run('TaskUpstreamFailed', { taskId: 'load', term: 1 });
      run('RunFailed', { term: 1, finishedAt: time(), deadLettered: ['extract'] });
      run('TaskRequeued', { taskId: 'extract', requeuedAt: time() });
      succeed('extract', 2);
      succeed('transform');
      succeed('load');
      run('RunSucceeded', { term: 1, finishedAt: time() });
      break;
    case 'cancelled':
      run('TaskQueued', { taskId: 'extract', attempt: 1, term: 1, queuedAt: time() });
      attempt('extract', 1, 'AttemptStarted', { workerId: worker, startedAt: time() });
      run('RunCancelRequested', { reason: 'enough', requestedAt: time() });
      attempt('extract', 1, 'AttemptAbandoned', {
        failure: { kind: 'cancelled', message: 'run cancelled' },
        term: 1,
        abandonedAt: time(),
      });
      run('RunCancelled', { term: 1, finishedAt: time() });
      break;
    case 'released':
      release('extract', 1);
      succeed('extract', 2);
      fail('transform', 1);
      run('TaskRetryScheduled', {
        taskId: 'transform',
        attempt: 1,
        term: 1,
        failure: exit1,
        retryAt: time(),
      });
      release('transform', 2);
      succeed('transform', 3);
      succeed('load');
      run('RunSucceeded', { term: 1, finishedAt: time() });
      break;
    default: {
      const never: never = scenario;
      throw new Error(`unknown scenario ${String(never)}`);
    }
  }
  // Consecutive events of one stream go in one append, as the engine batches them.
  for (let i = 0; i < plan.length; ) {
    const stream = plan[i]?.[0] as string;
    const batch: NewEvent[] = [];
    for (; i < plan.length && plan[i]?.[0] === stream; i++) batch.push({ ...plan[i]![1], metadata: meta });
    await store.append(stream, batch);
  }
  return runId;
}

/** Appends `count` runs cycling through the scenarios, requested one second apart from `from`. */
export async function appendRuns(store: EventStore, dagId: string, count: number, from: Date) {
  const ids: { runId: string; scenario: Scenario }[] = [];
  for (let i = 0; i < count; i++) {
    const scenario = SCENARIOS[i % SCENARIOS.length] as Scenario;
    const runId = await appendRun(store, dagId, scenario, new Date(from.getTime() + i * 1000), `w-${i % 3}`);
    ids.push({ runId, scenario });
  }
  return ids;
}
