/**
 * Opens what a CLI command needs — a pool and the event store — from the parsed config, and owns
 * their shutdown.
 */
import type pg from 'pg';
import type { Config } from '../config/index.js';
import { createPool } from '../db/pool.js';
import { ConfigError } from '../errors.js';
import { PostgresEventStore } from '../events/postgres/index.js';
import type { EventStore } from '../events/types.js';
import { withSchemaValidation } from '../events/validating-store.js';

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

export async function openRuntime(config: Config): Promise<Runtime> {
  const pool = createPool(requireDatabaseUrl(config), {
    max: config.dbPoolSize,
    applicationName: 'dagrun-cli',
  });
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

/** Opens the store for the length of `fn`, then closes everything. */
export async function withStore<T>(config: Config, fn: (store: EventStore) => Promise<T>): Promise<T> {
  const runtime = await openRuntime(config);
  try {
    return await fn(runtime.store);
  } finally {
    await runtime.close();
  }
}
