/**
 * Opens what a CLI command needs — a pool and the event store — from the parsed config, and owns
 * their shutdown.
 */
import type pg from 'pg';
import type { Config } from '../config/index.js';
import { migrate } from '../db/migrate.js';
import { createPool } from '../db/pool.js';
import { ConfigError } from '../errors.js';
import { EventStoreDbEventStore } from '../events/eventstoredb/index.js';
import { PostgresEventStore } from '../events/postgres/index.js';
import type { EventStore } from '../events/types.js';
import { withSchemaValidation } from '../events/validating-store.js';
import type { Logger } from '../observability/logger.js';

export interface Runtime {
  readonly pool: pg.Pool;
  readonly store: EventStore;
  close(): Promise<void>;
}

/** Until the embedded Postgres lands, commands that touch the store need DATABASE_URL. */
export function requireDatabaseUrl(config: Config): string {
  if (!config.databaseUrl) {
    throw new ConfigError([
      'DATABASE_URL: not set; this command needs a Postgres server (e.g. postgres://postgres@127.0.0.1:5432/dagrun)',
    ]);
  }
  return config.databaseUrl;
}

/**
 * The event store the configuration chooses (DAGRUN_EVENT_STORE): the Postgres store on `pool`,
 * or EventStoreDB at ESDB_URL. Either way every append is schema-checked. Read models, attempt
 * logs and fences of Postgres stay in `pool`'s database.
 */
export function openEventStore(config: Config, pool: pg.Pool): EventStore {
  const store =
    config.eventStore.kind === 'eventstoredb'
      ? new EventStoreDbEventStore({ connectionString: config.eventStore.url })
      : new PostgresEventStore({ pool });
  return withSchemaValidation(store);
}

/**
 * What a long-running process of a deployment opens: a pool on DATABASE_URL, the migrations
 * (retried until Postgres answers, so processes may start before it), and the configured store.
 */
export async function openServiceDatabase(
  config: Config,
  applicationName: string,
  log: Logger,
  signal: AbortSignal,
): Promise<Runtime> {
  const pool = createPool(requireDatabaseUrl(config), { max: config.dbPoolSize, applicationName });
  // A pool error on an idle client (the server restarted) must not crash the process.
  pool.on('error', (error) => log.warn('idle database connection failed', { error: String(error) }));
  for (let pauseMs = 250; ; pauseMs = Math.min(pauseMs * 2, 5_000)) {
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
  return runtimeOn(config, pool);
}

export async function openRuntime(config: Config): Promise<Runtime> {
  const pool = createPool(requireDatabaseUrl(config), {
    max: config.dbPoolSize,
    applicationName: 'dagrun-cli',
  });
  return runtimeOn(config, pool);
}

/** The store on `pool`; closing the runtime closes both, the store first. */
function runtimeOn(config: Config, pool: pg.Pool): Runtime {
  const store = openEventStore(config, pool);
  return {
    pool,
    store,
    async close() {
      await store.close();
      await pool.end();
    },
  };
}

/** Opens the store for the length of `fn`, then closes everything. */
export async function withStore<T>(config: Config, fn: (store: EventStore) => Promise<T>): Promise<T> {
  const runtime = await openRuntime(config);
  try {
    return await fn(runtime.store);
  } finally {
    await runtime.close();
  }
}
