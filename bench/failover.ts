/**
 * Failover figures of a distributed deployment on one machine: 2 schedulers, 3 workers and a
 * projector as separate processes, a Postgres database of its own and an etcd of its own, with a
 * 2 s lease TTL (DAGRUN_LEASE_TTL_S; --ttl=N to change).
 *
 *   node --import tsx bench/failover.ts [--trials=10] [--ttl=2] [--out=FILE]
 *
 * - Leader failover, per trial: while a run keeps the workers busy, SIGKILL the leader and time
 *   (a) until the new leader's first decision (its first TaskQueued, under the new term) and
 *   (b) until the first claim of an attempt the new leader queued: the next task dispatched.
 *   A scheduler is started again after each trial, so two always compete.
 * - Hand-over on SIGTERM, per trial: the leader resigns; time until the new leader's first
 *   decision.
 * - Worker-loss detection, per trial: SIGKILL a worker that runs an attempt and time until the
 *   leader records WorkerLost (its lease expired and the registry dropped it).
 *
 * The scheduler's backlog bound is 12 (DAGRUN_MAX_BACKLOG), so the old leader cannot have queued
 * the whole run ahead: after the kill, work only continues once the new leader decides.
 * Times are from the kill to the event's own timestamp (one machine, one clock).
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { PostgresEventStore } from '../src/events/postgres/index.js';
import type { RecordedEvent } from '../src/events/types.js';
import { withSchemaValidation } from '../src/events/validating-store.js';
import { TestCluster } from '../test/support/cluster.js';
import { startWorkload, waitForClaims, waitForRuns } from '../test/support/cluster-workload.js';
import { startEtcdCluster } from '../test/support/etcd-cluster.js';
import { withBenchDatabase } from './support/database.js';
import { ascending, percentile, sleep } from './support/stats.js';

const argv = process.argv.slice(2);
const option = (name: string, fallback: string) =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const trials = Number(option('trials', '10'));
const ttl = Number(option('ttl', '2'));
const out = argv.find((a) => a.startsWith('--out='))?.slice(6);
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

interface Figures {
  readonly resign: number[];
  readonly decide: number[];
  readonly dispatch: number[];
  readonly workerLoss: number[];
}

async function main(): Promise<void> {
  const figures = await withBenchDatabase(serverUrl, 'failover', async (db) => {
    const pool = createPool(db.url, { max: 5 });
    await migrate(pool);
    const store = withSchemaValidation(new PostgresEventStore({ pool }));
    const etcd = await startEtcdCluster(1);
    // A small backlog bound, so the leader queues work as slots free up (as under sustained load)
    // rather than all 400 tasks at once; the new leader then has to decide before anything runs.
    const cluster = new TestCluster({
      databaseUrl: db.url,
      etcdEndpoints: etcd.endpoints,
      leaseTtlSeconds: ttl,
      env: { DAGRUN_MAX_BACKLOG: '12' },
    });
    try {
      await Promise.all([cluster.startScheduler(), cluster.startScheduler()]);
      await Promise.all([cluster.startWorker(), cluster.startWorker(), cluster.startWorker()]);
      // The projector keeps the read models' checkpoint close: a new leader starts from there.
      await cluster.startProjector();
      return await measure(cluster, store);
    } finally {
      await cluster.stop();
      await etcd.destroy();
      await store.close();
      await pool.end();
    }
  });
  const report = render(figures);
  process.stdout.write(report);
  if (out) writeFileSync(out, report);
}

async function measure(
  cluster: TestCluster,
  store: ReturnType<typeof withSchemaValidation>,
): Promise<Figures> {
  const figures: Figures = { resign: [], decide: [], dispatch: [], workerLoss: [] };
  for (let trial = 1; trial <= trials; trial++) {
    const runs = await startWorkload(store, 1, { tasks: 400, sleep: 0.05 });
    await waitForClaims(store, runs, 20);
    const before = await cluster.leader();
    const killedAt = Date.now();
    before.proc.signal('SIGKILL');
    const after = await cluster.leader({ not: before.term });
    const { queuedAt, claimedAt } = await firstUnderTerm(store, runs[0] as string, after.term);
    figures.decide.push(queuedAt - killedAt);
    figures.dispatch.push(claimedAt - killedAt);
    process.stderr.write(
      `trial ${trial}: decided after ${queuedAt - killedAt} ms, dispatched after ${claimedAt - killedAt} ms\n`,
    );
    await cluster.startScheduler();
    await waitForRuns(store, runs, 300_000);
  }
  for (let trial = 1; trial <= Math.min(trials, 5); trial++) {
    // A clean hand-over: SIGTERM makes the leader resign instead of letting its lease expire.
    const runs = await startWorkload(store, 1, { tasks: 400, sleep: 0.05 });
    await waitForClaims(store, runs, 20);
    const before = await cluster.leader();
    const signalledAt = Date.now();
    before.proc.signal('SIGTERM');
    const after = await cluster.leader({ not: before.term });
    const { queuedAt } = await firstUnderTerm(store, runs[0] as string, after.term);
    figures.resign.push(queuedAt - signalledAt);
    process.stderr.write(`resign trial ${trial}: new leader decided after ${queuedAt - signalledAt} ms\n`);
    await cluster.startScheduler();
    await waitForRuns(store, runs, 300_000);
  }
  for (let trial = 1; trial <= Math.min(trials, 5); trial++) {
    const runs = await startWorkload(store, 1, { tasks: 60, sleep: 1 });
    await waitForClaims(store, runs, 6);
    const victim = cluster.processes.find((p) => p.role === 'worker' && p.alive);
    if (!victim) throw new Error('no live worker');
    const killedAt = Date.now();
    victim.signal('SIGKILL');
    const lostAt = await workerLostAt(store, victim.name, killedAt);
    figures.workerLoss.push(lostAt - killedAt);
    process.stderr.write(`worker trial ${trial}: lost after ${lostAt - killedAt} ms\n`);
    await cluster.startWorker();
    await waitForRuns(store, runs, 300_000);
  }
  return figures;
}

/** When the new leader queued its first attempt of the run, and when that attempt was claimed. */
async function firstUnderTerm(
  store: ReturnType<typeof withSchemaValidation>,
  runId: string,
  term: number,
): Promise<{ queuedAt: number; claimedAt: number }> {
  for (;;) {
    const queued = (await store.readStream(`run-${runId}`)).find(
      (e) => e.type === 'TaskQueued' && (e.data as { term: number }).term === term,
    );
    if (queued) {
      const { taskId, attempt, queuedAt } = queued.data as {
        taskId: string;
        attempt: number;
        queuedAt: string;
      };
      const claim = await waitFor(async () => {
        const events = await store.readStream(`attempt-${runId}-${taskId}-${attempt}`);
        return events.find((e) => e.type === 'AttemptStarted');
      });
      return {
        queuedAt: Date.parse(queuedAt),
        claimedAt: Date.parse((claim.data as { startedAt: string }).startedAt),
      };
    }
    await sleep(20);
  }
}

