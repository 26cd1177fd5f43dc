/**
 * dagrun runs the workloads as YAML DAGs of `noop` tasks on the in-process engine (scheduler
 * leader, dispatcher, workers), with the event store as production configures it: every
 * event validated, every claim, outcome and decision an fsync'd append.
 *
 * Per task that is a TaskQueued decision (batched into one append per decision round),
 * an AttemptStarted claim (a new stream, expected `no_stream`) and an AttemptSucceeded outcome
 * (expected revision 0): three events, two of them in their own stream.
 */
import { tmpdir } from 'node:os';
import type pg from 'pg';
import { type Engine, startEngine } from '../../src/cli/engine.js';
import { registerDag, requestRun } from '../../src/commands/index.js';
import { parseDagOrThrow } from '../../src/dag/index.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import { PostgresEventStore } from '../../src/events/postgres/index.js';
import type { EventStore } from '../../src/events/types.js';
import { withSchemaValidation } from '../../src/events/validating-store.js';
import { createLogger } from '../../src/observability/logger.js';
import type { BenchDatabase } from '../support/database.js';
import { startDelayServer } from '../support/delay-server.js';
import { ascending, percentile, preciseNow, sleep } from '../support/stats.js';
import {
  BUDGET,
  type ChainResult,
  type FanResult,
  isLongSkewTask,
  type Meter,
  SKEW,
  type SkewResult,
  skewDurations,
  type ThroughputResult,
} from '../workloads.js';

const log = createLogger({ level: 'error' });
const meta = { correlationId: 'bench', actor: 'bench' };
const FINAL = ['RunSucceeded', 'RunFailed', 'RunCancelled'];

interface EngineShape {
  readonly workers: number;
  readonly concurrency: number;
  readonly stealing?: boolean;
}

interface Harness {
  readonly pool: pg.Pool;
  readonly store: EventStore;
  readonly engine: Engine;
}

async function withEngine<T>(
  db: BenchDatabase,
  shape: EngineShape,
  work: (h: Harness) => Promise<T>,
): Promise<T> {
  const pool = createPool(db.url, { max: 20, applicationName: 'dagrun-bench' });
  await migrate(pool);
  const store = withSchemaValidation(new PostgresEventStore({ pool }));
  const engine = await startEngine({
    store,
    pool,
    log,
    baseDir: tmpdir(),
    workers: shape.workers,
    concurrency: shape.concurrency,
    stealing: shape.stealing ?? true,
    drainGraceMs: 5_000,
  });
  try {
    return await work({ pool, store, engine });
  } finally {
    await engine.stop();
    await store.close();
    await pool.end();
  }
}

/** Registers the DAG (untimed), then times request → final run event; returns run id and seconds. */
async function timeRun(h: Harness, yaml: string, meter: Meter): Promise<{ runId: string; seconds: number }> {
  const dag = parseDagOrThrow(yaml, { maxBytes: 16 * 1024 * 1024 });
  await registerDag({ store: h.store, metadata: meta }, dag);
  await meter.start();
  const started = preciseNow();
  const { runId } = await requestRun({ store: h.store, metadata: meta }, { dagId: dag.name, params: {} });
  const final = await waitForRunEnd(h, runId);
  const seconds = (preciseNow() - started) / 1000;
  await meter.stop();
  if (final !== 'RunSucceeded') throw new Error(`bench run ${runId} ended with ${final}`);
  return { runId, seconds };
}

/**
 * Waits for the run's final event without loading the server it measures: the leader forgets a
 * run right after the append of its final decision has committed, so the engine's
 * `activeRuns` is watched in process (every millisecond), and the log confirms the end.
 */
async function waitForRunEnd(h: Harness, runId: string, timeoutMs = 300_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let seen = false;
  for (;;) {
    const active = h.engine.leader.activeRuns > 0;
    seen ||= active;
    if (seen && !active) {
      const { rows } = await h.pool.query<{ type: string }>(
        'SELECT type FROM events WHERE stream_name = $1 ORDER BY stream_revision DESC LIMIT 1',
        [`run-${runId}`],
      );
      const type = rows[0]?.type;
      if (type && FINAL.includes(type)) return type;
    }
    if (Date.now() > deadline) throw new Error(`run ${runId} did not finish in ${timeoutMs} ms`);
    await sleep(1);
  }
}

interface AttemptRow {
  readonly task_id: string;
  readonly type: string;
  readonly worker_id: string | null;
  readonly started_at: string | null;
  readonly finished_at: string | null;
}

/** Every attempt event of a run, from the log. */
async function attemptEvents(pool: pg.Pool, runId: string): Promise<AttemptRow[]> {
  const { rows } = await pool.query<AttemptRow>(
    `SELECT data->>'taskId' AS task_id, type, data->>'workerId' AS worker_id,
            data->>'startedAt' AS started_at, data->>'finishedAt' AS finished_at
     FROM events WHERE stream_name LIKE $1`,
    [`attempt-${runId}-%`],
  );
  return rows;
}

const id = (prefix: string, i: number, width: number) => `${prefix}${String(i).padStart(width, '0')}`;

