/**
 * `dagrun worker`: a worker of a distributed deployment (run many). It registers in etcd under a
 * lease (its id, capacity, labels and version), finds the scheduler leader there, pulls work from
 * it with the cluster token, claims and runs attempts and appends their outcomes to the event
 * store itself. If its lease is lost (paused or cut off past the TTL) it registers again; the
 * leader has meanwhile abandoned its running attempts, and their outcomes are refused (fenced).
 *
 * SIGINT/SIGTERM drain: stop claiming, let in-flight attempts finish within DAGRUN_DRAIN_GRACE_MS
 * (abandon the rest), tell the leader, revoke the lease, exit 0.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Coordination, Registration, WorkerRecord } from '../../coordination/types.js';
import type { Logger } from '../../observability/logger.js';
import { DAGRUN_VERSION } from '../../version.js';
import { PostgresAttemptLogStore } from '../../workers/attempt-logs.js';
import { CLAIM_AHEAD_PER_SLOT } from '../../workers/claim-ahead.js';
import { TaskTypeRouter } from '../../workers/executors/index.js';
import { RemoteWorkSource } from '../../workers/remote-source.js';
import { type AttemptEnd, Worker } from '../../workers/worker.js';
import { type ClusterProcess, type ClusterRole, runClusterProcess } from '../cluster.js';
import { type CliContext, type GlobalOptions, runAction } from '../context.js';

interface WorkerFlags {
  readonly concurrency?: string;
  readonly claimAhead?: string;
  readonly labels?: string;
  readonly id?: string;
  readonly scriptsDir: string;
  readonly healthHost?: string;
  readonly healthPort?: string;
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run a worker of a distributed deployment: pull attempts from the scheduler leader')
    .option('--concurrency <n>', 'attempts run at once (env DAGRUN_WORKER_CONCURRENCY)')
    .option(
      '--claim-ahead <n>',
      'attempts claimed beyond the free slots while tasks are short; 0: off (env DAGRUN_WORKER_CLAIM_AHEAD)',
    )
    .option('--labels <list>', 'labels this worker offers, comma-separated (env DAGRUN_WORKER_LABELS)')
    .option('--id <name>', 'worker name; the id is <name>.<random> (env DAGRUN_WORKER_ID; default host-pid)')
    .option('--scripts-dir <dir>', 'where relative Python scripts and working directories resolve', '.')
    .option('--health-host <host>', 'health and metrics host (env DAGRUN_HEALTH_HOST)')
    .option('--health-port <port>', 'health and metrics port; 0: any (env DAGRUN_HEALTH_PORT)')
    .action(async (flags: WorkerFlags, command: Command) => {
      await runAction(
        command.optsWithGlobals<GlobalOptions>(),
        (ctx) => runClusterProcess(ctx, 'worker', (opened) => startWorker(ctx, flags.scriptsDir, opened)),
        {
          DAGRUN_WORKER_CONCURRENCY: flags.concurrency,
          DAGRUN_WORKER_CLAIM_AHEAD: flags.claimAhead,
          DAGRUN_WORKER_LABELS: flags.labels,
          DAGRUN_WORKER_ID: flags.id,
          DAGRUN_HEALTH_HOST: flags.healthHost,
          DAGRUN_HEALTH_PORT: flags.healthPort,
        },
      );
    });
}

/**
 * Starts this process's worker: registered in etcd under a lease it keeps, pulling from the
 * leader, with `scriptsDir` as the base of relative scripts and working directories.
 */
