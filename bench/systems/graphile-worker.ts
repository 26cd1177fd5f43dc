/**
 * graphile-worker 0.17 as a peer, with the batched settings its performance guide uses:
 * a local queue that locks and fetches up to 500 jobs per query, job completions batched
 * (`completeJobBatchDelay: 0` — flushed on the next tick, many per statement), and
 * `concurrentJobs` equal to dagrun's slots. Jobs are added with `addJobs` (one statement).
 *
 * Per job it writes: the job row (insert), its lock (one UPDATE per local-queue fetch) and its
 * completion (one DELETE per batch). No history is kept: a completed job is deleted.
 *
 * Dependencies live in the handlers, the idiomatic way: a chain job adds its successor before it
 * returns; a fan-out root adds the 1,000 middle jobs with one `addJobs`; each middle job
 * decrements a counter row and the one that reaches zero adds the sink — in one statement,
 * with `graphile_worker.add_job`, so the decrement and the enqueue commit together.
 */
import { Logger, type Runner, run, type TaskList } from 'graphile-worker';
import pg from 'pg';
import type { BenchDatabase } from '../support/database.js';
import { preciseNow, sleep } from '../support/stats.js';
import { chainResult } from '../systems/dagrun.js';
import {
  type ChainResult,
  type FanResult,
  type Meter,
  SKEW,
  type SkewResult,
  SLOTS,
  skewDurations,
  type ThroughputResult,
} from '../workloads.js';

const silent = new Logger(() => () => {});

export const GRAPHILE_SETTINGS = {
  concurrentJobs: SLOTS,
  maxPoolSize: SLOTS + 4,
  localQueue: { size: 500 },
  completeJobBatchDelay: 0,
  failJobBatchDelay: 0,
  pollInterval: 2_000,
} as const;

async function withRunner<T>(
  db: BenchDatabase,
  taskList: TaskList,
  work: (runner: Runner, pool: pg.Pool) => Promise<T>,
  concurrentJobs: number = GRAPHILE_SETTINGS.concurrentJobs,
): Promise<T> {
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  const runner = await run({
    preset: { worker: { ...GRAPHILE_SETTINGS, concurrentJobs, connectionString: db.url, logger: silent } },
    taskList,
    logger: silent,
    noHandleSignals: true,
  });
  try {
    return await work(runner, pool);
  } finally {
    await runner.stop();
    await pool.end();
  }
}

/** Resolves once every handler ran and the last completion is flushed (the jobs table is empty). */
async function drained(pool: pg.Pool, handlersDone: Promise<void>): Promise<void> {
  await handlersDone;
  for (;;) {
    const { rows } = await pool.query('SELECT EXISTS (SELECT FROM graphile_worker._private_jobs) AS busy');
    if (!rows[0].busy) return;
    await sleep(2);
  }
}

function countdown(n: number): { tick(): void; done: Promise<void> } {
  let left = n;
  let resolve: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    tick() {
      if (--left === 0) resolve();
    },
    done,
  };
}

export async function graphileThroughput(
  db: BenchDatabase,
  meter: Meter,
  tasks: number,
): Promise<ThroughputResult> {
  const counter = countdown(tasks);
  return withRunner(db, { noop: async () => counter.tick() }, async (runner, pool) => {
    const specs = Array.from({ length: tasks }, (_, i) => ({ identifier: 'noop', payload: { i } }));
    await meter.start();
    const started = preciseNow();
    await addJobsSql(pool, specs);
    await drained(pool, counter.done);
    const seconds = (preciseNow() - started) / 1000;
    await meter.stop();
    void runner;
    return { tasks, seconds, tasksPerSecond: tasks / seconds };
  });
}

/** `graphile_worker.add_jobs` in one statement (what WorkerUtils.addJobs sends). */
async function addJobsSql(
  pool: pg.Pool,
  specs: readonly { identifier: string; payload: unknown }[],
): Promise<void> {
  await pool.query(
    `SELECT graphile_worker.add_jobs(array(
       SELECT json_populate_recordset(null::graphile_worker.job_spec, $1::json)
     ))`,
    [JSON.stringify(specs)],
  );
}

export async function graphileChain(db: BenchDatabase, meter: Meter, length: number): Promise<ChainResult> {
  const startedAt = new Array<number>(length);
  const counter = countdown(length);
  const taskList: TaskList = {
    chain: async (payload, helpers) => {
      const { i } = payload as { i: number };
      startedAt[i] = preciseNow(); // a noop: finished as soon as it started
      if (i + 1 < length) await helpers.addJob('chain', { i: i + 1 });
      counter.tick();
    },
  };
  return withRunner(db, taskList, async (runner, pool) => {
    await meter.start();
    const started = preciseNow();
    await runner.addJob('chain', { i: 0 });
    await drained(pool, counter.done);
    const seconds = (preciseNow() - started) / 1000;
    await meter.stop();
    const hops = startedAt.slice(1).map((t, k) => t - startedAt[k]!);
    return chainResult(hops, seconds);
  });
}

export async function graphileFan(db: BenchDatabase, meter: Meter, width: number): Promise<FanResult> {
  const sinkDone = countdown(1);
  const taskList: TaskList = {
    root: async (_payload, helpers) => {
      await helpers.addJobs(Array.from({ length: width }, (_, i) => ({ identifier: 'mid', payload: { i } })));
    },
    mid: async (_payload, helpers) => {
      await helpers.query(
        `WITH left_over AS (UPDATE bench_fan_in SET remaining = remaining - 1 WHERE id = 1 RETURNING remaining)
         SELECT graphile_worker.add_job('sink', '{}'::json) FROM left_over WHERE remaining = 0`,
      );
    },
    sink: async () => sinkDone.tick(),
  };
  return withRunner(db, taskList, async (runner, pool) => {
    await pool.query('CREATE TABLE bench_fan_in (id int PRIMARY KEY, remaining int NOT NULL)');
    await pool.query('INSERT INTO bench_fan_in VALUES (1, $1)', [width]);
    await meter.start();
    const started = preciseNow();
    await runner.addJob('root', {});
    await drained(pool, sinkDone.done);
    const seconds = (preciseNow() - started) / 1000;
    await meter.stop();
    return { tasks: width + 2, seconds };
  });
}

export async function graphileSkew(db: BenchDatabase, meter: Meter): Promise<SkewResult> {
  const durations = skewDurations();
  const counter = countdown(durations.length);
  const taskList: TaskList = {
    sleep: async (payload) => {
      await sleep((payload as { ms: number }).ms);
      counter.tick();
    },
  };
  const slots = SKEW.workers * SKEW.slotsPerWorker;
  return withRunner(
    db,
    taskList,
    async (_runner, pool) => {
      await meter.start();
      const started = preciseNow();
      await addJobsSql(
        pool,
        durations.map((ms) => ({ identifier: 'sleep', payload: { ms } })),
      );
      await drained(pool, counter.done);
      const seconds = (preciseNow() - started) / 1000;
      await meter.stop();
      return { seconds, note: `one runner, concurrentJobs ${slots}` };
    },
    slots,
  );
}
