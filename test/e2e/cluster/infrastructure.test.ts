/**
 * Infrastructure faults under a real cluster (2 schedulers, 3 workers): etcd stopped for 10 s,
 * one member of a 3-member etcd cluster killed, and Postgres restarted mid-run. The cluster uses
 * an etcd and (for the restart) a Postgres server of this file's own, so nothing else notices.
 * Processes stay up through each fault, and every run finishes with a sound history.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../../src/db/embedded.js';
import { migrate } from '../../../src/db/migrate.js';
import { createPool } from '../../../src/db/pool.js';
import { PostgresEventStore } from '../../../src/events/postgres/index.js';
import { withSchemaValidation } from '../../../src/events/validating-store.js';
import { TestCluster } from '../../support/cluster.js';
import { startWorkload, waitForClaims, waitForRuns } from '../../support/cluster-workload.js';
import { createTestDatabase } from '../../support/database.js';
import { testStore } from '../../support/engine.js';
import { startEtcdCluster, waitHealthy } from '../../support/etcd-cluster.js';
import { checkHistory } from '../../support/history-checker.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
}, 90_000);

async function startCluster(databaseUrl: string, etcd: string[]): Promise<TestCluster> {
  const cluster = new TestCluster({ databaseUrl, etcdEndpoints: etcd, leaseTtlSeconds: 2 });
  cleanups.push(() => cluster.stop());
  await Promise.all([cluster.startScheduler(), cluster.startScheduler()]);
  await Promise.all([cluster.startWorker(), cluster.startWorker(), cluster.startWorker()]);
  return cluster;
}

describe('infrastructure faults', () => {
  test('etcd stopped for 10 s: no one decides meanwhile, then one leader resumes and nothing is lost', async () => {
    const db = await createTestDatabase();
    const store = testStore(db);
    const etcd = await startEtcdCluster(1);
    cleanups.push(() => etcd.destroy());
    const cluster = await startCluster(db.url, etcd.endpoints);
    // More work than 12 slots finish before the leader's lease runs out: decisions remain for
    // after the outage.
    const runs = await startWorkload(store, 2, { tasks: 18, sleep: 1.5, failing: true });
    await waitForClaims(store, runs, 4);
    const before = await cluster.leader();
    const member = etcd.members[0]!;
    await member.kill();
    await new Promise((r) => setTimeout(r, 10_000));
    await member.start();
    await waitHealthy(member);
    await waitForRuns(store, runs, 180_000).catch((error) => {
      throw new Error(`${String(error)}\n${cluster.tails()}`);
    });
    for (const p of cluster.processes) expect(p.alive, p.tail()).toBe(true);
    // One leader again, under a newer term (etcd restores the old leader's lease on restart, so
    // its key lingers for up to a TTL before a new election).
    const after = await cluster.leader({ not: before.term });
    expect(after.term).toBeGreaterThan(before.term);
    const report = await checkHistory(store);
    expect(report.violations, cluster.tails()).toEqual([]);
    expect(report.deadLettered).toBe(2);
    // The leader stopped deciding while etcd was away (its lease could not be kept): the
    // decisions after the outage came under the newer term.
    expect(Math.max(...report.terms)).toBeGreaterThan(before.term);
  }, 300_000);

  test('one member of a 3-member etcd cluster killed: the cluster keeps deciding', async () => {
    const db = await createTestDatabase();
    const store = testStore(db);
    const etcd = await startEtcdCluster(3);
    cleanups.push(() => etcd.destroy());
    const cluster = await startCluster(db.url, etcd.endpoints);
    const runs = await startWorkload(store, 2, { tasks: 12, sleep: 0.5 });
    await waitForClaims(store, runs, 4);
    await etcd.members[0]!.kill();
    await waitForRuns(store, runs, 180_000).catch((error) => {
      throw new Error(`${String(error)}\n${cluster.tails()}`);
    });
    for (const p of cluster.processes) expect(p.alive, p.tail()).toBe(true);
    const report = await checkHistory(store);
    expect(report.violations, cluster.tails()).toEqual([]);
    // And new work still runs on the remaining two members.
    const more = await startWorkload(store, 1, { tasks: 4, sleep: 0.1 });
    await waitForRuns(store, more, 120_000);
  }, 300_000);

  test('Postgres down for 30 s mid-run: processes stay up, report unready, and resume; nothing is lost', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'dagrun-pg-restart-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    // As root the server runs as user postgres, which must reach the data dir.
    await chmod(dataDir, 0o755);
    const settings = { fsync: 'off' };
    let server: EmbeddedPostgres = await startEmbeddedPostgres({
      env: process.env,
      dataDir,
      createPostgresUser: true,
      settings,
    });
    cleanups.push(() => server.stop());
    const pool = createPool(server.url, { max: 5 });
    cleanups.push(() => pool.end());
    await migrate(pool);
    const store = withSchemaValidation(new PostgresEventStore({ pool }));
    const etcd = await startEtcdCluster(1);
    cleanups.push(() => etcd.destroy());
    const cluster = await startCluster(server.url, etcd.endpoints);
    const runs = await startWorkload(store, 2, { tasks: 12, sleep: 0.5 });
    await waitForClaims(store, runs, 4);
    const port = server.port;
    await server.stop();
    const stoppedAt = Date.now();
    // Down for a while: every process must notice (unready) and keep going.
    const scheduler = cluster.processes.find((p) => p.role === 'scheduler')!;
    let sawUnready = false;
    for (let i = 0; i < 40 && !sawUnready; i++) {
      const response = await fetch(`${scheduler.healthUrl}/health/ready`).catch(() => undefined);
      sawUnready = response?.status === 503;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(sawUnready).toBe(true);
    // Unreachable for 30 s in all, then back on the same port.
    await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - stoppedAt))));
    for (const p of cluster.processes) expect(p.alive, p.tail()).toBe(true);
    server = await startEmbeddedPostgres({
      env: process.env,
      dataDir,
      port,
      createPostgresUser: true,
      settings,
    });
    await waitForRuns(store, runs, 180_000).catch((error) => {
      throw new Error(`${String(error)}\n${cluster.tails()}`);
    });
    for (const p of cluster.processes) expect(p.alive, p.tail()).toBe(true);
    const report = await checkHistory(store);
    expect(report.violations, cluster.tails()).toEqual([]);
  }, 300_000);
});
