/**
 * What only etcd can show: leases that expire. A real child process is paused (SIGSTOP) past its
 * TTL, a real client is cut off from etcd behind a TCP proxy, a leader is killed with SIGKILL —
 * and the other side takes over, while the one that lost learns it at once from `lost`.
 * No timing is asserted (CI machines are loaded); measured times are printed for information.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { afterEach, describe, expect, it } from 'vitest';
import { EtcdCoordination } from '../../../src/coordination/etcd/index.js';
import type { LeaderInfo, RegistryChange } from '../../../src/coordination/types.js';
import { etcdEndpoints } from '../../support/database.js';
import { collect, eventually, sleep, track, uniquePrefix, within, workerRecord } from './support.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const CHILD = join(REPO_ROOT, 'test/fixtures/coordination-child.ts');
const TTL_SECONDS = 2;
const ELECTION = 'scheduler';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function adapter(prefix: string, endpoints = etcdEndpoints()): EtcdCoordination {
  const coordination = new EtcdCoordination({ endpoints, prefix, leaseTtlSeconds: TTL_SECONDS });
  cleanups.push(() => coordination.close());
  return coordination;
}

interface ChildEvent {
  readonly event: string;
  readonly id: string;
  /** Date.now() in the child when it printed the line. */
  readonly at: number;
}

interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Waits for the child to print `event`. */
  next(event: string, timeout?: number): Promise<ChildEvent & { receivedAt: number }>;
  stderr(): string;
}

/** Starts the fixture: it registers worker `id`, then campaigns in `ELECTION` under `prefix`. */
function startChild(id: string, prefix: string): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ETCD_ENDPOINTS: etcdEndpoints().join(','),
      DAGRUN_PREFIX: prefix,
      CHILD_ID: id,
      ELECTION,
      TTL_SECONDS: String(TTL_SECONDS),
    },
  });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const events: (ChildEvent & { receivedAt: number })[] = [];
  const waiters = new Set<() => void>();
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    for (let newline = stdout.indexOf('\n'); newline >= 0; newline = stdout.indexOf('\n')) {
      const line = stdout.slice(0, newline);
      stdout = stdout.slice(newline + 1);
      events.push({ ...(JSON.parse(line) as ChildEvent), receivedAt: Date.now() });
      for (const wake of waiters) wake();
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
  });
  return {
    process: child,
    pid: child.pid ?? -1,
    stderr: () => stderr,
    next: (event, timeout = 45_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find((e) => e.event === event);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`child ${id} did not print ${event} in ${timeout} ms; stderr:\n${stderr}`));
        }, timeout);
        waiters.add(check);
        check();
      }),
  };
}

/** How the child's leases ended, from its adapter's log lines: `holder: end`. */
function lossReasons(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => line.includes('etcd lease lost'))
    .map((line) => {
      const { holder, end } = JSON.parse(line) as { holder: string; end: string };
      return `${holder}: ${end}`;
    })
    .join(', ');
}

