/** Test helpers around a real engine on a test database. */
import { tmpdir } from 'node:os';
import { type Engine, type EngineOptions, startEngine } from '../../src/cli/engine.js';
import { registerDag, requestRun } from '../../src/commands/index.js';
import { parseDagOrThrow } from '../../src/dag/index.js';
import { PostgresEventStore } from '../../src/events/postgres/index.js';
import { streams } from '../../src/events/schemas/index.js';
import type { EventStore, RecordedEvent } from '../../src/events/types.js';
import { withSchemaValidation } from '../../src/events/validating-store.js';
import { createLogger } from '../../src/observability/logger.js';
import { Dispatcher } from '../../src/scheduler/dispatcher.js';
import { type LeaderOptions, SCHEDULER_FENCE, SchedulerLeader } from '../../src/scheduler/leader.js';
import { PostgresAttemptLogStore } from '../../src/workers/attempt-logs.js';
import { TaskTypeRouter } from '../../src/workers/executors/index.js';
import { Worker } from '../../src/workers/worker.js';
import type { TestDatabase } from './database.js';

export const silentLog = createLogger({ level: 'error' });

export function testStore(db: TestDatabase): EventStore {
  return withSchemaValidation(new PostgresEventStore({ pool: db.pool }));
}

export async function testEngine(
  db: TestDatabase,
  store: EventStore,
  options: Partial<EngineOptions> = {},
): Promise<Engine> {
  return startEngine({
    store,
    pool: db.pool,
    log: silentLog,
    baseDir: tmpdir(),
    workers: 2,
    concurrency: 4,
    drainGraceMs: 2000,
    ...options,
  });
}

const meta = { correlationId: 'test', actor: 'test' };

/** Registers a YAML DAG and requests a run of it; returns the run id. */
export async function startRun(
  store: EventStore,
  yaml: string,
  params: Record<string, unknown> = {},
): Promise<string> {
  const dag = parseDagOrThrow(yaml);
  await registerDag({ store, metadata: meta }, dag);
  return (await requestRun({ store, metadata: meta }, { dagId: dag.name, params })).runId;
}

const FINAL = new Set(['RunSucceeded', 'RunFailed', 'RunCancelled']);

/** Waits until the run stream records a final event; returns the whole stream. */
export async function waitForRunEnd(
  store: EventStore,
  runId: string,
  timeoutMs = 20_000,
): Promise<RecordedEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await store.readStream(streams.run(runId));
    if (events.some((e) => FINAL.has(e.type))) return events;
    if (Date.now() > deadline) {
      throw new Error(
        `run ${runId} did not finish in ${timeoutMs} ms: ${events.map((e) => e.type).join(', ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The events of one attempt stream. */
export function attemptEvents(store: EventStore, runId: string, taskId: string, attempt = 1) {
  return store.readStream(streams.attempt(runId, taskId, attempt));
}

/**
 * A scheduler leader under a new term and one worker, both in this process on a dispatcher of
 * their own (no group commit: every append is its own transaction). `stop` drains the worker,
 * then stops the leader.
 */
export async function startLeaderAndWorker(
  db: TestDatabase,
  store: EventStore,
  options: { capacity?: number; leader?: Partial<LeaderOptions> } = {},
): Promise<{ term: number; leader: SchedulerLeader; stop: () => Promise<void> }> {
  const term = await store.nextTerm(SCHEDULER_FENCE);
  let leader: SchedulerLeader | undefined;
  const dispatcher = new Dispatcher({ maxBacklog: 100, onRoom: () => leader?.onRoom() });
  leader = new SchedulerLeader({ store, dispatcher, term, log: silentLog, ...options.leader });
  const started = leader;
  const worker = new Worker({
    capacity: options.capacity ?? 1,
    source: dispatcher,
    store,
    executor: new TaskTypeRouter({}),
    logs: new PostgresAttemptLogStore(db.pool),
    log: silentLog,
    baseDir: '.',
  });
  await worker.start();
  await started.start();
  return {
    term,
    leader: started,
    async stop() {
      await worker.drain(1000);
      await started.stop();
    },
  };
}
