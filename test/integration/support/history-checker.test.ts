/**
 * The whole-log checker of the cluster tests (test/support/history-checker.ts) on scripted logs
 * with released attempts: a release closes its attempt without being a try, so retries and dead
 * letters are checked against tries, not attempt numbers.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { requestRun } from '../../../src/commands/index.js';
import { streams } from '../../../src/events/schemas/index.js';
import type { NewEvent } from '../../../src/events/types.js';
import { createTestDatabase } from '../../support/database.js';
import { testStore } from '../../support/engine.js';
import { checkHistory, type HistoryReport } from '../../support/history-checker.js';
import { appendRun, registerSyntheticDag } from '../projections/synthetic.js';

const db = await createTestDatabase();
const store = testStore(db);
const meta = { correlationId: 'hc', causationId: 'hc', actor: 'test' };
const exit1 = { kind: 'exit_code', message: 'exit 1', exitCode: 1 } as const;
const runs: Record<string, string> = {};
let report: HistoryReport;

type Step = ['released' | 'failed', number] | ['retry' | 'dead', number];

/**
 * A run of the synthetic DAG (transform: maxAttempts 2) where extract succeeds and transform
 * goes through `steps`, then fails the run.
 */
async function transformRun(steps: Step[]): Promise<string> {
  const { runId } = await requestRun({ store, metadata: meta }, { dagId: 'hdag' });
  let clock = Date.parse('2034-01-01T00:00:00Z');
  const time = () => new Date(++clock).toISOString();
  const append = (stream: string, type: string, data: object) =>
    store.append(stream, [{ type, data, metadata: meta } as NewEvent]);
  const attempt = async (taskId: string, n: number, outcome: 'succeeded' | 'failed' | 'released') => {
    const stream = streams.attempt(runId, taskId, n);
    const ref = { runId, taskId, attempt: n };
    await append(streams.run(runId), 'TaskQueued', { taskId, attempt: n, term: 1, queuedAt: time() });
    const claim = outcome === 'released' ? { startWithinMs: 100 } : {};
    await append(stream, 'AttemptStarted', { ...ref, workerId: 'w', startedAt: time(), ...claim });
    if (outcome === 'released')
      await append(stream, 'AttemptReleased', { ...ref, releasedAt: time(), reason: 'x' });
    else if (outcome === 'failed')
      await append(stream, 'AttemptFailed', { ...ref, finishedAt: time(), durationMs: 1, failure: exit1 });
    else await append(stream, 'AttemptSucceeded', { ...ref, finishedAt: time(), durationMs: 1 });
  };
  await attempt('extract', 1, 'succeeded');
  for (const [kind, n] of steps) {
    if (kind === 'released' || kind === 'failed') await attempt('transform', n, kind);
    else if (kind === 'retry')
      await append(streams.run(runId), 'TaskRetryScheduled', {
        taskId: 'transform',
        attempt: n,
        term: 1,
        failure: exit1,
        retryAt: time(),
      });
    else
      await append(streams.run(runId), 'TaskDeadLettered', {
        taskId: 'transform',
        attempt: n,
        term: 1,
        failure: exit1,
        deadLetteredAt: time(),
      });
  }
  await append(streams.run(runId), 'TaskUpstreamFailed', { taskId: 'load', term: 1 });
  await append(streams.run(runId), 'RunFailed', { term: 1, finishedAt: time(), deadLettered: ['transform'] });
  return runId;
}

beforeAll(async () => {
  await registerSyntheticDag(store, 'hdag');
  runs['synthetic'] = await appendRun(store, 'hdag', 'released', new Date('2034-01-01T00:00:00Z'));
  // Two tries (attempts 2 and 3) around a release: dead-lettered where the tries ran out.
  runs['exhausted'] = await transformRun([
    ['released', 1],
    ['failed', 2],
    ['retry', 2],
    ['released', 3],
    ['failed', 4],
    ['dead', 4],
  ]);
  // Attempt 2 was its first try: a dead letter there is one try early.
  runs['early'] = await transformRun([
    ['released', 1],
    ['failed', 2],
    ['dead', 2],
  ]);
  // Attempt 3 was its second and last try: no retry may follow.
  runs['late'] = await transformRun([
    ['failed', 1],
    ['retry', 1],
    ['released', 2],
    ['failed', 3],
    ['retry', 3],
    ['dead', 3],
  ]);
  report = await checkHistory(store);
});

describe('the history checker', () => {
  const of = (name: string) => report.violations.filter((v) => v.includes(runs[name] as string));

  it('takes a released attempt for a closed attempt that is not a try', () => {
    expect(of('synthetic')).toEqual([]);
    expect(of('exhausted')).toEqual([]);
  });

  it('finds a dead letter before the tries ran out, counting tries', () => {
    expect(of('early')).toEqual([
      `run ${runs['early']} task transform: dead-lettered after try 1 of 2 (attempt 2) on a retried exit_code`,
    ]);
  });

  it('finds a retry scheduled after the last try', () => {
    expect(of('late')).toEqual([
      `run ${runs['late']} task transform: a retry scheduled after the last try (attempt 3)`,
    ]);
  });

  it('reports nothing else, and counts released attempts among the attempts of the log', () => {
    expect(report.violations).toHaveLength(2);
    expect(report.deadLettered).toBe(3);
    // synthetic 2 + 3 + 1, exhausted 1 + 4, early 1 + 2, late 1 + 3
    expect(report.attempts).toBe(18);
  });
});
