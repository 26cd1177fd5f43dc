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
 *
 * The projection lag under a steady task rate has a benchmark of its own: bench/projection-lag.ts.
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

const POPULATE_RUNS = 200;
const WARMUP_S = 2;
const MEASURE_S = 10;
const CONNECTIONS = [16, 32] as const;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

const smallDag = {
  name: 'api-bench-small',
  tasks: [
    { id: 'extract', type: 'noop' },
    { id: 'transform', type: 'noop', dependencies: ['extract'] },
    { id: 'load', type: 'noop', dependencies: ['transform'] },
  ],
};

interface Harness {
  readonly pool: pg.Pool;
  readonly store: EventStore;
  readonly engine: Engine;
  readonly projector: Projector;
  readonly server: ApiServer;
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
    const projector = new Projector({
      store,
      pool,
      log,
      registry,
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
    return results;
  } finally {
    for (const s of stop) await s();
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

function markdown(results: readonly BenchResult[]): string {
  const cell = (r: BenchResult) =>
    r.unit === 'req/s'
      ? `p50 ${r.detail['p50Ms']} ms, p99 ${r.detail['p99Ms']} ms, non-2xx ${r.detail['non2xx']}`
      : Object.entries(r.detail)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
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
