/**
 * The leader's timers against a wall clock that is behind the timers' own: a retry's wake-up
 * that fires before `now` reaches it must not be lost (the run used to stall after
 * TaskRetryScheduled until something else woke it). Real Postgres, a real leader and worker.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../../src/scheduler/dispatcher.js';
import { SCHEDULER_FENCE, SchedulerLeader } from '../../../src/scheduler/leader.js';
import { PostgresAttemptLogStore } from '../../../src/workers/attempt-logs.js';
import { TaskTypeRouter } from '../../../src/workers/executors/index.js';
import { Worker } from '../../../src/workers/worker.js';
import { createTestDatabase } from '../../support/database.js';
import { silentLog, startRun, testStore, waitForRunEnd } from '../../support/engine.js';

const db = await createTestDatabase();
const store = testStore(db);
afterAll(() => store.close());

describe('leader timers', () => {
  it('decide a retry when it is due even if the timer fires before the clock gets there', async () => {
    // A wall clock running at half speed: every timer fires "early" by its reading.
    const origin = Date.now();
    const slowClock = () => origin + (Date.now() - origin) / 2;
    const term = await store.nextTerm(SCHEDULER_FENCE);
    let leader: SchedulerLeader | undefined;
    const dispatcher = new Dispatcher({ maxBacklog: 100, onRoom: () => leader?.onRoom() });
    leader = new SchedulerLeader({ store, dispatcher, term, log: silentLog, now: slowClock });
    const started = leader;
    const worker = new Worker({
      capacity: 1,
      source: dispatcher,
      store,
      executor: new TaskTypeRouter({}),
      logs: new PostgresAttemptLogStore(db.pool),
      log: silentLog,
      baseDir: '.',
    });
    await worker.start();
    await started.start();
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
      await worker.drain(1000);
      await started.stop();
    }
  });
});
