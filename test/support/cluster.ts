/**
 * A real dagrun cluster for end-to-end fault tests: `dagrun scheduler`, `dagrun worker`,
 * `dagrun api` and `dagrun projector` as separate processes against one Postgres database and an
 * etcd, each under its own etcd prefix so clusters of different test files never meet.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstValueFrom } from 'rxjs';
import { filter, timeout } from 'rxjs/operators';
import { EtcdCoordination } from '../../src/coordination/etcd/index.js';
import { type LeaderInfo, SCHEDULER_ELECTION } from '../../src/coordination/types.js';
import { createLogger } from '../../src/observability/logger.js';
import { exited, spawnDagrun, waitForLine } from './cli.js';

export type Role = 'scheduler' | 'worker' | 'api' | 'projector';

export interface ClusterOptions {
  readonly databaseUrl: string;
  readonly etcdEndpoints: readonly string[];
  readonly leaseTtlSeconds?: number;
  /** Extra environment for every process. */
  readonly env?: Record<string, string>;
}

export class ClusterProcess {
  /** The last lines it printed (stdout and stderr), for failure messages. */
  private output: string[] = [];
  readonly exit: Promise<number | null>;
  healthUrl = '';
  dispatchUrl = '';
  /** A worker's labels (to start a like one in its place). */
  labels: readonly string[] = [];

  constructor(
    readonly role: Role,
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    // DAGRUN_TEST_LOG_DIR=dir keeps each process's whole output in dir/<name>-<pid>.log.
    const logDir = process.env.DAGRUN_TEST_LOG_DIR;
    const file = logDir ? join(logDir, `${name}-${child.pid}.log`) : undefined;
    const keep = (chunk: Buffer) => {
      if (file) appendFileSync(file, chunk);
      this.output.push(...chunk.toString().split('\n').filter(Boolean));
      if (this.output.length > 400) this.output = this.output.slice(-300);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exit = exited(child);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.alive) process.kill(this.pid, signal);
  }

  /** The recent output, to explain a failure. */
  tail(lines = 60): string {
    return `--- ${this.name} (pid ${this.child.pid})\n${this.output.slice(-lines).join('\n')}`;
  }

  lines(): readonly string[] {
    return this.output;
  }
}

export class TestCluster {
  readonly token = `cluster-${randomUUID()}`;
  readonly prefix = `/dagrun-test-${randomUUID().slice(0, 8)}/`;
  readonly processes: ClusterProcess[] = [];
  private readonly coordination: EtcdCoordination;
  private counter = 0;
  /** The API's base URL, once `startApi` ran. */
  apiUrl = '';

  constructor(readonly options: ClusterOptions) {
    this.coordination = new EtcdCoordination({
      endpoints: [...options.etcdEndpoints],
      prefix: this.prefix,
      leaseTtlSeconds: this.ttl,
      log: createLogger({ level: 'error' }),
    });
  }