describe('etcd coordination: leases that expire', () => {
  it('a paused leader loses leadership and registration after its TTL, and learns it on waking', {
    timeout: 90_000,
  }, async () => {
    const prefix = uniquePrefix();
    const child = startChild('paused', prefix);
    await child.next('elected');

    const coordination = adapter(prefix);
    const changes = collect(coordination.watchWorkers());
    const leaders = collect(coordination.observeLeader(ELECTION));
    await eventually(() => expect(changes.values).toContainEqual(expect.objectContaining({ type: 'put' })));
    await eventually(() => expect(leaders.values.at(-1)?.id).toBe('paused'));
    const standby = track(coordination.campaign(ELECTION, 'standby'));

    process.kill(child.pid, 'SIGSTOP');
    cleanups.push(() => child.process.kill('SIGCONT'));
    const stoppedAt = performance.now();

    await eventually(
      () => expect(changes.values).toContainEqual<RegistryChange>({ type: 'delete', workerId: 'paused' }),
      30_000,
    );
    const leadership = await within(standby.promise, 30_000, 'standby elected');
    const takeoverMs = performance.now() - stoppedAt;
    await eventually(() => expect(leaders.values.at(-1)?.id).toBe('standby'));

    const continuedAt = Date.now();
    process.kill(child.pid, 'SIGCONT');
    const registrationLost = await child.next('registration-lost', 30_000);
    const leadershipLost = await child.next('leadership-lost', 30_000);
    console.info(
      `paused leader (TTL ${TTL_SECONDS} s): standby elected ${Math.round(takeoverMs)} ms after SIGSTOP; ` +
        `after SIGCONT the child reported registration lost in ${registrationLost.receivedAt - continuedAt} ms ` +
        `and leadership lost in ${leadershipLost.receivedAt - continuedAt} ms (${lossReasons(child.stderr())})`,
    );

    // Awake again, the child brings back nothing: its key stays gone, the standby still leads.
    await sleep(TTL_SECONDS * 1000);
    expect((await coordination.workers()).map((w) => w.id)).not.toContain('paused');
    expect(leaders.values.at(-1)?.id).toBe('standby');
    expect(track(leadership.lost).state).toBe('pending');
    await leadership.resign();
  });

  it('a holder cut off from etcd loses its leadership, registration and lock after about the TTL', {
    timeout: 90_000,
  }, async () => {
    const prefix = uniquePrefix();
    const proxy: TcpProxy = await startTcpProxy(etcdEndpoints()[0]!);
    cleanups.push(() => proxy.close());
    const cutOff = adapter(prefix, [proxy.url]);
    const direct = adapter(prefix);

    const registration = await cutOff.register(workerRecord('cut-off'));
    const leadership = await cutOff.campaign(ELECTION, 'cut-off');
    const lock = await cutOff.lock('resource', { waitMs: 5_000 });
    const standby = track(direct.campaign(ELECTION, 'standby'));
    const changes = collect(direct.watchWorkers());
    await eventually(() => expect(changes.values).toHaveLength(1));

    proxy.blackhole();
    const cutAt = performance.now();
    await within(
      Promise.all([registration.lost, leadership.lost, lock.lost]),
      30_000,
      'lost of the cut-off holder',
    );
    const lostMs = performance.now() - cutAt;
    // A fresh client behind the same cut: ping fails on its own deadline, not after etcd3's retries.
    const fresh = adapter(prefix, [proxy.url]);
    const pingAt = performance.now();
    await expect(within(fresh.ping(), 10_000, 'ping while cut off')).rejects.toThrow();
    const pingMs = performance.now() - pingAt;

    // etcd cannot hear from it either, so its keys expire and the others take over.
    const taken = await within(standby.promise, 30_000, 'standby elected');
    await eventually(
      () => expect(changes.values).toContainEqual<RegistryChange>({ type: 'delete', workerId: 'cut-off' }),
      30_000,
    );
    const relock = await within(direct.lock('resource', { waitMs: 30_000 }), 35_000, 'lock after expiry');
    console.info(
      `cut-off holder (TTL ${TTL_SECONDS} s): lost resolved ${Math.round(lostMs)} ms after the cut; ` +
        `ping rejected after ${Math.round(pingMs)} ms; ` +
        `standby elected ${Math.round(performance.now() - cutAt)} ms after it (at the latest)`,
    );

    // The path comes back: the holder that lost does not revive anything.
    proxy.heal();
    await eventually(() => cutOff.ping(), 30_000);
    await sleep(TTL_SECONDS * 1000);
    expect((await direct.workers()).map((w) => w.id)).not.toContain('cut-off');
    const leaders = collect(direct.observeLeader(ELECTION));
    await eventually(() => expect(leaders.values.at(-1)?.id).toBe('standby'));
    await relock.release();
    await taken.resign();
  });

  it('fails over to the standby after the leader is killed with SIGKILL', { timeout: 180_000 }, async () => {
    const trials = Number(process.env['FAILOVER_TRIALS'] ?? 1);
    const prefix = uniquePrefix();
    const coordination = adapter(prefix);
    const leaders = collect(coordination.observeLeader(ELECTION));
    const times: number[] = [];
    for (let trial = 0; trial < trials; trial++) {
      const child = startChild(`killed-${trial}`, prefix);
      await child.next('elected');
      const standby = track(coordination.campaign(ELECTION, 'standby'));
      // The child's last keepalive was a moment ago; kill it at a random point of its cadence.
      await sleep(Math.random() * 700);
      process.kill(child.pid, 'SIGKILL');
      const killedAt = performance.now();
      const leadership = await within(standby.promise, 30_000, 'standby elected');
      times.push(performance.now() - killedAt);
      await eventually(() => expect(leaders.values.at(-1)?.id).toBe('standby'));
      await leadership.resign();
      await eventually(() => expect(leaders.values.at(-1)).toBeUndefined());
    }
    console.info(
      `failover after SIGKILL of the leader (TTL ${TTL_SECONDS} s), ${trials} trial(s): ` +
        times.map((ms) => `${Math.round(ms)} ms`).join(', '),
    );
  });

  it('a leader whose key is deleted by someone else loses leadership; proclaim then changes nothing', async () => {
    const prefix = uniquePrefix();
    const coordination = adapter(prefix);
    const raw = new Etcd3({ hosts: etcdEndpoints() });
    cleanups.push(() => raw.close());

    const leadership = await coordination.campaign(ELECTION, 'a', { value: { term: 1 } });
    // etcd3's own Election reads the same layout.
    const seen = await raw.namespace(prefix).election(ELECTION).leader();
    expect(JSON.parse(seen ?? 'null')).toEqual<LeaderInfo>({ id: 'a', value: { term: 1 } });

    await raw.namespace(prefix).delete().prefix(`election/${ELECTION}/`);
    await within(leadership.lost, 15_000, 'leadership.lost after the key was deleted');
    await leadership.proclaim({ term: 2 });
    expect(await raw.namespace(prefix).getAll().prefix('election/').keys()).toEqual([]);
    // And the next candidate is elected at once.
    const next = await within(coordination.campaign(ELECTION, 'b'), 10_000, 'b elected');
    await next.resign();
  });
});