export function throughputYaml(tasks: number): string {
  const lines = ['name: bench-throughput', 'tasks:'];
  for (let i = 0; i < tasks; i++) lines.push(`  - id: ${id('t', i, 5)}`, '    type: noop');
  return `${lines.join('\n')}\n`;
}

export function chainYaml(length: number): string {
  const lines = ['name: bench-chain', 'tasks:'];
  for (let i = 0; i < length; i++) {
    lines.push(`  - id: ${id('c', i, 3)}`, '    type: noop');
    if (i > 0) lines.push(`    dependencies: [${id('c', i - 1, 3)}]`);
  }
  return `${lines.join('\n')}\n`;
}

export function fanYaml(width: number): string {
  const lines = ['name: bench-fan', 'tasks:', '  - id: root', '    type: noop'];
  const mids = Array.from({ length: width }, (_, i) => id('m', i, 4));
  for (const mid of mids) lines.push(`  - id: ${mid}`, '    type: noop', '    dependencies: [root]');
  lines.push('  - id: sink', '    type: noop', `    dependencies: [${mids.join(', ')}]`);
  return `${lines.join('\n')}\n`;
}

export function skewYaml(base: string, durations: readonly number[]): string {
  const lines = ['name: bench-skew', 'defaults:', '  timeout: 1m', 'tasks:'];
  durations.forEach((ms, i) => {
    lines.push(`  - id: ${id('s', i, 3)}`, '    type: http', `    url: ${base}/sleep/${ms}`);
  });
  return `${lines.join('\n')}\n`;
}

const DEFAULT_SHAPE: EngineShape = { workers: BUDGET.workers, concurrency: BUDGET.slotsPerWorker };

export async function dagrunThroughput(
  db: BenchDatabase,
  meter: Meter,
  tasks: number,
): Promise<ThroughputResult> {
  return withEngine(db, DEFAULT_SHAPE, async (h) => {
    const { seconds } = await timeRun(h, throughputYaml(tasks), meter);
    return { tasks, seconds, tasksPerSecond: tasks / seconds };
  });
}

export async function dagrunChain(db: BenchDatabase, meter: Meter, length: number): Promise<ChainResult> {
  return withEngine(db, DEFAULT_SHAPE, async (h) => {
    const { runId, seconds } = await timeRun(h, chainYaml(length), meter);
    const events = await attemptEvents(h.pool, runId);
    const started = new Map<string, number>();
    const finished = new Map<string, number>();
    for (const e of events) {
      if (e.type === 'AttemptStarted' && e.started_at) started.set(e.task_id, Date.parse(e.started_at));
      if (e.type === 'AttemptSucceeded' && e.finished_at) finished.set(e.task_id, Date.parse(e.finished_at));
    }
    const hops: number[] = [];
    for (let i = 1; i < length; i++) {
      const done = finished.get(id('c', i - 1, 3));
      const next = started.get(id('c', i, 3));
      if (done === undefined || next === undefined) throw new Error(`chain hop ${i} is missing from the log`);
      hops.push(next - done);
    }
    return chainResult(hops, seconds);
  });
}

export function chainResult(hops: readonly number[], seconds: number): ChainResult {
  const hopMs = ascending(hops);
  return {
    hops: hopMs.length,
    hopMs,
    p50Ms: percentile(hopMs, 0.5),
    p99Ms: percentile(hopMs, 0.99),
    maxMs: hopMs.at(-1) ?? Number.NaN,
    seconds,
  };
}

export async function dagrunFan(db: BenchDatabase, meter: Meter, width: number): Promise<FanResult> {
  return withEngine(db, DEFAULT_SHAPE, async (h) => {
    const { seconds } = await timeRun(h, fanYaml(width), meter);
    return { tasks: width + 2, seconds };
  });
}

export async function dagrunSkew(db: BenchDatabase, meter: Meter, stealing: boolean): Promise<SkewResult> {
  const server = await startDelayServer();
  try {
    const shape = { workers: SKEW.workers, concurrency: SKEW.slotsPerWorker, stealing };
    return await withEngine(db, shape, async (h) => {
      const { runId, seconds } = await timeRun(h, skewYaml(server.base, skewDurations()), meter);
      const events = await attemptEvents(h.pool, runId);
      const longOn = new Map<string, number>();
      const starts: number[] = [];
      const longStarts: number[] = [];
      for (const e of events) {
        if (e.type !== 'AttemptStarted' || !e.started_at || !e.worker_id) continue;
        const at = Date.parse(e.started_at);
        starts.push(at);
        if (!isLongSkewTask(Number(e.task_id.slice(1)))) continue;
        longStarts.push(at);
        const worker = e.worker_id.slice(e.worker_id.lastIndexOf('-') + 1);
        longOn.set(worker, (longOn.get(worker) ?? 0) + 1);
      }
      const placement = [...longOn.entries()]
        .sort()
        .map(([w, n]) => `w${w}:${n}`)
        .join(' ');
      const first = Math.min(...starts);
      const longAt = ascending(longStarts)
        .map((t) => ((t - first) / 1000).toFixed(1))
        .join(', ');
      return { seconds, note: `long tasks ran on ${placement}, started at ${longAt} s` };
    });
  } finally {
    await server.close();
  }
}