async function startWorker(
  ctx: CliContext,
  scriptsDir: string,
  opened: ClusterProcess,
): Promise<ClusterRole> {
  const { settings, stopping, pool, store, coordination, registry } = opened;
  const { config, log } = ctx;
  // Unique per process start: a worker restarted under the same name (a container, a fixed --id)
  // must not inherit the attempts of the one that died — the leader declares that one lost by its
  // id. The name is the prefix: `<name>.<6 hex>`.
  const id = `${config.cluster.workerId ?? `${hostname()}-${process.pid}`}.${randomBytes(3).toString('hex')}`;
  const source = new RemoteWorkSource({ coordination, token: settings.token, log });
  const metrics = workerMetrics(registry);
  const record: WorkerRecord = {
    id,
    capacity: config.workers.concurrency,
    labels: config.cluster.workerLabels,
    version: DAGRUN_VERSION,
    host: hostname(),
    pid: process.pid,
  };
  const worker = new Worker({
    id,
    capacity: record.capacity,
    claimAhead: { depth: config.workers.claimAhead ?? CLAIM_AHEAD_PER_SLOT * record.capacity },
    labels: record.labels,
    source,
    store,
    executor: new TaskTypeRouter({ inheritedEnv: config.workers.inheritedEnv }),
    logs: new PostgresAttemptLogStore(pool),
    log,
    baseDir: resolve(scriptsDir),
    pythonInterpreter: config.workers.python,
    pollWaitMs: 10_000,
    onAttemptEnd: metrics.attemptEnded,
  });
  metrics.running(
    () => worker.running,
    () => worker.waiting,
  );
  const lease = new KeptRegistration(coordination, record, log, stopping);
  await lease.start();
  await worker.start();
  return {
    checks: {
      registered: async () => ({ ok: lease.registered }),
      leader: async () => ({ ok: source.leaderAddress !== undefined, detail: source.leaderAddress }),
      worker: async () => ({
        ok: true,
        detail: { running: worker.running, waiting: worker.waiting, capacity: record.capacity },
      }),
    },
    announce(healthUrl) {
      log.info('worker started', { workerId: id, capacity: record.capacity, labels: record.labels });
      ctx.out(`dagrun worker ${id}: ${record.capacity} slots; health on ${healthUrl}`);
    },
    async stop(signal) {
      log.info('draining', { signal, graceMs: config.cluster.drainGraceMs });
      await worker.drain(config.cluster.drainGraceMs);
      await lease.stop();
      await source.close();
    },
  };
}

/** The worker's registration, registered again whenever its lease is lost, until stopped. */
class KeptRegistration {
  private current: Registration | undefined;
  private keeping: Promise<void> | undefined;

  constructor(
    private readonly coordination: Coordination,
    private readonly record: WorkerRecord,
    private readonly log: Logger,
    private readonly stopping: AbortSignal,
  ) {}

  get registered(): boolean {
    return this.current !== undefined;
  }

  /** Registers (retrying until etcd answers), then keeps the registration. */
  async start(): Promise<void> {
    await this.register();
    this.keeping = this.keep();
  }

  async stop(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    await current
      ?.revoke()
      .catch((error) => this.log.warn('revoking the lease failed', { error: String(error) }));
    await this.keeping;
  }

  private async keep(): Promise<void> {
    while (!this.stopping.aborted) {
      const current = this.current;
      if (!current) return;
      await Promise.race([
        current.lost,
        new Promise((r) => this.stopping.addEventListener('abort', r, { once: true })),
      ]);
      if (this.stopping.aborted) return;
      this.current = undefined;
      this.log.warn('worker registration lost; registering again', { workerId: this.record.id });
      await this.register();
    }
  }

  private async register(): Promise<void> {
    for (let pauseMs = 250; !this.stopping.aborted; pauseMs = Math.min(pauseMs * 2, 5000)) {
      try {
        this.current = await this.coordination.register(this.record);
        return;
      } catch (error) {
        this.log.warn('registering failed; retrying', { error: String(error), pauseMs });
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    }
  }
}

function workerMetrics(registry: Registry) {
  const attempts = new Counter({
    name: 'dagrun_worker_attempts_total',
    help: 'Attempts this worker ran, by task type and outcome',
    labelNames: ['type', 'outcome'],
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'dagrun_worker_attempt_duration_seconds',
    help: 'How long attempts ran, by task type',
    labelNames: ['type'],
    buckets: [0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120, 600],
    registers: [registry],
  });
  return {
    attemptEnded(end: AttemptEnd): void {
      attempts.inc({ type: end.taskType, outcome: end.outcome });
      durations.observe({ type: end.taskType }, end.durationMs / 1000);
    },
    running(read: () => number, waiting: () => number): void {
      new Gauge({
        name: 'dagrun_workers_running_attempts',
        help: 'Attempts running on this worker',
        registers: [registry],
        collect() {
          this.set(read());
        },
      });
      new Gauge({
        name: 'dagrun_worker_waiting_attempts',
        help: 'Attempts this worker claimed ahead that wait for a free slot',
        registers: [registry],
        collect() {
          this.set(waiting());
        },
      });
    },
  };
}
