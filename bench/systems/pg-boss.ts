/**
 * pg-boss 10 as a peer. v10 has no `teamSize`: concurrency is the number of `work()` loops, and
 * each loop fetches up to `batchSize` jobs per poll (one UPDATE … SKIP LOCKED) and hands the
 * batch to the handler, which here runs the jobs of its batch one after another — a loop is one
 * slot, so 16 loops are dagrun's 16 slots. A pg-boss loop that finishes a batch sleeps out the
 * rest of its polling interval (0.5 s, the smallest v10 allows) unless it is notified, so a
 * handler that found work notifies its own loop (`notifyWorker`, public API): busy loops fetch
 * back to back, idle ones poll. Completions are one UPDATE per batch, not awaited by the loop.
 *
 * Per job it writes: the job row (insert), its state to active (per fetched batch) and to
 * completed (per batch). Completed jobs stay in the table until the maintenance archive.
 *
 * Dependencies live in the handlers: a chain job sends its successor and wakes the local loops
 * (`notifyWorker`, public API), otherwise the successor would wait for the next poll; a fan-out
 * root inserts the 1,000 middle jobs with one `insert`; each middle job decrements a counter row
 * and the one that reaches zero sends the sink.
 */
import PgBoss from 'pg-boss';
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

export const PGBOSS_SETTINGS = {
  loops: SLOTS,
  batchSize: 100,
  pollingIntervalSeconds: 0.5,
} as const;

interface Boss {
  readonly boss: PgBoss;
  /** Starts `loops` work loops on `queue`; returns their ids (for notifyWorker). */
  work(
    queue: string,
    handler: (job: PgBoss.Job<Record<string, number>>) => Promise<void>,
    options?: { loops?: number; batchSize?: number },
  ): Promise<string[]>;
  wake(queue: string): void;
  /** Resolves when `count` jobs of `queue` are completed in the table. */
  completed(queue: string, count: number): Promise<void>;
}

async function withBoss<T>(db: BenchDatabase, work: (b: Boss) => Promise<T>): Promise<T> {
  const boss = new PgBoss({
    connectionString: db.url,
    max: SLOTS + 4,
    supervise: false,
    schedule: false,
    migrate: true,
  });
  boss.on('error', () => {});
  await boss.start();
  const loops = new Map<string, string[]>();
  const api: Boss = {
    boss,
    async work(queue, handler, options = {}) {
      await boss.createQueue(queue);
      const ids: string[] = [];
      for (let i = 0; i < (options.loops ?? PGBOSS_SETTINGS.loops); i++) {
        let self = '';
        self = await boss.work<Record<string, number>>(
          queue,
          {
            batchSize: options.batchSize ?? PGBOSS_SETTINGS.batchSize,
            pollingIntervalSeconds: PGBOSS_SETTINGS.pollingIntervalSeconds,
          },
          async (jobs) => {
            for (const job of jobs) await handler(job);
            // Found work: fetch again at once instead of sleeping out the polling interval.
            if (jobs.length > 0) boss.notifyWorker(self);
          },
        );
        ids.push(self);
      }
      loops.set(queue, ids);
      return ids;
    },
    wake(queue) {
      for (const id of loops.get(queue) ?? []) boss.notifyWorker(id);
    },
    async completed(queue, count) {
      const db = boss.getDb();
      for (;;) {
        const { rows } = await db.executeSql(
          "SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'completed'",
          [queue],
        );
        if ((rows[0] as { n: number }).n >= count) return;
        await sleep(2);
      }
    },
  };
  try {
    return await work(api);
  } finally {
    await boss.stop({ graceful: false, wait: true, timeout: 1_000 });
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

export async function pgBossThroughput(
  db: BenchDatabase,
  meter: Meter,
  tasks: number,
): Promise<ThroughputResult> {
  return withBoss(db, async (b) => {
    const counter = countdown(tasks);
    await b.work('noop', async () => counter.tick());
    await meter.start();
    const started = preciseNow();
    await b.boss.insert(Array.from({ length: tasks }, (_, i) => ({ name: 'noop', data: { i } })));
    await counter.done;
    await b.completed('noop', tasks);
    const seconds = (preciseNow() - started) / 1000;
    await meter.stop();
    return { tasks, seconds, tasksPerSecond: tasks / seconds };
  });
}

export async function pgBossChain(db: BenchDatabase, meter: Meter, length: number): Promise<ChainResult> {
  return withBoss(db, async (b) => {
    const startedAt = new Array<number>(length);
    const counter = countdown(length);
    await b.work('chain', async (job) => {
      const i = job.data['i']!;
      startedAt[i] = preciseNow();
      if (i + 1 < length) {
        await b.boss.send('chain', { i: i + 1 });
        b.wake('chain');
      }
      counter.tick();
    });
    await meter.start();
    const started = preciseNow();
    await b.boss.send('chain', { i: 0 });
    b.wake('chain');
    await counter.done;
    await b.completed('chain', length);
    const seconds = (preciseNow() - started) / 1000;
    await meter.stop();
    return chainResult(
      startedAt.slice(1).map((t, k) => t - startedAt[k]!),
      seconds,
    );
  });
}

export async function pgBossFan(db: BenchDatabase, meter: Meter, width: number): Promise<FanResult> {
  return withBoss(db, async (b) => {
    const sql = b.boss.getDb();
    await sql.executeSql('CREATE TABLE bench_fan_in (id int PRIMARY KEY, remaining int NOT NULL)', []);
    await sql.executeSql('INSERT INTO bench_fan_in VALUES (1, $1)', [width]);
    const sinkDone = countdown(1);
    await b.work('sink', async () => sinkDone.tick(), { loops: 1 });
    await b.work('mid', async () => {
      const { rows } = await sql.executeSql(
        'UPDATE bench_fan_in SET remaining = remaining - 1 WHERE id = 1 RETURNING remaining',
        [],
      );
      if ((rows[0] as { remaining: number }).remaining === 0) {
        await b.boss.send('sink', {});
        b.wake('sink');
      }
    });
    await b.work(
      'root',
      async () => {
        await b.boss.insert(Array.from({ length: width }, (_, i) => ({ name: 'mid', data: { i } })));
        b.wake('mid');
      },
      { loops: 1 },
    );
    await meter.start();
    const started = preciseNow();
    await b.boss.send('root', {});
    b.wake('root');
    await sinkDone.done;
    await b.completed('sink', 1);
    const seconds = (preciseNow() - started) / 1000;
    await meter.stop();
    return { tasks: width + 2, seconds };
  });
}

export async function pgBossSkew(db: BenchDatabase, meter: Meter): Promise<SkewResult> {
  return withBoss(db, async (b) => {
    const durations = skewDurations();
    const counter = countdown(durations.length);
    const loops = SKEW.workers * SKEW.slotsPerWorker;
    await b.work(
      'sleep',
      async (job) => {
        await sleep(job.data['ms']!);
        counter.tick();
      },
      { loops, batchSize: 1 },
    );
    await meter.start();
    const started = preciseNow();
    await b.boss.insert(durations.map((ms, i) => ({ name: 'sleep', data: { ms, i } })));
    b.wake('sleep');
    await counter.done;
    await b.completed('sleep', durations.length);
    const seconds = (preciseNow() - started) / 1000;
    await meter.stop();
    return { seconds, note: `${loops} loops × batchSize 1` };
  });
}