/** When the leader recorded the worker lost after `since` (an overloaded machine can lose a live worker earlier). */
async function workerLostAt(
  store: ReturnType<typeof withSchemaValidation>,
  workerId: string,
  since: number,
): Promise<number> {
  const lost = await waitFor(async () =>
    (await store.readStream('workers')).find(
      (e: RecordedEvent) =>
        e.type === 'WorkerLost' &&
        (e.data as { workerId: string }).workerId.startsWith(`${workerId}.`) &&
        Date.parse((e.data as { at: string }).at) >= since,
    ),
  );
  return Date.parse((lost.data as { at: string }).at);
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(20);
  }
}

function render(figures: Figures): string {
  const row = (name: string, samples: number[]) => {
    const sorted = ascending(samples);
    return `| ${name} | ${samples.length} | ${Math.round(percentile(sorted, 0.5))} | ${Math.round(sorted.at(-1) ?? Number.NaN)} | ${Math.round(sorted[0] ?? Number.NaN)} |`;
  };
  return [
    `### Failover (lease TTL ${ttl} s; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')})`,
    '',
    '| measure | trials | p50 ms | max ms | min ms |',
    '|---|---|---|---|---|',
    row('leader SIGKILL → new leader’s first decision', figures.decide),
    row('leader SIGKILL → next task dispatched (claimed)', figures.dispatch),
    row('leader SIGTERM (resigns) → new leader’s first decision', figures.resign),
    row('worker SIGKILL → WorkerLost recorded', figures.workerLoss),
    '',
  ].join('\n');
}

await main();
