/**
 * Projection lag while the engine runs a steady stream of tasks (issue 4: "projection lag p99
 * while 1,000 tasks/s are running").
 *
 * A fresh database; the in-process engine (`startEngine`, 2 workers × 8 slots, as `dagrun
 * standalone`); runs of a DAG of 20 independent `noop` tasks requested at a fixed pace aimed at
 * the target task rate (1,000 tasks/s: a run every 20 ms). While more than 200 runs are active,
 * a due request is skipped and counted, so an engine that cannot keep up does not queue without
 * bound. After a warm-up (3 s) the window (20 s) is measured:
 *
 * - achieved tasks/s: AttemptSucceeded events whose `created_at` falls in the window, over the
 *   window;
 * - per-event lag: for every event created in the window, the time the projector's batch holding
 *   it had committed (`onCommitted`) minus the event's `created_at` (the start of the transaction
 *   that appended it) — from the append to the read models showing it, p50/p99/max;
 * - the projector's own `lagMs` (the age of the oldest event received but not committed),
 *   sampled every 50 ms in the window.
 *
 * Three placements, each on a database of its own: a plain subscription in the engine's process
 * that only notes when each event arrives (`subscriber`: the delivery floor under any projector's
 * lag); the projector in the engine's process (`in-process`, as `dagrun standalone`: one Node
 * event loop for both); the projector in a process of its own (`own-process`, as `dagrun
 * projector`; bench/support/projector-process.ts).
 *
 * What else the server was doing is recorded with each: the load average before and after the
 * window, and the age of the oldest write transaction open in any other database, sampled every
 * 100 ms — the Postgres store shows readers only events below the server's oldest open
 * transaction, so another database's long transaction delays every subscription here.
 *
 * Run alone: `node --import tsx bench/projection-lag.ts [--rate=1000] [--window=20]
 * [--placement=subscriber,in-process,own-process]` (DATABASE_URL names the server; default
 * postgres://postgres@127.0.0.1:5432/postgres). `npm run bench` runs it too.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { loadavg, tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type pg from 'pg';
import { type Engine, startEngine } from '../src/cli/engine.js';
import { registerDag, requestRun } from '../src/commands/index.js';
import { parseDagOrThrow } from '../src/dag/index.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { PostgresEventStore } from '../src/events/postgres/index.js';
import type { EventStore } from '../src/events/types.js';
import { withSchemaValidation } from '../src/events/validating-store.js';
import { createLogger } from '../src/observability/logger.js';
import { PROJECTED_STREAM_PREFIXES, Projector } from '../src/projections/index.js';
import type { BenchResult } from './event-store.js';
import { withBenchDatabase } from './support/database.js';
import type { ProjectorProcessMessage } from './support/projector-process.js';
import { ascending, percentile, round, sleep } from './support/stats.js';

/**
 * Where the projector runs. `subscriber`: no projector, a plain subscription to the same streams
 * in the engine's process that only records when each event arrived — the floor under any
 * projector's lag on this server at that time.
 */
export type ProjectorPlacement = 'subscriber' | 'in-process' | 'own-process';

export interface LagBenchOptions {
  readonly targetTasksPerS: number;
  readonly tasksPerRun: number;
  readonly warmupS: number;
  readonly windowS: number;
  readonly maxActiveRuns: number;
  readonly placements: readonly ProjectorPlacement[];
}

export const LAG_BENCH_DEFAULTS: LagBenchOptions = {
  targetTasksPerS: 1_000,
  tasksPerRun: 20,
  warmupS: 3,
  windowS: 20,
  maxActiveRuns: 200,
  placements: ['subscriber', 'in-process', 'own-process'],
};

const log = createLogger({ level: 'error' });
const meta = { correlationId: 'bench-lag', actor: 'bench' };
const SAMPLE_MS = 50;
const CHILD = fileURLToPath(new URL('./support/projector-process.ts', import.meta.url));

