/**
 * Worker faults on a real cluster (2 schedulers, 3 workers; 2 s lease TTL): a worker killed
 * mid-task (its task processes must die with it), a worker paused past its lease, a worker
 * drained with SIGTERM, and label routing. After each, every run finishes and the history holds.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { registerDag, requestRun } from '../../../src/commands/index.js';
import { parseDagOrThrow } from '../../../src/dag/index.js';
import type { RecordedEvent } from '../../../src/events/types.js';
import { type ClusterProcess, TestCluster } from '../../support/cluster.js';
import { startWorkload, waitForRuns } from '../../support/cluster-workload.js';
import { createTestDatabase, etcdEndpoints } from '../../support/database.js';
import { testStore } from '../../support/engine.js';
import { checkHistory } from '../../support/history-checker.js';

const db = await createTestDatabase();
const store = testStore(db);
let cluster: TestCluster;
let scratch: string;
const meta = { correlationId: 'cluster-test', actor: 'test' };

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'dagrun-cluster-'));
  cluster = new TestCluster({ databaseUrl: db.url, etcdEndpoints: etcdEndpoints(), leaseTtlSeconds: 2 });
  await Promise.all([cluster.startScheduler(), cluster.startScheduler()]);
  await Promise.all([cluster.startWorker(), cluster.startWorker(), cluster.startWorker({ labels: ['gpu'] })]);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await rm(scratch, { recursive: true, force: true });
}, 60_000);

async function allEvents(prefixes: string[]): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for (let after: RecordedEvent['position'] | undefined; ; ) {
    const page = await store.readAll({ after, maxCount: 5000, streamPrefixes: prefixes });
    if (page.length === 0) return events;
    events.push(...page);
    after = page[page.length - 1]?.position;
  }
}

/** The worker process running an attempt of these runs right now (claimed, no outcome yet). */
async function busyWorker(runIds: readonly string[]): Promise<ClusterProcess> {
  const runs = new Set(runIds);
  for (let i = 0; i < 300; i++) {
    const events = await allEvents(['attempt-']);
    const open = new Map<string, string>();
    for (const e of events) {
      const data = e.data as { runId: string; workerId?: string };
      if (!runs.has(data.runId)) continue;
      if (e.type === 'AttemptStarted') open.set(e.streamName, data.workerId as string);
      else open.delete(e.streamName);
    }
    for (const workerId of open.values()) {
      const proc = cluster.processes.find(
        (p) => p.role === 'worker' && isWorker(workerId, p.name) && p.alive,
      );
      if (proc) return proc;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no worker is running an attempt');
}

async function expectSoundHistory(): Promise<void> {
  const report = await checkHistory(store);
  expect(report.violations, cluster.tails()).toEqual([]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A worker's id is its name and a suffix per process start (`<name>.<hex>`). */
function isWorker(workerId: string, name: string): boolean {
  return workerId.startsWith(`${name}.`);
}

/** The worker's registry events of `type`, recorded at or after `since` (epoch ms). */
async function workerEvents(type: string, name: string, since = 0): Promise<RecordedEvent[]> {
  return (await store.readStream('workers')).filter(
    (e) =>
      e.type === type &&
      isWorker((e.data as { workerId: string }).workerId, name) &&
      Date.parse((e.data as { at: string }).at) >= since,
  );
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${cluster.tails()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('worker faults', () => {
  test('SIGKILL of a worker mid-task: its task processes die, its attempts are retried elsewhere', async () => {
    const pids = join(scratch, 'pids');
    const yaml = [
      'name: killed-worker',
      'tasks:',
      ...Array.from(
        { length: 6 },
        (_, i) =>
          `  - { id: slow-${i + 1}, type: shell, command: "echo $$ >> ${pids}; sleep 3", retry: { maxAttempts: 3, backoff: fixed, initialDelay: 100ms } }`,
      ),
    ].join('\n');
    const dag = parseDagOrThrow(yaml);
    await registerDag({ store, metadata: meta }, dag);
    const { runId } = await requestRun({ store, metadata: meta }, { dagId: dag.name });
    const victim = await busyWorker([runId]);
    // Give the claimed tasks a moment to write their pids.
    await eventually(
      async () => (await readFile(pids, 'utf8').catch(() => '')).trim().length > 0,
      'task pids',
    );
    victim.signal('SIGKILL');
    await victim.exit;
    await waitForRuns(store, [runId]);
    const started = (await readFile(pids, 'utf8')).split('\n').filter(Boolean).map(Number);
    await eventually(async () => started.every((pid) => !alive(pid)), 'every task process gone');
    const lost = await workerEvents('WorkerLost', victim.name);
    expect(lost.length).toBeGreaterThanOrEqual(1);
    const abandoned = (await allEvents(['attempt-'])).filter(
      (e) =>
        e.type === 'AttemptAbandoned' &&
        (e.data as { runId: string; failure: { kind: string } }).runId === runId &&
        (e.data as { failure: { kind: string } }).failure.kind === 'worker_lost',
    );
    expect(abandoned.length).toBeGreaterThanOrEqual(1);
    const run = await store.readStream(`run-${runId}`);
    expect(run.at(-1)?.type).toBe('RunSucceeded');
    await expectSoundHistory();
    await cluster.startWorker({ labels: victim.labels });
  }, 180_000);

  test('SIGSTOP of a worker past its lease, then SIGCONT: it is declared lost, its outcomes are refused, it rejoins', async () => {
    const runs = await startWorkload(store, 1, { tasks: 8, sleep: 1.5 });
    const victim = await busyWorker(runs);
    victim.signal('SIGSTOP');
    try {
      await eventually(
        async () => (await workerEvents('WorkerLost', victim.name)).length > 0,
        'WorkerLost',
        60_000,
      );
    } finally {
      victim.signal('SIGCONT');
    }
    await waitForRuns(store, runs);
    // It registers again under the same id and is a live worker once more.
    await eventually(
      async () => (await cluster.registeredWorkers()).some((id) => isWorker(id, victim.name)),
      'registered again',
    );
    expect(victim.alive).toBe(true);
    await expectSoundHistory();
  }, 180_000);

  test('a task that requires a label runs only on a worker that offers it', async () => {
    const runs = await startWorkload(store, 2, { tasks: 6, sleep: 0.1, labels: ['gpu'] });
    await waitForRuns(store, runs);
    const claims = (await allEvents(['attempt-'])).filter(
      (e) => e.type === 'AttemptStarted' && runs.includes((e.data as { runId: string }).runId),
    );
    expect(claims.length).toBeGreaterThanOrEqual(14);
    const gpuWorkers = new Set(
      (await store.readStream('workers'))
        .filter((e) => e.type === 'WorkerJoined' && (e.data as { labels: string[] }).labels.includes('gpu'))
        .map((e) => (e.data as { workerId: string }).workerId),
    );
    for (const claim of claims) expect(gpuWorkers).toContain((claim.data as { workerId: string }).workerId);
    await expectSoundHistory();
  }, 120_000);

  test('the leader and the workers count on /metrics what they decided and ran', async () => {
    const runs = await startWorkload(store, 1, { tasks: 4, sleep: 0.05 });
    await waitForRuns(store, runs);
    const { proc: leader } = await cluster.leader();
    const scheduler = await (await fetch(`${leader.healthUrl}/metrics`)).text();
    expect(sampleOf(scheduler, 'dagrun_scheduler_decisions_total{type="TaskQueued"}')).toBeGreaterThanOrEqual(
      4,
    );
    expect(sampleOf(scheduler, 'dagrun_dispatcher_claim_wait_seconds_count')).toBeGreaterThanOrEqual(4);
    expect(sampleOf(scheduler, 'dagrun_scheduler_decision_append_seconds_count')).toBeGreaterThan(0);
    const workers = cluster.processes.filter((p) => p.role === 'worker' && p.alive);
    let ran = 0;
    for (const worker of workers) {
      const text = await (await fetch(`${worker.healthUrl}/metrics`)).text();
      expect(text).toContain('dagrun_worker_waiting_attempts');
      for (const line of text.split('\n'))
        if (line.startsWith('dagrun_worker_attempts_total{') && line.includes('outcome="AttemptSucceeded"'))
          ran += Number(line.split(' ').at(-1));
    }
    expect(ran).toBeGreaterThanOrEqual(4);
  }, 120_000);

  test('SIGTERM drains a worker: it finishes what it runs, leaves (WorkerLeft, not lost) and exits 0', async () => {
    const runs = await startWorkload(store, 1, { tasks: 6, sleep: 1 });
    const victim = await busyWorker(runs);
    const sentAt = Date.now();
    victim.signal('SIGTERM');
    expect(await victim.exit).toBe(0);
    await waitForRuns(store, runs);
    await eventually(
      async () => (await workerEvents('WorkerLeft', victim.name, sentAt)).length > 0,
      'WorkerLeft',
    );
    expect(await workerEvents('WorkerLost', victim.name, sentAt)).toEqual([]);
    // Nothing it ran was abandoned: it finished its attempts within the grace period.
    const abandoned = (await allEvents(['attempt-'])).filter(
      (e) => e.type === 'AttemptAbandoned' && runs.includes((e.data as { runId: string }).runId),
    );
    expect(abandoned).toEqual([]);
    await expectSoundHistory();
  }, 120_000);
});

/** The value of a sample line (`name{labels} value`) in Prometheus text; NaN when absent. */
function sampleOf(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}
