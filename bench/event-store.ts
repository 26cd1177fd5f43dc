/**
 * Event store benchmark: append throughput (one stream, many streams, batches), readAll
 * throughput, and append → delivered latency of a live subscription. Creates and drops its own
 * database. Run alone with `node --import tsx bench/event-store.ts` (DATABASE_URL names the
 * server; default postgres://postgres@127.0.0.1:5432/postgres), or import `runEventStoreBench`.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { PostgresEventStore } from '../src/events/postgres/index.js';
import type { NewEvent, RecordedEvent } from '../src/events/types.js';

export interface BenchResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** How the figure was obtained (counts, concurrency, percentiles…). */
  readonly detail: Record<string, number | string | boolean>;
}

const metadata = { correlationId: 'bench', causationId: 'bench', actor: 'bench' };
const event = (n: number): NewEvent => ({ type: 'Benched', data: { n, payload: 'x'.repeat(100) }, metadata });
const events = (count: number, from = 0) => Array.from({ length: count }, (_, i) => event(from + i));

async function timed(work: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Runs `total` tasks with at most `concurrency` in flight. */
async function inParallel(
  total: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++);
    }),
  );
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

type Stores = Record<'after_commit' | 'in_transaction' | 'off', PostgresEventStore>;

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

async function appendBenches(stores: Stores): Promise<BenchResult[]> {
  const store = stores.after_commit;
  const results: BenchResult[] = [];
  const oneStream = 2_000;
  const seconds = await timed(async () => {
    for (let i = 0; i < oneStream; i++)
      await store.append('bench-one', [event(i)], i === 0 ? 'no_stream' : i - 1);
  });
  results.push({
    name: 'append.one_stream.sequential',
    value: round(oneStream / seconds),
    unit: 'events/s',
    detail: { appends: oneStream, eventsPerAppend: 1, expected: 'exact revision' },
  });

  for (const notify of ['after_commit', 'in_transaction', 'off'] as const) {
    const target = stores[notify];
    const label =
      notify === 'after_commit'
        ? 'append.many_streams.concurrent'
        : `append.many_streams.concurrent.notify_${notify}`;
    const appends = 4_000;
    const concurrency = 16;
    const s = await timed(() =>
      inParallel(appends, concurrency, async (i) => {
        await target.append(`bench-many-${label.length}-${i}`, [event(i)], 'no_stream');
      }),
    );
    results.push({
      name: label,
      value: round(appends / s),
      unit: 'events/s',
      detail: { appends, concurrency, eventsPerAppend: 1, notify },
    });
  }

  const batches = 200;
  const batchSeconds = await timed(() =>
    inParallel(batches, 4, async (i) => {
      await store.append(`bench-batch-${i % 8}`, events(100, i * 100));
    }),
  );
  results.push({
    name: 'append.batches_of_100',
    value: round((batches * 100) / batchSeconds),
    unit: 'events/s',
    detail: { appends: batches, eventsPerAppend: 100, concurrency: 4 },
  });
  return results;
}

async function readAllBench(store: PostgresEventStore): Promise<BenchResult> {
  let read = 0;
  const pageSize = 1_000;
  const seconds = await timed(async () => {
    let after: RecordedEvent['position'] | undefined;
    for (;;) {
      const page = await store.readAll({ after, maxCount: pageSize });
      if (page.length === 0) break;
      read += page.length;
      after = page.at(-1)!.position;
    }
  });
  return {
    name: 'read_all',
    value: round(read / seconds),
    unit: 'events/s',
    detail: { events: read, pageSize },
  };
}

/** Append → delivered latency; `writers` appenders share `total` single-event appends. */
async function latencyBench(store: PostgresEventStore, total: number, writers: number): Promise<BenchResult> {
  const prefix = `lat${writers}-`;
  const sentAt = new Map<number, bigint>();
  const latencies: number[] = [];
  const subscription = store.subscribe({ from: 'end', streamPrefixes: [prefix] });
  const delivered = (async () => {
    for await (const e of subscription) {
      const n = (e.data as { n: number }).n;
      latencies.push(Number(process.hrtime.bigint() - sentAt.get(n)!) / 1e6);
      if (latencies.length === total) break;
    }
  })();
  // Let the subscription resolve 'end' and start listening before the clock starts.
  await new Promise((resolve) => setTimeout(resolve, 300));
  await inParallel(total, writers, async (i) => {
    sentAt.set(i, process.hrtime.bigint());
    await store.append(`${prefix}${i % 16}`, [event(i)]);
    // A little think time: latency, not saturation, is the question here.
    await new Promise((resolve) => setTimeout(resolve, 1));
  });
  await delivered;
  latencies.sort((a, b) => a - b);
  return {
    name: writers === 1 ? 'subscription.latency' : 'subscription.latency.concurrent_writers',
    value: round(percentile(latencies, 50), 2),
    unit: 'ms (p50)',
    detail: {
      appends: total,
      writers,
      p50: round(percentile(latencies, 50), 2),
      p90: round(percentile(latencies, 90), 2),
      p99: round(percentile(latencies, 99), 2),
      max: round(latencies.at(-1)!, 2),
    },
  };
}

/** Runs every benchmark in a fresh database on the server at `databaseUrl`, then drops it. */
export async function runEventStoreBench(databaseUrl: string): Promise<BenchResult[]> {
  const name = `dagrun_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString(), { max: 20, applicationName: 'dagrun-bench' });
  const stores = {
    after_commit: new PostgresEventStore({ pool, notify: 'after_commit' }),
    in_transaction: new PostgresEventStore({ pool, notify: 'in_transaction' }),
    off: new PostgresEventStore({ pool, notify: 'off' }),
  };
  const store = stores.after_commit;
  try {
    await migrate(pool);
    const results = [...(await appendBenches(stores)), await readAllBench(store)];
    results.push(await latencyBench(store, 1_000, 1));
    results.push(await latencyBench(store, 2_000, 8));
    return results;
  } finally {
    for (const s of Object.values(stores)) await s.close();
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const url = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  for (const result of await runEventStoreBench(url)) console.log(JSON.stringify(result));
}
