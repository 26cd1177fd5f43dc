/**
 * The whole engine in one process — in-process coordination, the scheduler leader, the
 * dispatcher and a pool of workers — as `dagrun run` and `dagrun standalone` use it. The
 * worker↔dispatcher boundary is the WorkSource interface, so the distributed deployment swaps
 * the in-process dispatcher for a network transport without touching either side.
 *
 * Two shortcuts that only exist because everything shares one process (see `CoalescedAppends`
 * in src/events/postgres):
 * the appends of all workers and of the leader are group-committed — the appends that arrive
 * while a commit is in flight share the next transaction — and every committed attempt event is
 * handed to the leader at once instead of after a NOTIFY and a read of $all.
 */
import { hostname } from 'node:os';
import type pg from 'pg';
import { InProcessCoordination } from '../coordination/in-process.js';
import { SCHEDULER_ELECTION } from '../coordination/types.js';
import { CoalescedAppends } from '../events/postgres/coalesced-appends.js';
import type { EventStore } from '../events/types.js';
import type { Logger } from '../observability/logger.js';
import type { SchedulerMetrics } from '../observability/scheduler-metrics.js';
import { readLiveRuns } from '../projections/live-runs.js';
import { Dispatcher } from '../scheduler/dispatcher.js';
import { SCHEDULER_FENCE, SchedulerLeader } from '../scheduler/leader.js';
import { PostgresAttemptLogStore } from '../workers/attempt-logs.js';
import { CLAIM_AHEAD_PER_SLOT, type ClaimAheadSettings } from '../workers/claim-ahead.js';
import { TaskTypeRouter } from '../workers/executors/index.js';
import { Worker } from '../workers/worker.js';

export interface EngineOptions {
  /** The Postgres event store on `pool` (its appends are batched through `pool` directly). */
  readonly store: EventStore;
  readonly pool: pg.Pool;
  readonly log: Logger;
  /** Where relative Python scripts and working directories resolve. */
  readonly baseDir: string;
  readonly workers?: number;
  /** Slots per worker. */
  readonly concurrency?: number;
  /**
   * Attempts a worker may claim beyond its free slots, or the whole claim-ahead setting (see
   * src/workers/claim-ahead.ts); default: `CLAIM_AHEAD_PER_SLOT` per slot.
   */
  readonly claimAhead?: number | ClaimAheadSettings;
  readonly maxBacklog?: number;
  readonly stealing?: boolean;
  readonly pythonInterpreter?: string;
  /** Variables shell and Python tasks inherit from this process (PATH, HOME, …). */
  readonly inheritedEnv?: Readonly<Record<string, string>>;
  readonly drainGraceMs?: number;
  /**
   * Group-commit the appends of the workers and the leader (default true). Off, every append is
   * its own transaction, as through `store`; use that when `store` is not the Postgres store.
   */
  readonly coalesceAppends?: boolean;
  /** The leader's and dispatcher's metrics (src/observability/scheduler-metrics.ts). */
  readonly metrics?: SchedulerMetrics;
}

export interface Engine {
  readonly dispatcher: Dispatcher;
  readonly leader: SchedulerLeader;
  readonly workers: readonly Worker[];
  /** Drains the workers (finish or abandon in-flight attempts), then stops the leader. */
  stop(): Promise<void>;
}

export async function startEngine(options: EngineOptions): Promise<Engine> {
  const coordination = new InProcessCoordination();
  let leader: SchedulerLeader | undefined;
  const dispatcher = new Dispatcher({
    maxBacklog: options.maxBacklog ?? 1000,
    stealing: options.stealing ?? true,
    onRoom: () => leader?.onRoom(),
    ...(options.metrics ? { onClaimed: options.metrics.claimed } : {}),
  });
  const store =
    options.coalesceAppends === false
      ? options.store
      : new CoalescedAppends(options.store, options.pool, (events, commit) =>
          leader?.observe(events, commit),
        );
  const executor = new TaskTypeRouter(options.inheritedEnv ? { inheritedEnv: options.inheritedEnv } : {});
  const logs = new PostgresAttemptLogStore(options.pool);
  const workers = Array.from(
    { length: options.workers ?? 1 },
    (_, i) =>
      new Worker({
        // Unique per process: a restarted engine must not inherit the attempts of the dead one.
        id: `${hostname()}-${process.pid}-${i + 1}`,
        capacity: options.concurrency ?? 4,
        claimAhead:
          typeof options.claimAhead === 'object'
            ? options.claimAhead
            : { depth: options.claimAhead ?? CLAIM_AHEAD_PER_SLOT * (options.concurrency ?? 4) },
        source: dispatcher,
        store,
        executor,
        logs,
        log: options.log,
        baseDir: options.baseDir,
        ...(options.pythonInterpreter ? { pythonInterpreter: options.pythonInterpreter } : {}),
      }),
  );
  for (const worker of workers) await worker.start();
  const leadership = await coordination.campaign(SCHEDULER_ELECTION, 'local');
  const term = await store.nextTerm(SCHEDULER_FENCE);
  leader = new SchedulerLeader({
    store,
    dispatcher,
    term,
    log: options.log,
    // Start from the read models' checkpoint when a projector has run on this database.
    liveRuns: () => readLiveRuns(options.pool),
    ...(options.metrics ? { observer: options.metrics.observer } : {}),
  });
  await leader.start();
  const started = leader;
  let stopping: Promise<void> | undefined;
  return {
    dispatcher,
    leader: started,
    workers,
    stop() {
      stopping ??= (async () => {
        await Promise.all(workers.map((w) => w.drain(options.drainGraceMs ?? 10_000)));
        await started.stop();
        await leadership.resign();
        if (store instanceof CoalescedAppends) await store.flushed();
        await coordination.close();
      })();
      return stopping;
    },
  };
}
