/**
 * The database a local command runs on: the server at DATABASE_URL when one is configured,
 * else the embedded Postgres in the data dir (nothing to install). Migrations are applied
 * either way, so a fresh data dir or database is ready to use.
 */
import { join } from 'node:path';
import type pg from 'pg';
import type { Config } from '../config/index.js';
import { startEmbeddedPostgres } from '../db/embedded.js';
import { migrate } from '../db/migrate.js';
import { createPool } from '../db/pool.js';
import type { Logger } from '../observability/logger.js';

export interface LocalDatabase {
  readonly url: string;
  readonly pool: pg.Pool;
  readonly embedded: boolean;
  /** Ends the pool, then stops the embedded server if there is one. */
  close(): Promise<void>;
}

export async function openLocalDatabase(config: Config, log: Logger, poolSize = 20): Promise<LocalDatabase> {
  const server = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: config.dataDir,
        // Postgres refuses to run as root; as root, an unprivileged OS user is created to run it.
        createPostgresUser: config.embedded.createPostgresUser,
        env: config.embedded.serverEnv,
        log: (level, message, fields) =>
          log.log(level, message, { component: 'embedded-postgres', ...fields }),
      });
  const url = config.databaseUrl ?? (server?.url as string);
  const pool = createPool(url, { max: poolSize, applicationName: 'dagrun' });
  try {
    await migrate(pool);
  } catch (error) {
    await pool.end();
    await server?.stop();
    throw error;
  }
  return {
    url,
    pool,
    embedded: server !== undefined,
    async close() {
      await pool.end();
      await server?.stop();
    },
  };
}

/** Where `dagrun run` writes its JSON logs while the terminal shows progress. */
export function runLogFile(config: Config): string {
  return join(config.dataDir, 'dagrun.log');
}
