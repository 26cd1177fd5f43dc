/** The one place that makes Postgres connection pools, so every room gets the same settings. */
import pg from 'pg';

export interface PoolOptions {
  /** Upper bound on connections; the event store's live subscriptions hold one each. */
  readonly max?: number;
  readonly applicationName?: string;
}

export function createPool(connectionString: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'dagrun',
    // Fail fast instead of queueing forever when the server is gone; callers retry with backoff.
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client that loses its server emits 'error' on the pool; without a listener that
  // would crash the process. The next checkout gets a fresh connection.
  pool.on('error', () => {});
  return pool;
}