/** What the benchmark reads of a projector, wherever it runs. */
interface FollowingProjector {
  /** Flat pairs: createdAt ms, lag ms. */
  readonly lags: number[];
  /** Flat pairs: at ms, lagMs. */
  readonly samples: number[];
  stop(): Promise<void>;
}

function dagYaml(tasks: number): string {
  const lines = ['name: lag-bench', 'tasks:'];
  for (let i = 0; i < tasks; i++) lines.push(`  - { id: t${i}, type: noop }`);
  return `${lines.join('\n')}\n`;
}

async function inProcessProjector(pool: pg.Pool, store: EventStore): Promise<FollowingProjector> {
  const lags: number[] = [];
  const samples: number[] = [];
  const projector = new Projector({
    store,
    pool,
    log,
    onCommitted: (events) => {
      const now = Date.now();
      for (const e of events) lags.push(e.createdAt.getTime(), now - e.createdAt.getTime());
    },
  }).start();
  const sampler = setInterval(() => samples.push(Date.now(), projector.lagMs), SAMPLE_MS);
  while (projector.status.state !== 'running') await sleep(10);
  return {
    lags,
    samples,
    async stop() {
      clearInterval(sampler);
      await projector.stop();
    },
  };
}

/** A subscription that only notes when each event arrives (lag = arrival − created_at). */
function plainSubscriber(store: EventStore): FollowingProjector {
  const lags: number[] = [];
  const subscription = store.subscribe({
    from: 'end',
    streamPrefixes: PROJECTED_STREAM_PREFIXES,
    batchSize: 500,
  });
  const consuming = (async () => {
    for await (const e of subscription) lags.push(e.createdAt.getTime(), Date.now() - e.createdAt.getTime());
  })();
  return {
    lags,
    samples: [],
    async stop() {
      await subscription.close();
      await consuming;
    },
  };
}

