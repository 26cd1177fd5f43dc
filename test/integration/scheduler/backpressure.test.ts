/**
 * Backpressure, read off the log: with a backlog bound of B, the scheduler never has more than B
 * attempts queued and not yet claimed, however wide the DAG; the rest waits as pending tasks.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/cli/engine.js';
import { createTestDatabase } from '../../support/database.js';
import { startRun, testEngine, testStore, waitForRunEnd } from '../../support/engine.js';

const db = await createTestDatabase();
const store = testStore(db);
let engine: Engine | undefined;
afterAll(() => engine?.stop());

describe('backpressure', () => {
  it('keeps queued-but-unclaimed attempts under the backlog bound for a 300-task fan-out', async () => {
    const BOUND = 25;
    engine = await testEngine(db, store, { maxBacklog: BOUND, workers: 2, concurrency: 4 });
    const tasks = Array.from({ length: 300 }, (_, i) => `  - { id: t${i}, type: noop }`).join('\n');
    const runId = await startRun(store, `name: wide\ntasks:\n${tasks}\n`);
    const final = await waitForRunEnd(store, runId, 60_000);
    expect(final.at(-1)?.type).toBe('RunSucceeded');

    const events = await store.readAll({ streamPrefixes: [`run-${runId}`, `attempt-${runId}-`] });
    let unclaimed = 0;
    let peak = 0;
    for (const event of events) {
      if (event.type === 'TaskQueued') unclaimed++;
      if (event.type === 'AttemptStarted') unclaimed--;
      peak = Math.max(peak, unclaimed);
    }
    expect(events.filter((e) => e.type === 'TaskQueued')).toHaveLength(300);
    expect(unclaimed).toBe(0);
    // One decision batch may fill the budget it was given: the bound holds at every point.
    expect(peak).toBeLessThanOrEqual(BOUND);
    expect(peak).toBeGreaterThan(0);
  }, 120_000);
});
