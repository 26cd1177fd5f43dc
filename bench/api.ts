/**
 * REST API benchmark: the real express app in process (127.0.0.1, free port) over a fresh
 * migrated database, with a real engine and projector behind it, as `dagrun standalone` wires
 * them. Creates and drops its own database.
 *
 * 1. Populates the read models through the API: registers a small DAG of noop tasks and runs it
 *    to completion 200 times.
 * 2. Load-tests two reads with autocannon on loopback (2 s warm-up, then 10 s measured, at 16 and
 *    32 connections): `GET /api/v1/runs/{id}` and `GET /api/v1/runs?limit=50`. Requests/s, p50
 *    and p99 latency, non-2xx count.
 * 3. Projection lag under load: runs of a 100-task noop DAG requested at a paced rate aimed at
 *    1,000 tasks/s. The achieved task rate is read back from the log (AttemptSucceeded events),
 *    `projector.lagMs` is sampled every 50 ms, and per event the lag is the time its batch
 *    commits (just before COMMIT) minus its `created_at`.
 *
 * Run alone with `node --import tsx bench/api.ts` (DATABASE_URL names the server; default
 * postgres://postgres@127.0.0.1:5432/postgres), or import `runApiBench`.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { Registry } from 'prom-client';
import { type ApiServer, startApiServer } from '../src/api/server.js';
import { type Engine, startEngine } from '../src/cli/engine.js';
import { requestRun } from '../src/commands/index.js';
import { loadConfig } from '../src/config/index.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { PostgresEventStore } from '../src/events/postgres/index.js';
import type { EventStore } from '../src/events/types.js';
import { withSchemaValidation } from '../src/events/validating-store.js';
import { createLogger } from '../src/observability/logger.js';
import { Projector } from '../src/projections/index.js';
import type { BenchResult } from './event-store.js';

export type { BenchResult };

// autocannon ships no types; the part of its API used here.
interface AutocannonHistogram {
  readonly average: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}
interface AutocannonResult {
  readonly requests: AutocannonHistogram & { readonly total: number };
  readonly latency: AutocannonHistogram;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly duration: number;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  pipelining?: number;
}) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const log = createLogger({ level: 'error' });
const meta = { correlationId: 'bench', actor: 'bench' };

const POPULATE_RUNS = 200;
const WARMUP_S = 2;
const MEASURE_S = 10;
const CONNECTIONS = [16, 32] as const;
const WIDE_TASKS = 100;
const TARGET_TASKS_PER_S = 1_000;
const LAG_WINDOW_MS = 15_000;
const LAG_SAMPLE_MS = 50;
/** Paced requests are skipped (and counted) while this many runs are still active. */
const MAX_ACTIVE_RUNS = 50;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Nearest-rank p-quantile (0 ≤ p ≤ 1) of an ascending array. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const smallDag = {
  name: 'api-bench-small',
  tasks: [
    { id: 'extract', type: 'noop' },
    { id: 'transform', type: 'noop', dependencies: ['extract'] },
    { id: 'load', type: 'noop', dependencies: ['transform'] },
  ],
};

const wideDag = {
  name: 'api-bench-wide',
  tasks: Array.from({ length: WIDE_TASKS }, (_, i) => ({ id: `t${i}`, type: 'noop' })),
};

interface Harness {
  readonly pool: pg.Pool;
  readonly store: EventStore;
  readonly engine: Engine;
  readonly projector: Projector;
  readonly server: ApiServer;
  /** Per-event lag (commit time − created_at, ms) while `recording`. */
  readonly eventLags: number[];
  recording: boolean;
}

async function call(server: ApiServer, method: string, path: string, json?: unknown) {
  const response = await fetch(server.url + path, {
    method,
    headers: json === undefined ? {} : { 'content-type': 'application/json' },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

async function countRuns(pool: pg.Pool, dagId: string, status: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    'SELECT count(*)::text AS n FROM runs WHERE dag_id = $1 AND status = $2',
    [dagId, status],
  );
  return Number(rows[0]?.n ?? 0);
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Registers the small DAG and runs it POPULATE_RUNS times through the API; returns a run id. */
async function populate(h: Harness): Promise<{ runId: string; seconds: number }> {
  const started = performance.now();
  await call(h.server, 'POST', '/api/v1/dags', smallDag);
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < POPULATE_RUNS) {
        next++;
        const run = await call(h.server, 'POST', `/api/v1/dags/${smallDag.name}/runs`, {});
        ids.push(String(run['id'] ?? run['runId']));
      }
    }),
  );
  await waitFor(
    async () => (await countRuns(h.pool, smallDag.name, 'succeeded')) === POPULATE_RUNS,
    `${POPULATE_RUNS} populated runs succeeded in the read model`,
  );
  return { runId: ids[Math.floor(ids.length / 2)]!, seconds: (performance.now() - started) / 1000 };
}

