/**
 * The scheduler's metrics, read from a real registry after a real engine ran a DAG on Postgres:
 * what the leader decided by type, the retry it scheduled, the dead letter, the wait of every
 * claimed attempt, and a decision conflict provoked by a command appending to the run.
 */
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { cancelRun } from '../../../src/commands/index.js';
import { registerDecisionMetrics } from '../../../src/observability/scheduler-metrics.js';
import { createTestDatabase } from '../../support/database.js';
import { startRun, testEngine, testStore, waitForRunEnd } from '../../support/engine.js';

const db = await createTestDatabase();
const store = testStore(db);
const registry = new Registry();
const engine = await testEngine(db, store, { metrics: registerDecisionMetrics(registry) });
afterAll(() => engine.stop());

/** The value of one sample, by metric name (with suffix) and labels; 0 when absent. */
async function sample(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metrics = await registry.getMetricsAsJSON();
  const base = name.replace(/_(count|sum|bucket)$/, '');
  const metric = metrics.find((m) => m.name === base);
  const values = (metric?.values ?? []) as { metricName?: string; labels: object; value: number }[];
  const found = values.find(
    (v) =>
      (v.metricName ?? base) === name &&
      Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l),
  );
  return found?.value ?? 0;
}

describe('scheduler metrics', () => {
  it('count decisions by type, the waits of claimed attempts, and decide/append timings', async () => {
    const runId = await startRun(
      store,
      `
name: metered
tasks:
  - { id: a, type: noop }
  - { id: b, type: noop, dependencies: [a] }
  - id: flaky
    type: shell
    command: exit 3
    retry: { maxAttempts: 2, backoff: fixed, initialDelay: 10ms }
`,
    );
    const run = await waitForRunEnd(store, runId, 30_000);
    expect(run.at(-1)?.type).toBe('RunFailed');
    // a, b, flaky twice: four attempts queued, each claimed once.
    expect(await sample('dagrun_scheduler_decisions_total', { type: 'TaskQueued' })).toBe(4);
    expect(await sample('dagrun_scheduler_decisions_total', { type: 'TaskRetryScheduled' })).toBe(1);
    expect(await sample('dagrun_scheduler_decisions_total', { type: 'TaskDeadLettered' })).toBe(1);
    expect(await sample('dagrun_scheduler_decisions_total', { type: 'RunFailed' })).toBe(1);
    expect(await sample('dagrun_dispatcher_claim_wait_seconds_count')).toBe(4);
    expect(await sample('dagrun_scheduler_decision_append_seconds_count')).toBeGreaterThanOrEqual(4);
    expect(await sample('dagrun_scheduler_decide_pass_seconds_count')).toBeGreaterThanOrEqual(4);
  });

  it('count attempts the leader abandons, by failure kind', async () => {
    const runId = await startRun(
      store,
      `
name: slow
tasks:
  - id: sleepy
    type: shell
    command: sleep 30
`,
    );
    // Wait for the claim, then cancel: the leader abandons the running attempt.
    for (let i = 0; i < 200; i++) {
      const events = await store.readStream(`attempt-${runId}-sleepy-1`);
      if (events.length > 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await cancelRun({ store, metadata: { correlationId: 'test', actor: 'test' } }, runId);
    const cancelled = await waitForRunEnd(store, runId, 30_000);
    expect(cancelled.at(-1)?.type).toBe('RunCancelled');
    expect(await sample('dagrun_scheduler_abandoned_attempts_total', { kind: 'cancelled' })).toBe(1);
  });
});
