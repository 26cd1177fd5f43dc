/**
 * Leader faults on a real cluster: the api, 2 schedulers, 3 workers and a projector as separate
 * processes on real Postgres and etcd (2 s lease TTL). After each fault every run must finish and the checker must
 * find the history sound (no lost task, no overlapping attempts, DLQ exactly where retries ran
 * out, no decision under an older term after a newer one).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ClusterProcess, TestCluster } from '../../support/cluster.js';
import { startWorkload, waitForClaims, waitForRuns } from '../../support/cluster-workload.js';
import { createTestDatabase, etcdEndpoints } from '../../support/database.js';
import { testStore } from '../../support/engine.js';
import { checkHistory } from '../../support/history-checker.js';

const db = await createTestDatabase();
const store = testStore(db);
let cluster: TestCluster;

beforeAll(async () => {
  cluster = new TestCluster({ databaseUrl: db.url, etcdEndpoints: etcdEndpoints(), leaseTtlSeconds: 2 });
  await Promise.all([cluster.startScheduler(), cluster.startScheduler()]);
  await Promise.all([cluster.startWorker(), cluster.startWorker(), cluster.startWorker()]);
  await Promise.all([cluster.startApi(), cluster.startProjector()]);
}, 120_000);

/** The run as the API serves it (from the read models the projector process keeps). */
async function apiRun(runId: string): Promise<{ status: string }> {
  for (let i = 0; i < 200; i++) {
    const response = await fetch(`${cluster.apiUrl}/api/v1/runs/${runId}`);
    if (response.status === 200) {
      const run = (await response.json()) as { status: string };
      if (['succeeded', 'failed', 'cancelled'].includes(run.status)) return run;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the API never showed run ${runId} finished\n${cluster.tails()}`);
}

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

async function expectSoundHistory(): Promise<void> {
  const report = await checkHistory(store);
  expect(report.violations, cluster.tails()).toEqual([]);
}

describe('leader faults', () => {
  test('SIGKILL of the leader mid-run: the other scheduler takes over and every run finishes', async () => {
    const runs = await startWorkload(store, 2, { tasks: 12, sleep: 0.5, failing: true });
    await waitForClaims(store, runs, 4);
    const before = await cluster.leader();
    before.proc.signal('SIGKILL');
    const after = await cluster.leader({ not: before.term });
    expect(after.proc).not.toBe(before.proc);
    expect(after.term).toBeGreaterThan(before.term);
    await waitForRuns(store, runs).catch((error) => {
      throw new Error(`${String(error)}\n${cluster.tails()}`);
    });
    await expectSoundHistory();
    const report = await checkHistory(store);
    expect(report.terms).toEqual(expect.arrayContaining([before.term, after.term]));
    expect(report.deadLettered).toBe(2);
    // The API process serves the outcome the projector process projected.
    for (const runId of runs) expect((await apiRun(runId)).status).toBe('failed');
    await cluster.startScheduler();
  }, 180_000);

  test('SIGTERM of the leader: it resigns and exits 0, another scheduler takes over, every run finishes', async () => {
    const runs = await startWorkload(store, 1, { tasks: 10, sleep: 0.3 });
    await waitForClaims(store, runs, 4);
    const before = await cluster.leader();
    before.proc.signal('SIGTERM');
    const after = await cluster.leader({ not: before.term });
    expect(after.proc).not.toBe(before.proc);
    expect(await before.proc.exit).toBe(0);
    await waitForRuns(store, runs).catch((error) => {
      throw new Error(`${String(error)}\n${cluster.tails()}`);
    });
    await expectSoundHistory();
    await cluster.startScheduler();
  }, 180_000);

  test('SIGSTOP of the leader past its TTL, then SIGCONT: the old leader appends nothing after the new one leads', async () => {
    const runs = await startWorkload(store, 2, { tasks: 10, sleep: 0.4 });
    await waitForClaims(store, runs, 4);
    const before = await cluster.leader();
    before.proc.signal('SIGSTOP');
    let resumed: ClusterProcess | undefined;
    try {
      const after = await cluster.leader({ not: before.term });
      expect(after.proc).not.toBe(before.proc);
      // Let the new leader decide for a while before the old one wakes up.
      await waitForClaims(store, runs, 8);
    } finally {
      before.proc.signal('SIGCONT');
      resumed = before.proc;
    }
    await waitForRuns(store, runs).catch((error) => {
      throw new Error(`${String(error)}\n${cluster.tails()}`);
    });
    await expectSoundHistory();
    // The woken scheduler is still up, no longer leading: it stepped down and campaigns again.
    expect(resumed.alive).toBe(true);
    const now = await cluster.leader();
    expect(now.proc).not.toBe(resumed);
  }, 180_000);
});