  get ttl(): number {
    return this.options.leaseTtlSeconds ?? 2;
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      DATABASE_URL: this.options.databaseUrl,
      ETCD_ENDPOINTS: this.options.etcdEndpoints.join(','),
      DAGRUN_CLUSTER_TOKEN: this.token,
      DAGRUN_ETCD_PREFIX: this.prefix,
      DAGRUN_LEASE_TTL_S: String(this.ttl),
      DAGRUN_DISPATCH_PORT: '0',
      DAGRUN_HEALTH_PORT: '0',
      DAGRUN_LOG_LEVEL: 'info',
      ...this.options.env,
      ...extra,
    };
  }

  async startScheduler(): Promise<ClusterProcess> {
    const name = `scheduler-${++this.counter}`;
    const proc = new ClusterProcess('scheduler', name, spawnDagrun(['scheduler'], this.env()));
    this.processes.push(proc);
    const match = await waitForLine(proc.child, /dispatch on (\S+) .*health on (\S+)/, 90_000).catch(
      (error) => {
        throw new Error(`${String(error)}\n${proc.tail()}`);
      },
    );
    proc.dispatchUrl = match[1] as string;
    proc.healthUrl = match[2] as string;
    return proc;
  }

  async startWorker(
    options: { labels?: readonly string[]; concurrency?: number; id?: string } = {},
  ): Promise<ClusterProcess> {
    const name = options.id ?? `worker-${++this.counter}`;
    const proc = new ClusterProcess(
      'worker',
      name,
      spawnDagrun(
        ['worker'],
        this.env({
          DAGRUN_WORKER_ID: name,
          DAGRUN_WORKER_CONCURRENCY: String(options.concurrency ?? 4),
          DAGRUN_WORKER_LABELS: (options.labels ?? []).join(','),
          DAGRUN_DRAIN_GRACE_MS: '5000',
        }),
      ),
    );
    proc.labels = options.labels ?? [];
    this.processes.push(proc);
    const match = await waitForLine(proc.child, /slots; health on (\S+)/, 90_000).catch((error) => {
      throw new Error(`${String(error)}\n${proc.tail()}`);
    });
    proc.healthUrl = match[1] as string;
    return proc;
  }

  /** `dagrun api` on a free loopback port; its URL is `apiUrl`. */
  async startApi(): Promise<ClusterProcess> {
    const proc = new ClusterProcess(
      'api',
      `api-${++this.counter}`,
      spawnDagrun(['api'], this.env({ DAGRUN_PORT: '0' })),
    );
    this.processes.push(proc);
    const match = await waitForLine(proc.child, /API on (\S+)/, 90_000).catch((error) => {
      throw new Error(`${String(error)}\n${proc.tail()}`);
    });
    proc.healthUrl = match[1] as string;
    this.apiUrl = match[1] as string;
    return proc;
  }

  async startProjector(): Promise<ClusterProcess> {
    const proc = new ClusterProcess(
      'projector',
      `projector-${++this.counter}`,
      spawnDagrun(['projector'], this.env()),
    );
    this.processes.push(proc);
    const match = await waitForLine(proc.child, /health on (\S+)/, 90_000).catch((error) => {
      throw new Error(`${String(error)}\n${proc.tail()}`);
    });
    proc.healthUrl = match[1] as string;
    return proc;
  }

  /** The current leader's info once one has proclaimed a term (optionally: other than `not`). */
  async leaderInfo(options: { not?: number; timeoutMs?: number } = {}): Promise<LeaderInfo> {
    return firstValueFrom(
      this.coordination.observeLeader(SCHEDULER_ELECTION).pipe(
        filter(
          (leader): leader is LeaderInfo =>
            leader?.value.term !== undefined && leader.value.term !== options.not,
        ),
        timeout(options.timeoutMs ?? 60_000),
      ),
    );
  }

  /** The scheduler process that leads now. */
  async leader(
    options: { not?: number; timeoutMs?: number } = {},
  ): Promise<{ proc: ClusterProcess; term: number }> {
    const info = await this.leaderInfo(options);
    const proc = this.processes.find((p) => p.role === 'scheduler' && p.dispatchUrl === info.value.address);
    if (!proc) throw new Error(`the leader at ${String(info.value.address)} is not one of ours`);
    return { proc, term: info.value.term as number };
  }

  /** Workers currently registered in etcd. */
  async registeredWorkers(): Promise<string[]> {
    return (await this.coordination.workers()).map((w) => w.id);
  }

  /** Everything each process printed lately (for an assertion message). */
  tails(): string {
    return this.processes.map((p) => p.tail(40)).join('\n');
  }

  /** SIGTERM everything, then SIGKILL what is left after a while; closes the etcd client. */
  async stop(): Promise<void> {
    for (const p of this.processes) {
      p.signal('SIGCONT');
      p.signal('SIGTERM');
    }
    await Promise.all(
      this.processes.map((p) =>
        Promise.race([p.exit, new Promise((r) => setTimeout(r, 15_000))]).then(() => p.signal('SIGKILL')),
      ),
    );
    await this.coordination.close();
  }
}