async function loadTest(h: Harness, name: string, path: string, connections: number): Promise<BenchResult> {
  const url = h.server.url + path;
  await autocannon({ url, connections, duration: WARMUP_S });
  const r = await autocannon({ url, connections, duration: MEASURE_S });
  const failed = r.non2xx + r.errors + r.timeouts;
  if (failed > 0) console.error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
  return {
    name: `${name}.c${connections}`,
    value: round(r.requests.total / r.duration),
    unit: 'req/s',
    detail: {
      path: path.replace(/runs\/[^/?]+$/, 'runs/{id}'),
      connections,
      warmupS: WARMUP_S,
      durationS: round(r.duration, 2),
      requests: r.requests.total,
      p50Ms: r.latency.p50,
      p90Ms: r.latency.p90,
      p99Ms: r.latency.p99,
      maxMs: r.latency.max,
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
    },
  };
}

async function dbNow(pool: pg.Pool): Promise<Date> {
  const { rows } = await pool.query<{ now: Date }>('SELECT clock_timestamp() AS now');
  return rows[0]!.now;
}

/** Paced wide runs; projector lag sampled and per event. */
async function lagBench(h: Harness): Promise<BenchResult[]> {
  await call(h.server, 'POST', '/api/v1/dags', wideDag);
  await waitFor(async () => h.projector.lagMs === 0, 'projector caught up before the lag phase');
  const intervalMs = (1000 * WIDE_TASKS) / TARGET_TASKS_PER_S;
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(h.projector.lagMs), LAG_SAMPLE_MS);
  h.eventLags.length = 0;
  h.recording = true;
  let requested = 0;
  let skipped = 0;
  let maxActive = 0;
  const t0 = await dbNow(h.pool);
  const started = performance.now();
  try {
    for (let i = 0; ; i++) {
      const due = started + i * intervalMs;
      if (due >= started + LAG_WINDOW_MS) break;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      maxActive = Math.max(maxActive, h.engine.leader.activeRuns);
      if (h.engine.leader.activeRuns >= MAX_ACTIVE_RUNS) {
        skipped++;
        continue;
      }
      await requestRun({ store: h.store, metadata: meta }, { dagId: wideDag.name, params: {} });
      requested++;
    }
    const t1 = await dbNow(h.pool);
    const windowS = (t1.getTime() - t0.getTime()) / 1000;
    await waitFor(
      async () => (await countRuns(h.pool, wideDag.name, 'succeeded')) === requested,
      'wide runs succeeded in the read model',
    );
    await waitFor(async () => h.projector.lagMs === 0, 'projector caught up after the lag phase');
    const drainedS = (performance.now() - started) / 1000;
    clearInterval(sampler);
    h.recording = false;
    const { rows } = await h.pool.query<{ window: string; total: string; first: Date; last: Date }>(
      `SELECT count(*) FILTER (WHERE created_at <= $2)::text AS window, count(*)::text AS total,
              min(created_at) AS first, max(created_at) AS last
         FROM events WHERE type = 'AttemptSucceeded' AND created_at >= $1`,
      [t0, t1],
    );
    const row = rows[0]!;
    const inWindow = Number(row.window);
    const total = Number(row.total);
    const spanS = (row.last.getTime() - row.first.getTime()) / 1000;
    const sampled = [...samples].sort((a, b) => a - b);
    const perEvent = [...h.eventLags].sort((a, b) => a - b);
    const common = {
      targetTasksPerS: TARGET_TASKS_PER_S,
      achievedTasksPerS: round(inWindow / windowS),
      tasksPerRun: WIDE_TASKS,
      runsRequested: requested,
      requestsSkippedAtActiveCap: skipped,
      maxActiveRuns: maxActive,
      windowS: round(windowS, 2),
    };
    return [
      {
        name: 'engine.tasks_per_s.paced_window',
        value: round(inWindow / windowS),
        unit: 'tasks/s',
        detail: {
          ...common,
          tasksSucceededInWindow: inWindow,
          tasksSucceededTotal: total,
          firstToLastSucceededS: round(spanS, 2),
          overallTasksPerS: round(total / spanS),
          drainedAfterS: round(drainedS, 2),
          source: 'AttemptSucceeded events by created_at',
        },
      },
      {
        name: 'projection.lag.sampled_p99',
        value: percentile(sampled, 0.99),
        unit: 'ms',
        detail: {
          ...common,
          sampleEveryMs: LAG_SAMPLE_MS,
          samples: sampled.length,
          p50Ms: percentile(sampled, 0.5),
          p99Ms: percentile(sampled, 0.99),
          maxMs: sampled.at(-1) ?? Number.NaN,
          source: 'projector.lagMs',
        },
      },
      {
        name: 'projection.lag.per_event_p99',
        value: round(percentile(perEvent, 0.99)),
        unit: 'ms',
        detail: {
          ...common,
          events: perEvent.length,
          p50Ms: round(percentile(perEvent, 0.5)),
          p99Ms: round(percentile(perEvent, 0.99)),
          maxMs: round(perEvent.at(-1) ?? Number.NaN),
          source: 'batch commit time − event created_at',
        },
      },
    ];
  } finally {
    clearInterval(sampler);
    h.recording = false;
  }
}