async function ownProcessProjector(url: string): Promise<FollowingProjector> {
  const lags: number[] = [];
  const samples: number[] = [];
  const child: ChildProcess = fork(CHILD, [url], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let stopped: () => void = () => {};
  const whenStopped = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const running = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`projector process exited with ${code}`)));
    child.on('message', (message: ProjectorProcessMessage) => {
      if (message.type === 'running') resolve();
      else if (message.type === 'report') {
        for (const x of message.lags) lags.push(x);
        for (const x of message.samples) samples.push(x);
      } else stopped();
    });
  });
  await running;
  return {
    lags,
    samples,
    async stop() {
      child.send('stop');
      await Promise.race([whenStopped, sleep(30_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Values of flat (key, value) pairs whose key is within [from, to]. */
function valuesWithin(pairs: readonly number[], from: number, to: number): number[] {
  const values: number[] = [];
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const key = pairs[i]!;
    if (key >= from && key <= to) values.push(pairs[i + 1]!);
  }
  return values;
}

async function scalar(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(sql, params);
  return Number(rows[0]?.n ?? 0);
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms`);
    await sleep(50);
  }
}

/**
 * Samples, every 100 ms, the age of the oldest write transaction open in another database of the
 * server. The Postgres store shows a reader only events below the oldest open transaction id of
 * the whole server, so such a transaction (another benchmark, a CREATE DATABASE) delays every
 * subscription here for as long as it stays open.
 */
function watchOtherTransactions(pool: pg.Pool): { stop(): Promise<{ maxMs: number; over100msPct: number }> } {
  const ages: number[] = [];
  let stopped = false;
  const sampling = (async () => {
    while (!stopped) {
      ages.push(
        await scalar(
          pool,
          `SELECT coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)) * 1000, 0)::text AS n
             FROM pg_stat_activity
            WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database()`,
        ),
      );
      await sleep(100);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await sampling;
      return {
        maxMs: Math.round(Math.max(0, ...ages)),
        over100msPct: round((100 * ages.filter((a) => a >= 100).length) / Math.max(1, ages.length), 2),
      };
    },
  };
}

interface Pacing {
  requested: number;
  skipped: number;
  maxActiveRuns: number;
}

/** Requests runs at the target pace for `seconds`; skips (and counts) a due run at the active cap. */
async function pace(
  store: EventStore,
  engine: Engine,
  options: LagBenchOptions,
  seconds: number,
  counts: Pacing,
): Promise<void> {
  const intervalMs = (1000 * options.tasksPerRun) / options.targetTasksPerS;
  const started = performance.now();
  for (let i = 0; ; i++) {
    const due = started + i * intervalMs;
    if (due >= started + seconds * 1000) return;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const active = engine.leader.activeRuns;
    counts.maxActiveRuns = Math.max(counts.maxActiveRuns, active);
    if (active >= options.maxActiveRuns) {
      counts.skipped++;
      continue;
    }
    await requestRun({ store, metadata: meta }, { dagId: 'lag-bench', params: {} });
    counts.requested++;
  }
}

async function measurePlacement(
  serverUrl: string,
  placement: ProjectorPlacement,
  options: LagBenchOptions,
): Promise<BenchResult[]> {
  return withBenchDatabase(serverUrl, `lag_${placement.replace('-', '_')}`, async (db) => {
    const pool = createPool(db.url, { max: 20, applicationName: 'dagrun-bench-lag' });
    const stops: (() => Promise<void>)[] = [];
    try {
      await migrate(pool);
      const store = withSchemaValidation(new PostgresEventStore({ pool }));
      stops.unshift(() => store.close());
      const engine = await startEngine({
        store,
        pool,
        log,
        baseDir: tmpdir(),
        workers: 2,
        concurrency: 8,
        drainGraceMs: 5_000,
      });
      stops.unshift(() => engine.stop());
      await registerDag({ store, metadata: meta }, parseDagOrThrow(dagYaml(options.tasksPerRun)));
      const projector =
        placement === 'in-process'
          ? await inProcessProjector(pool, store)
          : placement === 'own-process'
            ? await ownProcessProjector(db.url)
            : plainSubscriber(store);
      stops.unshift(() => projector.stop());

      const counts: Pacing = { requested: 0, skipped: 0, maxActiveRuns: 0 };
      await pace(store, engine, options, options.warmupS, counts);
      const loadBefore = loadavg();
      const windowCounts: Pacing = { requested: 0, skipped: 0, maxActiveRuns: 0 };
      const others = watchOtherTransactions(pool);
      const t0 = Date.now();
      await pace(store, engine, options, options.windowS, windowCounts);
      const t1 = Date.now();
      const interference = await others.stop();
      const loadAfter = loadavg();
      const total = counts.requested + windowCounts.requested;
      await waitFor(
        async () =>
          placement === 'subscriber'
            ? (await scalar(pool, "SELECT count(*)::text AS n FROM events WHERE type = 'RunSucceeded'")) ===
              total
            : (await scalar(pool, "SELECT count(*)::text AS n FROM runs WHERE status = 'succeeded'")) ===
              total,
        'every requested run succeeded',
      );
      await sleep(200); // the last batch's report (own process: every 100 ms)
      const windowS = (t1 - t0) / 1000;
      const succeeded = await scalar(
        pool,
        `SELECT count(*)::text AS n FROM events
          WHERE type = 'AttemptSucceeded' AND created_at >= $1 AND created_at <= $2`,
        [new Date(t0), new Date(t1)],
      );
      const perEvent = ascending(valuesWithin(projector.lags, t0, t1));
      const sampled = ascending(valuesWithin(projector.samples, t0, t1));
      const achieved = round(succeeded / windowS, 4);
      const common = {
        projector: placement,
        targetTasksPerS: options.targetTasksPerS,
        achievedTasksPerS: achieved,
        tasksPerRun: options.tasksPerRun,
        runsRequested: windowCounts.requested,
        runsSkippedAtCap: windowCounts.skipped,
        maxActiveRuns: windowCounts.maxActiveRuns,
        windowS: round(windowS, 3),
        load1m: `${loadBefore[0]!.toFixed(2)}→${loadAfter[0]!.toFixed(2)}`,
        otherTxMaxMs: interference.maxMs,
        otherTxOver100msPct: interference.over100msPct,
      };
      return [
        {
          name: `engine.tasks_per_s.paced.${placement}`,
          value: achieved,
          unit: 'tasks/s',
          detail: { ...common, tasksSucceededInWindow: succeeded, source: 'AttemptSucceeded by created_at' },
        },
        {
          name: `projection.lag.per_event_p99.${placement}`,
          value: round(percentile(perEvent, 0.99), 3),
          unit: 'ms',
          detail: {
            ...common,
            events: perEvent.length,
            p50Ms: round(percentile(perEvent, 0.5), 3),
            p99Ms: round(percentile(perEvent, 0.99), 3),
            maxMs: round(perEvent.at(-1) ?? Number.NaN, 3),
            source: 'batch committed − event created_at',
          },
        },
        ...(placement === 'subscriber'
          ? []
          : [
              {
                name: `projection.lag.sampled_p99.${placement}`,
                value: percentile(sampled, 0.99),
                unit: 'ms',
                detail: {
                  ...common,
                  sampleEveryMs: SAMPLE_MS,
                  samples: sampled.length,
                  p50Ms: percentile(sampled, 0.5),
                  p99Ms: percentile(sampled, 0.99),
                  maxMs: sampled.at(-1) ?? Number.NaN,
                  source: 'projector.lagMs',
                },
              },
            ]),
      ];
    } finally {
      for (const stop of stops) await stop().catch(() => {});
      await pool.end();
    }
  });
}

/** Measures every placement in turn, each on a database of its own. */
export async function runProjectionLagBench(
  serverUrl: string,
  overrides: Partial<LagBenchOptions> = {},
): Promise<BenchResult[]> {
  const options = { ...LAG_BENCH_DEFAULTS, ...overrides };
  const results: BenchResult[] = [];
  for (const placement of options.placements) {
    results.push(...(await measurePlacement(serverUrl, placement, options)));
  }
  return results;
}

/** A markdown table of the results, one row per placement. */
export function lagMarkdown(results: readonly BenchResult[]): string {
  const rows = [
    "| placement | tasks/s (target) | lag p50 | lag p99 | lag max | sampled `lagMs` p50 / p99 / max | load (1 min) | other DBs' oldest write tx: max, ≥100 ms |",
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const rate of results.filter((r) => r.name.startsWith('engine.tasks_per_s.paced.'))) {
    const d = rate.detail;
    const placement = String(d['projector']);
    const ev = results.find((r) => r.name === `projection.lag.per_event_p99.${placement}`)?.detail ?? {};
    const sm = results.find((r) => r.name === `projection.lag.sampled_p99.${placement}`)?.detail;
    const sampled = sm ? `${sm['p50Ms']} / ${sm['p99Ms']} / ${sm['maxMs']} ms` : '—';
    rows.push(
      `| ${placement} | ${rate.value} (${d['targetTasksPerS']}) | ${ev['p50Ms']} ms | ${ev['p99Ms']} ms | ${ev['maxMs']} ms | ${sampled} | ${d['load1m']} | ${d['otherTxMaxMs']} ms, ${d['otherTxOver100msPct']} % of samples |`,
    );
  }
  return rows.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) =>
    process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? undefined;
  const overrides: Partial<LagBenchOptions> = {
    ...(arg('rate') ? { targetTasksPerS: Number(arg('rate')) } : {}),
    ...(arg('window') ? { windowS: Number(arg('window')) } : {}),
    ...(arg('tasks-per-run') ? { tasksPerRun: Number(arg('tasks-per-run')) } : {}),
    ...(arg('placement') ? { placements: arg('placement')!.split(',') as ProjectorPlacement[] } : {}),
  };
  const url = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const results = await runProjectionLagBench(url, overrides);
  for (const result of results) console.log(JSON.stringify(result));
  console.log(`\n${lagMarkdown(results)}`);
}
