/**
 * etcd clusters of the test's own (1 or 3 members) on loopback, whose members can be stopped and
 * started again on the same data and ports — for the faults the shared etcd must never see.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './etcd-server.js';

export interface EtcdMember {
  readonly name: string;
  readonly client: string;
  readonly running: boolean;
  start(): Promise<void>;
  /** SIGKILL, keeping its data (start() brings it back). */
  kill(): Promise<void>;
}

export interface EtcdTestCluster {
  readonly members: readonly EtcdMember[];
  readonly endpoints: string[];
  /** Kills every member and removes the data. */
  destroy(): Promise<void>;
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(500) });
    return ((await response.json()) as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

export async function startEtcdCluster(size: 1 | 3): Promise<EtcdTestCluster> {
  const root = await mkdtemp(join(tmpdir(), 'dagrun-etcd-cluster-'));
  const specs = [];
  for (let i = 1; i <= size; i++) {
    specs.push({
      name: `m${i}`,
      client: `http://127.0.0.1:${await freePort()}`,
      peer: `http://127.0.0.1:${await freePort()}`,
    });
  }
  const initialCluster = specs.map((s) => `${s.name}=${s.peer}`).join(',');
  const members = specs.map((spec) => {
    let child: ChildProcess | undefined;
    const member: EtcdMember = {
      name: spec.name,
      client: spec.client,
      get running() {
        return child !== undefined && child.exitCode === null && child.signalCode === null;
      },
      async start() {
        child = spawn(
          'etcd',
          [
            `--name=${spec.name}`,
            `--data-dir=${join(root, spec.name)}`,
            `--listen-client-urls=${spec.client}`,
            `--advertise-client-urls=${spec.client}`,
            `--listen-peer-urls=${spec.peer}`,
            `--initial-advertise-peer-urls=${spec.peer}`,
            `--initial-cluster=${initialCluster}`,
            '--initial-cluster-state=new',
            '--initial-cluster-token=dagrun-test',
            '--log-level=error',
          ],
          { stdio: 'ignore' },
        );
      },
      async kill() {
        const c = child;
        if (!c || c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise((resolve) => c.once('exit', resolve));
        c.kill('SIGKILL');
        await exited;
      },
    };
    return member;
  });
  await Promise.all(members.map((m) => m.start()));
  const deadline = Date.now() + 30_000;
  while (!(await Promise.all(members.map((m) => healthy(m.client)))).every(Boolean)) {
    if (Date.now() > deadline) throw new Error('the etcd test cluster did not become healthy');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    members,
    endpoints: members.map((m) => m.client),
    async destroy() {
      await Promise.all(members.map((m) => m.kill()));
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Waits until the member answers healthy again (after `start()`). */
export async function waitHealthy(member: EtcdMember, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await healthy(member.client))) {
    if (Date.now() > deadline) throw new Error(`etcd member ${member.name} not healthy`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