export async function runApiBench(databaseUrl: string): Promise<BenchResult[]> {
  const name = `dagrun_bench_api_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString(), { max: 20, applicationName: 'dagrun-bench-api' });
  const config = loadConfig({});
  const stop: (() => Promise<void>)[] = [];
  try {
    await migrate(pool);
    const store = withSchemaValidation(new PostgresEventStore({ pool }));
    stop.unshift(() => store.close());
    const engine = await startEngine({
      store,
      pool,
      log,
      baseDir: tmpdir(),
      workers: config.workers.count,
      concurrency: config.workers.concurrency,
      drainGraceMs: 5_000,
    });
    stop.unshift(() => engine.stop());
    const registry = new Registry();
    const eventLags: number[] = [];
    const state = { recording: false };
    const projector = new Projector({
      store,
      pool,
      log,
      registry,
      beforeCommit: async (events) => {
        if (!state.recording) return;
        const now = Date.now();
        for (const e of events) eventLags.push(now - e.createdAt.getTime());
      },
    }).start();
    stop.unshift(() => projector.stop());
    const server = await startApiServer({
      store,
      pool,
      projector,
      engine,
      registry,
      log,
      api: { ...config.api, host: '127.0.0.1', port: 0, tokens: [] },
      maxSpecBytes: config.maxSpecBytes,
    });
    stop.unshift(() => server.close());
    const h: Harness = {
      pool,
      store,
      engine,
      projector,
      server,
      eventLags,
      get recording() {
        return state.recording;
      },
      set recording(on: boolean) {
        state.recording = on;
      },
    };

    const results: BenchResult[] = [];
    const populated = await populate(h);
    results.push({
      name: 'api.populate',
      value: round(POPULATE_RUNS / populated.seconds),
      unit: 'runs/s',
      detail: {
        runs: POPULATE_RUNS,
        tasksPerRun: smallDag.tasks.length,
        seconds: round(populated.seconds, 2),
        engine: `${config.workers.count} workers × ${config.workers.concurrency} slots`,
      },
    });
    for (const connections of CONNECTIONS) {
      results.push(await loadTest(h, 'api.get_run', `/api/v1/runs/${populated.runId}`, connections));
      results.push(await loadTest(h, 'api.list_runs_50', '/api/v1/runs?limit=50', connections));
    }
    results.push(...(await lagBench(h)));
    return results;
  } finally {
    for (const s of stop) await s();
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

function markdown(results: readonly BenchResult[]): string {
  const cell = (r: BenchResult) => {
    const d = r.detail;
    if (r.unit === 'req/s') return `p50 ${d['p50Ms']} ms, p99 ${d['p99Ms']} ms, non-2xx ${d['non2xx']}`;
    if (r.name.startsWith('projection.lag'))
      return `p50 ${d['p50Ms']} ms, p99 ${d['p99Ms']} ms, max ${d['maxMs']} ms at ${d['achievedTasksPerS']} tasks/s`;
    if (r.unit === 'tasks/s')
      return `target ${d['targetTasksPerS']}, ${d['runsRequested']} runs × ${d['tasksPerRun']}`;
    return Object.entries(d)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  };
  return [
    '| benchmark | value | unit | detail |',
    '|---|---:|---|---|',
    ...results.map((r) => `| ${r.name} | ${r.value} | ${r.unit} | ${cell(r)} |`),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const url = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const results = await runApiBench(url);
  for (const result of results) console.log(JSON.stringify(result));
  console.log(`\n${markdown(results)}`);
}
