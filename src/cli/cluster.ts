/**
 * Plumbing shared by the processes of a distributed deployment (`dagrun scheduler`, `dagrun
 * worker`): the settings they cannot run without, the database and event store (migrated at
 * start, retried while the server is not up yet), etcd coordination, and waiting for a signal.
 */
import type pg from 'pg';
import type { Config } from '../config/index.js';
import { EtcdCoordination } from '../coordination/etcd/index.js';
import type { Coordination } from '../coordination/types.js';
import { migrate } from '../db/migrate.js';
import { createPool } from '../db/pool.js';
import { ConfigError } from '../errors.js';
import { PostgresEventStore } from '../events/postgres/index.js';
import type { EventStore } from '../events/types.js';
import { withSchemaValidation } from '../events/validating-store.js';
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
  if (config.eventStore.kind !== 'postgres')
    problems.push('DAGRUN_EVENT_STORE: only postgres is wired into the cluster processes so far');
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    databaseUrl: config.databaseUrl as string,
    etcdEndpoints: config.etcdEndpoints as readonly string[],
    token: config.cluster.token as string,
  };
}

export interface ClusterStore {
  readonly pool: pg.Pool;
  readonly store: EventStore;
  close(): Promise<void>;
}

/** A pool and the event store on it, after the migrations (retried until Postgres answers). */
export async function openClusterStore(
  config: Config,
  settings: ClusterSettings,
  applicationName: string,
  log: Logger,
  signal: AbortSignal,
): Promise<ClusterStore> {
  const pool = createPool(settings.databaseUrl, { max: config.dbPoolSize, applicationName });
  // A pool error on an idle client (the server restarted) must not crash the process.
  pool.on('error', (error) => log.warn('idle database connection failed', { error: String(error) }));
  for (let pauseMs = 250; ; pauseMs = Math.min(pauseMs * 2, 5000)) {
    try {
      await migrate(pool);
      break;
    } catch (error) {
      if (signal.aborted) {
        await pool.end();
        throw error;
      }
      log.warn('database not ready; retrying', { error: String(error), pauseMs });
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
  const store = withSchemaValidation(new PostgresEventStore({ pool }));
  return {
    pool,
    store,
    async close() {
      await store.close();
      await pool.end();
    },
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
