/**
 * The leader's timers against a wall clock that is behind the timers' own: a retry's wake-up
 * that fires before `now` reaches it must not be lost (the run used to stall after
 * TaskRetryScheduled until something else woke it). Real Postgres, a real leader and worker.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../support/database.js';
import { startLeaderAndWorker, startRun, testStore, waitForRunEnd } from '../../support/engine.js';

const db = await createTestDatabase();
const store = testStore(db);
afterAll(() => store.close());

describe('leader timers', () => {
  it('decide a retry when it is due even if the timer fires before the clock gets there', async () => {
    // A wall clock running at half speed: every timer fires "early" by its reading.
    const origin = Date.now();
    const slowClock = () => origin + (Date.now() - origin) / 2;
    const { stop } = await startLeaderAndWorker(db, store, { leader: { now: slowClock } });
    try {
      const runId = await startRun(
        store,
        `
name: retry-timer
tasks:
  - id: second-time-lucky
    type: shell
    command: '[ "$DAGRUN_ATTEMPT" = 2 ]'
    retry: { maxAttempts: 2, backoff: fixed, initialDelay: 200ms, jitter: none }
`,
      );
      const events = await waitForRunEnd(store, runId, 10_000);
      expect(events.map((e) => e.type)).toContain('TaskRetryScheduled');
      expect(events.at(-1)?.type).toBe('RunSucceeded');
    } finally {
      await stop();
    }
  });
});
