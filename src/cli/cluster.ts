/**
 * Plumbing shared by the processes of a distributed deployment (`dagrun scheduler`, `dagrun
 * worker`): the settings they cannot run without, the database and event store (migrated at
 * start, retried while the server is not up yet), etcd coordination, waiting for a signal, and
 * the life of such a process around its own role (runClusterProcess).
 */
import type pg from 'pg';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Config } from '../config/index.js';
import { EtcdCoordination } from '../coordination/etcd/index.js';
import type { Coordination } from '../coordination/types.js';
import { ConfigError } from '../errors.js';
import type { EventStore } from '../events/types.js';
import {
  type ReadinessCheck,
  type ReadinessResult,
  startHealthServer,
} from '../observability/health-server.js';
import type { Logger } from '../observability/logger.js';
import { startTracing } from '../observability/tracing.js';
import type { CliContext } from './context.js';
import { openServiceDatabase } from './runtime.js';

export interface ClusterSettings {
  readonly databaseUrl: string;
  readonly etcdEndpoints: readonly string[];
  readonly token: string;
}

/** The settings every cluster process needs; all missing ones reported at once. */
export function requireClusterSettings(config: Config): ClusterSettings {
  const problems: string[] = [];
  if (!config.databaseUrl)
    problems.push('DATABASE_URL: not set; cluster processes share one Postgres server');
  if (!config.etcdEndpoints) problems.push('ETCD_ENDPOINTS: not set; e.g. http://127.0.0.1:2379');
  if (!config.cluster.token)
    problems.push(
      'DAGRUN_CLUSTER_TOKEN: not set; schedulers and workers must share a secret of 16+ characters',
    );
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    databaseUrl: config.databaseUrl as string,
    etcdEndpoints: config.etcdEndpoints as readonly string[],
    token: config.cluster.token as string,
  };
}

export function openCoordination(config: Config, settings: ClusterSettings, log: Logger): Coordination {
  return new EtcdCoordination({
    endpoints: [...settings.etcdEndpoints],
    prefix: config.cluster.etcdPrefix,
    leaseTtlSeconds: config.cluster.leaseTtlSeconds,
    log,
  });
}

/**
 * Resolves with the first SIGINT or SIGTERM; `signal` aborts at that moment. A second one exits
 * at once (128 + the signal number), for an operator who does not want to wait for the drain.
 *
 * The listeners stay installed (`on`, not `once`): execa's signal-exit re-raises a signal that
 * no other listener handles, which killed the process in the middle of its drain.
 */
export function shutdownSignal(): {
  readonly signal: AbortSignal;
  readonly received: Promise<NodeJS.Signals>;
} {
  const controller = new AbortController();
  const received = new Promise<NodeJS.Signals>((resolve) => {
    const on = (name: NodeJS.Signals) => {
      if (controller.signal.aborted) process.exit(128 + (name === 'SIGINT' ? 2 : 15));
      controller.abort(new Error(`received ${name}`));
      resolve(name);
    };
    process.on('SIGINT', () => on('SIGINT'));
    process.on('SIGTERM', () => on('SIGTERM'));
  });
  return { signal: controller.signal, received };
}

/** Pings Postgres quickly, for readiness. */
export async function pingDatabase(pool: pg.Pool): Promise<{ ok: boolean; detail?: unknown }> {
  try {
    await pool.query('SELECT 1');
    return { ok: true };
  } catch (error) {
    return { ok: false, detail: String(error) };
  }
}

/** Pings etcd, for readiness. */
export async function pingCoordination(coordination: Coordination): Promise<ReadinessResult> {
  try {
    await coordination.ping();
    return { ok: true };
  } catch (error) {
    return { ok: false, detail: String(error) };
  }
}

/** What a cluster process has open when its role starts; runClusterProcess closes it. */
export interface ClusterProcess {
  readonly settings: ClusterSettings;
  /** Aborts at the first SIGINT or SIGTERM. */
  readonly stopping: AbortSignal;
  readonly pool: pg.Pool;
  readonly store: EventStore;
  readonly coordination: Coordination;
  /** Served on /metrics; default process metrics are already in it. */
  readonly registry: Registry;
}

/** A started role (scheduler, worker), as runClusterProcess drives it. */
export interface ClusterRole {
  /** Readiness checks after `postgres`, which every cluster process has. */
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
  /** Says the process is up (log line and stdout), once health is served at `healthUrl`. */
  announce(healthUrl: string): void;
  /** Logs the signal and stops the role's own parts; what runClusterProcess opened closes after. */
  stop(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Runs a cluster process: settings, signal handling, tracing, database, etcd and a metrics
 * registry; then the role; then health and metrics on DAGRUN_HEALTH_HOST/PORT. On the first
 * signal it stops the role before closing etcd, health, the database and tracing, in that order,
 * and exits 0.
 */
export async function runClusterProcess(
  ctx: CliContext,
  name: 'scheduler' | 'worker',
  startRole: (process: ClusterProcess) => Promise<ClusterRole>,
): Promise<number> {
  const { config, log } = ctx;
  const settings = requireClusterSettings(config);
  const shutdown = shutdownSignal();
  const tracing = await startTracing(config.tracing, name, { log });
  const { pool, store, close } = await openServiceDatabase(config, `dagrun-${name}`, log, shutdown.signal);
  const coordination = openCoordination(config, settings, log);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const role = await startRole({ settings, stopping: shutdown.signal, pool, store, coordination, registry });
  const health = await startHealthServer({
    host: config.health.host,
    port: config.health.port ?? 0,
    registry,
    log,
    checks: { postgres: () => pingDatabase(pool), ...role.checks },
  });
  role.announce(health.url);
  const signal = await shutdown.received;
  await role.stop(signal);
  await coordination.close();
  await health.close();
  await close();
  await tracing.shutdown();
  log.info(`${name} stopped`);
  return 0;
}
