/**
 * Plumbing shared by the processes of a distributed deployment (`dagrun scheduler`, `dagrun
 * worker`): the settings they cannot run without, the database and event store (migrated at
 * start, retried while the server is not up yet), etcd coordination, and waiting for a signal.
 */
import type pg from 'pg';
import type { Config } from '../config/index.js';
import { EtcdCoordination } from '../coordination/etcd/index.js';
import type { Coordination } from '../coordination/types.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../observability/logger.js';

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
